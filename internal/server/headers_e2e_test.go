package server_test

import (
	"net/http"
	"strings"
	"testing"

	"edge/internal/testutil"
)

// cgiName is the variable a CGI/WSGI gateway makes of a header name:
// upper case, '-' and '_' alike as '_'.
func cgiName(k string) string {
	return strings.ReplaceAll(strings.ToUpper(k), "-", "_")
}

// Issue 11.4: a client forges X-Amzn-Mtls-* headers with spellings a
// CGI/WSGI target reads as the real ones (underscores, any case, mixed).
// None may reach the target in any mode; the real ones edge adds in verify
// mode arrive once, with the certificate's values.
func TestForgedMTLSHeaderSpellingsNeverReachTheTarget(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	top := "target_groups:\n" + tgYAML("app", up.addr())
	fwd := "{type: forward, target_group: app}"
	forged := []string{
		"X_Amzn_Mtls_Clientcert_Subject",
		"x_amzn_mtls_clientcert_leaf",
		"X-AMZN_MTLS-CLIENTCERT",
		"x-amzn-mtls_clientcert-serial-number",
		"X_AMZN_MTLS_CLIENTCERT_ISSUER",
		"X-Amzn-Mtls_Anything",
	}
	for _, mode := range []struct{ name, mtls string }{
		{"off", ""},
		{"passthrough", "{mode: passthrough}"},
		{"verify", verifyMTLS},
	} {
		t.Run(mode.name, func(t *testing.T) {
			e := startEdge(t, seed, listenerYAML{mtls: mode.mtls, top: top, defaultAction: fwd})
			cfg := e.clientTLS(nil, nil)
			if mode.name == "verify" {
				cfg = e.clientTLS(seed.C, nil)
			}
			tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "https://"+e.addr+"/", nil)
			for _, k := range forged {
				req.Header[k] = []string{"CN=forged"} // as spelled: no canonicalization
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for k, vs := range up.headers() {
				if !strings.HasPrefix(cgiName(k), "X_AMZN_MTLS_") {
					continue
				}
				for _, v := range vs {
					if strings.Contains(v, "forged") {
						t.Errorf("%s mode: the target received %s: %q, which a CGI target reads as HTTP_%s", mode.name, k, v, cgiName(k))
					}
				}
				if mode.name == "verify" && len(vs) != 1 {
					t.Errorf("verify mode: %s arrived %d times", k, len(vs))
				}
			}
			if mode.name == "verify" {
				if got := up.headers().Get("X-Amzn-Mtls-Clientcert-Subject"); got != "CN=C" {
					t.Errorf("verify mode: subject header %q; want CN=C", got)
				}
			}
		})
	}
}
