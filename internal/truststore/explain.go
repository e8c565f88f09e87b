package truststore

import (
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"time"

	"edge/internal/certfmt"
)

// Where a certificate of an explained chain came from (ChainCert.Source).
const (
	SourcePresented  = "presented"
	SourceTrustStore = "trust store"
)

// checkNames says which of Verify's checks produced a status.
var checkNames = map[Status]string{
	ClientCertMaxSizeExceeded:       "chain size",
	ClientCertMaxChainDepthExceeded: "chain depth",
	ClientCertTypeUnsupported:       "key and signature type",
	ClientCertUntrusted:             "path to a trust-store CA",
	ClientCertNotYetValid:           "validity period",
	ClientCertExpired:               "validity period",
	ClientCertPurposeInvalid:        "purpose (extended key usage)",
	ClientCertCrlHit:                "revocation",
	ClientCertCrlProcessingError:    "revocation",
	ClientCertInvalid:               "certificate parsing",
	UnmappedConnectionError:         "client certificate present",
}

// CheckName names the check of Verify that decides st ("validity period",
// "revocation", ...); "" for Success, StatusNone and statuses no check
// produces. `edge verify`, /connections/recent and the web console print
// it as "failed check".
func CheckName(st Status) string { return checkNames[st] }

// ChainCert is one certificate of an explained chain.
type ChainCert struct {
	// Depth is the position in the chain, 0 for the leaf.
	Depth   int    `json:"depth"`
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	Serial  string `json:"serial"`
	// NotBefore and NotAfter are RFC 3339, UTC.
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
	// Source is SourcePresented (sent by the client) or SourceTrustStore.
	Source string `json:"source"`
}

// ExplainedStore summarises the trust store an explanation was decided
// against.
type ExplainedStore struct {
	NumberOfCaCertificates int    `json:"NumberOfCaCertificates"`
	TotalRevokedEntries    int    `json:"TotalRevokedEntries"`
	RevocationCheck        string `json:"revocation_check"`
}

// Explanation is a verdict told for people and programs: the status, the
// check that failed and the certificate it failed on, why, and the chain
// with where each link came from. `edge verify` prints it (WriteText, or
// as JSON); the admin API's /connections/recent and the web console show
// the same for every failed handshake, so all three use one wording.
type Explanation struct {
	Status string `json:"tls_verify_status"`
	// Check names the check that decided a failure (CheckName).
	Check  string      `json:"failed_check,omitempty"`
	Detail string      `json:"detail"`
	Failed *ChainCert  `json:"failed_certificate,omitempty"`
	Chain  []ChainCert `json:"chain"`
	// Built tells whether Chain is the path edge built (true) or, when
	// none was found, the chain as presented.
	Built bool `json:"chain_built"`
	// Notes are what the trust store's loader says beyond errors (CRL
	// entries without effect, how strict mode uses a CRL).
	Notes []string `json:"notes,omitempty"`
	// At is the verification time, RFC 3339, UTC.
	At         string         `json:"verification_time"`
	TrustStore ExplainedStore `json:"trust_store"`
}

// Explain tells verdict v, which store s gave the presented chain (leaf
// first) at time at. A nil s leaves the trust-store summary and notes
// empty (the handshake's store is unknown).
func Explain(v Verdict, presented []*x509.Certificate, s *Store, at time.Time) *Explanation {
	e := &Explanation{Status: v.Status.String(), Detail: v.Detail, At: at.UTC().Format(time.RFC3339)}
	if s != nil {
		e.TrustStore = ExplainedStore{NumberOfCaCertificates: len(s.CAs), TotalRevokedEntries: s.TotalRevokedEntries(), RevocationCheck: s.Mode.String()}
		e.Notes = s.Notes()
	}
	if v.Status != Success {
		e.Check = CheckName(v.Status)
	}
	e.Notes = append(e.Notes, orderNotes(presented)...)
	chain := v.Chain
	e.Built = chain != nil
	if chain == nil {
		chain = presented
	}
	for i, c := range chain {
		cc := describeCert(i, c, presented)
		e.Chain = append(e.Chain, cc)
		if v.Cert != nil && c.Equal(v.Cert) && e.Failed == nil {
			e.Failed = &cc
		}
	}
	if v.Cert != nil && e.Failed == nil {
		cc := describeCert(v.Depth, v.Cert, presented)
		e.Failed = &cc
	}
	return e
}

// orderNotes says when the presented chain does not start with the
// client's own certificate: a CA certificate first is verified as the
// client certificate (ALB takes the first certificate as the client's),
// which usually means the files were concatenated in the wrong order.
func orderNotes(presented []*x509.Certificate) []string {
	if len(presented) == 0 || !presented[0].IsCA {
		return nil
	}
	n := fmt.Sprintf("the first certificate presented, %q, is a CA certificate (basicConstraints CA:TRUE); it is verified as the client certificate. A client sends its own certificate first, then its issuers", certfmt.DN(presented[0].RawSubject))
	for _, c := range presented[1:] {
		if !c.IsCA {
			n += fmt.Sprintf(": %q comes later; put it first", certfmt.DN(c.RawSubject))
			break
		}
	}
	return []string{n}
}

func describeCert(depth int, c *x509.Certificate, presented []*x509.Certificate) ChainCert {
	src := SourceTrustStore
	for _, p := range presented {
		if p.Equal(c) {
			src = SourcePresented
		}
	}
	return ChainCert{
		Depth: depth, Subject: certfmt.DN(c.RawSubject), Issuer: certfmt.DN(c.RawIssuer), Serial: certfmt.Serial(c),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339), NotAfter: c.NotAfter.UTC().Format(time.RFC3339), Source: src,
	}
}

// ExplanationField is one labelled line of an explanation's head.
type ExplanationField struct{ Label, Value string }

// Fields returns the head of the explanation as `edge verify` prints it:
// tls_verify_status, failed check, on certificate, why, verified at.
func (e *Explanation) Fields() []ExplanationField {
	out := []ExplanationField{{"tls_verify_status", e.Status}}
	if e.Check != "" {
		out = append(out, ExplanationField{"failed check", e.Check})
	}
	if e.Failed != nil {
		out = append(out, ExplanationField{"on certificate", fmt.Sprintf("#%d %q", e.Failed.Depth, e.Failed.Subject)})
	}
	out = append(out, ExplanationField{"why", e.Detail})
	at := e.At
	if e.TrustStore.RevocationCheck != "" {
		at = fmt.Sprintf("%s (trust store: %s, %s, revocation_check %s)",
			e.At, plural(e.TrustStore.NumberOfCaCertificates, "CA certificate"), plural(e.TrustStore.TotalRevokedEntries, "revoked entry"), e.TrustStore.RevocationCheck)
	}
	return append(out, ExplanationField{"verified at", at})
}

// ChainHeading introduces the chain: the path built, or the chain as
// presented when no path to the trust store was built.
func (e *Explanation) ChainHeading() string {
	if e.Built {
		return "chain built:"
	}
	return "chain presented (no path to the trust store was built):"
}

// Lines returns the certificate as `edge verify` prints it: depth and
// subject; issuer; serial, validity and source.
func (c ChainCert) Lines() [3]string {
	return [3]string{
		fmt.Sprintf("#%d %q", c.Depth, c.Subject),
		fmt.Sprintf("issuer %q", c.Issuer),
		fmt.Sprintf("serial %s  NotBefore=%s;NotAfter=%s  (%s)", c.Serial, c.NotBefore, c.NotAfter, c.Source),
	}
}

// WriteText prints the explanation as `edge verify` does.
func (e *Explanation) WriteText(w io.Writer) {
	for _, f := range e.Fields() {
		fmt.Fprintf(w, "%-19s%s\n", f.Label+":", f.Value)
	}
	// Notes before the chain: one may say the verdict is not about the
	// certificate the reader meant (a chain in the wrong order).
	for _, n := range e.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, e.ChainHeading())
	for _, c := range e.Chain {
		l := c.Lines()
		fmt.Fprintf(w, "  %s\n     %s\n     %s\n", l[0], l[1], l[2])
	}
}

// plural is "1 revoked entry", "2 revoked entries", "0 CA certificates".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
