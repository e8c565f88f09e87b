package server_test

import (
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"edge/internal/testutil"
	"edge/internal/truststore"
)

// Issue 16 item 2: /connections/recent carries, for every failed
// handshake, the failed check, the reason and the explanation in the
// words of `edge verify`; a successful one carries none.
func TestRecentConnectionsCarryTheReason(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	do := adminClient(t, e)
	expired := testutil.Client(t, seed.B, testutil.Expired("late"))

	if code, _, _, err := e.get(e.clientTLS(seed.C, nil)); err != nil || code != 200 {
		t.Fatalf("good client: %d %v", code, err)
	}
	if _, _, _, err := e.get(e.clientTLS(seed.H, nil)); err == nil {
		t.Fatal("untrusted client got in")
	}
	if _, _, _, err := e.get(e.clientTLS(expired, nil)); err == nil {
		t.Fatal("expired client got in")
	}
	if _, _, _, err := e.get(e.clientTLS(nil, nil)); err == nil {
		t.Fatal("client without a certificate got in")
	}

	type conn struct {
		Status      string                  `json:"tls_verify_status"`
		Subject     string                  `json:"leaf_client_cert_subject"`
		Serial      string                  `json:"leaf_client_cert_serial_number"`
		Check       string                  `json:"failed_check"`
		Detail      string                  `json:"detail"`
		Explanation *truststore.Explanation `json:"explanation"`
	}
	var got struct{ Connections []conn }
	// A failed handshake is logged when the server side ends, which can be
	// just after the client saw its error.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := do("GET", "/connections/recent", nil)
		if code != 200 {
			t.Fatalf("/connections/recent: %d %s", code, body)
		}
		got.Connections = nil
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		if len(got.Connections) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	by := map[string]conn{}
	for _, c := range got.Connections {
		by[c.Status] = c
	}

	// The same store edge verify would load, named as the listener's.
	cas, _, err := truststore.LoadBundle(seed.BundlePath)
	if err != nil {
		t.Fatal(err)
	}
	store, err := truststore.New("seed", cas, nil, truststore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status string
		chain  []*x509.Certificate
	}{
		{"Failed:ClientCertUntrusted", seed.H.ChainWithoutRoot()},
		{"Failed:ClientCertExpired", expired.ChainWithoutRoot()},
	} {
		c, ok := by[tc.status]
		if !ok {
			t.Errorf("no %s connection in %+v", tc.status, got.Connections)
			continue
		}
		if c.Explanation == nil {
			t.Errorf("%s: no explanation", tc.status)
			continue
		}
		at, _ := time.Parse(time.RFC3339, c.Explanation.At)
		want := truststore.Explain(store.Verify(tc.chain, truststore.VerifyOptions{Now: at}), tc.chain, store, at)
		if c.Check != want.Check || c.Detail != want.Detail || c.Check == "" {
			t.Errorf("%s: failed_check %q detail %q; want %q %q", tc.status, c.Check, c.Detail, want.Check, want.Detail)
		}
		var gotText, wantText strings.Builder
		c.Explanation.WriteText(&gotText)
		want.WriteText(&wantText)
		if gotText.String() != wantText.String() {
			t.Errorf("%s explanation:\n%s\nwant (edge verify's):\n%s", tc.status, gotText.String(), wantText.String())
		}
	}
	if c := by["Success"]; c.Check != "" || c.Detail != "" || c.Explanation != nil || c.Serial == "" {
		t.Errorf("successful connection: %+v; want a serial and no reason", c)
	}
	// Go refuses a client without a certificate before edge's
	// verification: the check is the handshake, the detail Go's error.
	if c := by["Failed:UnmappedConnectionError"]; c.Check != "TLS handshake" || !strings.Contains(c.Detail, "certificate") || c.Explanation == nil {
		t.Errorf("connection without a certificate: %+v; want failed_check \"TLS handshake\" and Go's error", c)
	}
}
