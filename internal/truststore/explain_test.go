package truststore_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"testing"
	"time"

	"edge/internal/certfmt"
	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

// The explanation `edge verify`, /connections/recent and the web console
// share: an expired leaf is told with the check, the certificate, why,
// the trust-store summary and the chain with each link's source.
func TestExplainExpiredLeaf(t *testing.T) {
	s := testutil.NewSeed(t)
	store := newStore(t, "seed", []*x509.Certificate{s.A.Cert, s.B.Cert})
	leaf := testutil.Client(t, s.B, testutil.Expired("late"))
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	presented := chain(leaf)
	v := store.Verify(presented, truststore.VerifyOptions{Now: at})
	e := truststore.Explain(v, presented, store, at)
	var b strings.Builder
	e.WriteText(&b)
	certLine := func(depth int, c *x509.Certificate, src string) string {
		return fmt.Sprintf("  #%d %q\n     issuer %q\n     serial %s  NotBefore=%s;NotAfter=%s  (%s)\n", depth, certfmt.DN(c.RawSubject), certfmt.DN(c.RawIssuer), certfmt.Serial(c),
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), src)
	}
	want := "tls_verify_status: Failed:ClientCertExpired\n" +
		"failed check:      validity period\n" +
		"on certificate:    #0 \"CN=late\"\n" +
		fmt.Sprintf("why:               \"CN=late\" expired at %s\n", leaf.Cert.NotAfter.UTC().Format(time.RFC3339)) +
		"verified at:       2030-01-02T03:04:05Z (trust store: 2 CA certificates, 0 revoked entries, revocation_check alb)\n" +
		"chain built:\n" +
		certLine(0, leaf.Cert, "presented") + certLine(1, s.B.Cert, "presented") + certLine(2, s.A.Cert, "trust store")
	if b.String() != want {
		t.Errorf("explanation:\n%s\nwant:\n%s", b.String(), want)
	}
	if e.Failed == nil || e.Failed.Depth != 0 || !e.Built || e.Check != truststore.CheckName(truststore.ClientCertExpired) {
		t.Errorf("fields: %+v", e)
	}
}

// An untrusted chain is told as presented, with no path built.
func TestExplainUntrustedShowsPresented(t *testing.T) {
	s := testutil.NewSeed(t)
	store := newStore(t, "seed", []*x509.Certificate{s.A.Cert, s.B.Cert})
	presented := chain(s.H)
	e := truststore.Explain(store.Verify(presented, truststore.VerifyOptions{}), presented, store, time.Now())
	var b strings.Builder
	e.WriteText(&b)
	if e.Built || len(e.Chain) != len(presented) || e.Check != "path to a trust-store CA" ||
		!strings.Contains(b.String(), "chain presented (no path to the trust store was built):\n") {
		t.Errorf("untrusted explanation:\n%s", b.String())
	}
	for _, c := range e.Chain {
		if c.Source != truststore.SourcePresented {
			t.Errorf("link %d source %q, want presented", c.Depth, c.Source)
		}
	}
}

// A chain pasted in the wrong order (the intermediate first) is verified
// with the CA as the client certificate, as ALB takes the first
// certificate as the client's; the explanation says so and names the
// leaf that should come first. A chain in order has no such note.
func TestExplainChainOrder(t *testing.T) {
	s := testutil.NewSeed(t)
	store := newStore(t, "seed", []*x509.Certificate{s.A.Cert, s.B.Cert})
	leaf := testutil.Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "late"}})
	wrong := []*x509.Certificate{s.B.Cert, leaf.Cert}
	e := truststore.Explain(store.Verify(wrong, truststore.VerifyOptions{}), wrong, store, time.Now())
	var b strings.Builder
	e.WriteText(&b)
	if !strings.Contains(b.String(), "tls_verify_status: Success\n") || !strings.Contains(strings.SplitN(b.String(), "chain built:", 2)[0], "note: the first certificate presented") {
		t.Errorf("the note does not come before the chain:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `note: the first certificate presented, "CN=B,O=edge tests", is a CA certificate (basicConstraints CA:TRUE); it is verified as the client certificate. A client sends its own certificate first, then its issuers: "CN=late" comes later; put it first`) {
		t.Errorf("wrong order without the note:\n%s", b.String())
	}
	right := []*x509.Certificate{leaf.Cert, s.B.Cert}
	if e := truststore.Explain(store.Verify(right, truststore.VerifyOptions{}), right, store, time.Now()); len(e.Notes) != 0 {
		t.Errorf("chain in order has notes: %q", e.Notes)
	}
}
