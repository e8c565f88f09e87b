package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

// adminEdge is a running edge with the seed trust store (A and B) on an
// HTTPS verify listener, and its admin API.
type adminEdge struct {
	seed *testutil.Seed
	srv  *server.Server
	api  *httptest.Server
	dir  string
	cfg  string
}

// startAdminEdge starts edge with the trust store storeYAML (default: the
// seed bundle, no CRLs) on a verify listener, and serves the admin API
// without a token.
func startAdminEdge(t *testing.T, storeYAML string) *adminEdge {
	t.Helper()
	e := &adminEdge{seed: testutil.NewSeed(t), dir: t.TempDir()}
	if storeYAML == "" {
		storeYAML = "{name: seed, ca_certificates_bundle: " + e.seed.BundlePath + "}"
	}
	yaml := `region: eu-west-1
account_id: "111122223333"
logs: {connection: "off", access: "off"}
trust_stores:
  - ` + storeYAML + `
listeners:
  - port: 0
    mutual_authentication: {mode: verify, trust_store: seed}
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]
`
	e.cfg = filepath.Join(e.dir, "edge.yaml")
	testutil.WriteFile(t, e.cfg, []byte(yaml))
	cfg, err := config.Load(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := server.Build(cfg, server.Options{DevPKIDir: filepath.Join(e.dir, ".edge")})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if e.srv, err = server.Start(snap, io.Discard, io.Discard, log); err != nil {
		t.Fatal(err)
	}
	e.srv.SetLoader(func() (*config.Config, error) { return config.Load(e.cfg) })
	e.api = httptest.NewServer(admin.Handler(e.srv, ""))
	t.Cleanup(func() {
		e.api.Close()
		e.srv.Shutdown(context.Background())
	})
	return e
}

// do sends one admin request and decodes the JSON answer.
func (e *adminEdge) do(t *testing.T, method, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.api.URL+path, strings.NewReader(string(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// crlPEM is a CRL of ca revoking the given certificates, as `edge pki`
// writes it.
func crlPEM(t *testing.T, ca *pki.CA, revoke ...*pki.Issued) []byte {
	t.Helper()
	d := &pki.Dir{Path: t.TempDir(), Force: true}
	if err := ca.Save(d.Path, "ca", true); err != nil {
		t.Fatal(err)
	}
	for _, r := range revoke {
		if err := d.Revoke("ca", strings.ToLower(r.Cert.SerialNumber.Text(16)), "keyCompromise", 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.CRL("ca", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(d.Path, "ca.crl.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The admin API and the AWS endpoint name a trust store of edge.yaml with
// the same ARN (both from package arn).
func TestTrustStoreARNMatchesELBv2(t *testing.T) {
	e := startAdminEdge(t, "")
	want := elbv2.FileTrustStoreARN("eu-west-1", "111122223333", "seed")
	code, out := e.do(t, "GET", "/trust-stores", nil)
	stores, _ := out["TrustStores"].([]any)
	if code != 200 || len(stores) != 1 {
		t.Fatalf("GET /trust-stores: %d %v", code, out)
	}
	if got := stores[0].(map[string]any)["TrustStoreArn"]; got != want {
		t.Errorf("admin TrustStoreArn %v; the AWS endpoint's is %s", got, want)
	}
	if got := admin.TrustStoreARN(e.srv.Snapshot(), "seed"); got != want {
		t.Errorf("admin.TrustStoreARN = %s; want %s", got, want)
	}
}

// Every typed error of the trust-store operations gets the HTTP status
// and ELBv2 error code AWS answers the same mistake with; the admin API
// tells them apart by type (errors.Is/As through config.Problems), not by
// their text.
func TestAdminErrorCodes(t *testing.T) {
	e := startAdminEdge(t, "")
	seed := e.seed
	two := []*pki.Issued{seed.C, testutil.Client(t, seed.B, pki.Options{})}
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"add to an unknown store", "POST", "/trust-stores/nope/revocations", crlPEM(t, seed.B, seed.C), 404, "TrustStoreNotFound"},
		{"remove from an unknown store", "DELETE", "/trust-stores/nope/revocations/1", nil, 404, "TrustStoreNotFound"},
		{"remove an unknown id", "DELETE", "/trust-stores/seed/revocations/7", nil, 404, "RevocationIdNotFound"},
		{"an id that is not a number", "DELETE", "/trust-stores/seed/revocations/x", nil, 400, "ValidationError"},
		{"not a CRL", "POST", "/trust-stores/seed/revocations", []byte("garbage"), 400, "InvalidRevocationContent"},
		{"a CRL of a CA outside the store", "POST", "/trust-stores/seed/revocations", crlPEM(t, seed.G, seed.H), 400, "InvalidRevocationContent"},
		{"past max_revocation_entries", "POST", "/trust-stores/seed/revocations", crlPEM(t, seed.B, two...), 400, "TooManyTrustStoreRevocationEntries"},
	} {
		if tc.code == "TooManyTrustStoreRevocationEntries" {
			// Lower the store's quota to one entry.
			testutil.WriteFile(t, e.cfg, []byte(strings.Replace(string(readAll(t, e.cfg)), "ca_certificates_bundle: "+seed.BundlePath+"}", "ca_certificates_bundle: "+seed.BundlePath+", max_revocation_entries: 1}", 1)))
			if err := e.srv.ReloadFromSource(); err != nil {
				t.Fatal(err)
			}
		}
		code, out := e.do(t, tc.method, tc.path, tc.body)
		if code != tc.status || out["Code"] != tc.code {
			t.Errorf("%s: %d %v; want %d %s", tc.name, code, out, tc.status, tc.code)
		}
	}

	// A CRL file that broke since the last reload: the configuration
	// rebuilt around the new CRL is invalid, not the CRL.
	testutil.WriteFile(t, seed.BundlePath, []byte("not a bundle\n"))
	if code, out := e.do(t, "POST", "/trust-stores/seed/revocations", crlPEM(t, seed.B, seed.C)); code != 400 || out["Code"] != "InvalidConfigurationRequest" {
		t.Errorf("add while the bundle file is broken: %d %v; want 400 InvalidConfigurationRequest", code, out)
	}

	// After shutdown nothing is applied: try again later.
	e.srv.Shutdown(context.Background())
	if code, out := e.do(t, "POST", "/trust-stores/seed/revocations", crlPEM(t, seed.B, seed.C)); code != 503 || out["Code"] != "ServiceUnavailable" {
		t.Errorf("add after shutdown: %d %v; want 503 ServiceUnavailable", code, out)
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The read endpoints describe the running state as the ELBv2 operations
// name it; a revocation added shows in DescribeTrustStoreRevocations and
// in the trust store's totals.
func TestAdminDescribes(t *testing.T) {
	e := startAdminEdge(t, "")
	crl := crlPEM(t, e.seed.B, e.seed.C)
	if code, out := e.do(t, "POST", "/trust-stores/seed/revocations", crl); code != 200 || out["TrustStoreRevocations"] == nil {
		t.Fatalf("add: %d %v", code, out)
	}
	code, out := e.do(t, "GET", "/trust-stores/seed/revocations", nil)
	revs, _ := out["TrustStoreRevocations"].([]any)
	if code != 200 || len(revs) != 1 {
		t.Fatalf("revocations: %d %v", code, out)
	}
	rv := revs[0].(map[string]any)
	if rv["RevocationId"] != 1.0 || rv["RevocationType"] != "CRL" || rv["NumberOfRevokedEntries"] != 1.0 || rv["NextUpdate"] == "" ||
		rv["TrustStoreArn"] != elbv2.FileTrustStoreARN("eu-west-1", "111122223333", "seed") {
		t.Errorf("revocation: %v", rv)
	}
	if code, out = e.do(t, "GET", "/trust-stores/nope/revocations", nil); code != 404 || out["Code"] != "TrustStoreNotFound" {
		t.Errorf("revocations of an unknown store: %d %v", code, out)
	}
	_, out = e.do(t, "GET", "/trust-stores", nil)
	ts := out["TrustStores"].([]any)[0].(map[string]any)
	if ts["TotalRevokedEntries"] != 1.0 || ts["NumberOfCaCertificates"] != 2.0 || ts["RevocationCheck"] != "alb" || ts["Status"] != "ACTIVE" {
		t.Errorf("trust store: %v", ts)
	}
	code, out = e.do(t, "GET", "/listeners", nil)
	ls, _ := out["Listeners"].([]any)
	if code != 200 || len(ls) != 1 {
		t.Fatalf("listeners: %d %v", code, out)
	}
	l := ls[0].(map[string]any)
	if l["Mode"] != "verify" || l["TrustStore"] != "seed" || l["Protocol"] != "HTTPS" || l["SslPolicy"] != "ELBSecurityPolicy-2016-08" ||
		l["Address"] != e.srv.Addrs()[0].String() || l["DefaultAction"] == "" || l["LoadBalancer"] != "edge" || !strings.HasPrefix(l["ELB"].(string), "app/edge/") {
		t.Errorf("listener: %v", l)
	}
	if code, out = e.do(t, "GET", "/connections/recent", nil); code != 200 || out["Connections"] == nil {
		t.Errorf("recent: %d %v", code, out)
	}
	if code, out = e.do(t, "DELETE", "/trust-stores/seed/revocations/1", nil); code != 200 {
		t.Errorf("remove: %d %v", code, out)
	}
}

// POST /reload answers the problems of a failed reload, one line each,
// and success once the file is fixed.
func TestAdminReload(t *testing.T) {
	e := startAdminEdge(t, "")
	good := readAll(t, e.cfg)
	testutil.WriteFile(t, e.cfg, []byte(strings.Replace(string(good), "mode: verify", "mode: sometimes", 1)))
	code, out := e.do(t, "POST", "/reload", nil)
	ps, _ := out["problems"].([]any)
	if code != 400 || out["result"] != "failure" || len(ps) != 1 || !strings.Contains(ps[0].(string), "edge.yaml:") || !strings.Contains(ps[0].(string), "sometimes") {
		t.Errorf("failed reload: %d %v", code, out)
	}
	testutil.WriteFile(t, e.cfg, good)
	if code, out = e.do(t, "POST", "/reload", nil); code != 200 || out["result"] != "success" {
		t.Errorf("reload: %d %v", code, out)
	}
	// A server without a configuration source: the error is the only
	// problem.
	bare := httptest.NewServer(admin.Handler(e.srv, ""))
	defer bare.Close()
	e.srv.SetLoader(nil)
	resp, err := http.Post(bare.URL+"/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("reload without a source: %d", resp.StatusCode)
	}
}

// With a token every endpoint but the probes wants it.
func TestAdminToken(t *testing.T) {
	e := startAdminEdge(t, "")
	api := httptest.NewServer(admin.Handler(e.srv, "s3cret"))
	defer api.Close()
	get := func(path, auth string) *http.Response {
		req, _ := http.NewRequest("GET", api.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := get(p, ""); r.StatusCode != 200 {
			t.Errorf("%s without a token: %d", p, r.StatusCode)
		}
	}
	for _, p := range []string{"/metrics", "/trust-stores", "/listeners"} {
		if r := get(p, ""); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without a token: %d %v", p, r.StatusCode, r.Header)
		}
		if r := get(p, "Bearer wrong"); r.StatusCode != 401 {
			t.Errorf("%s with a wrong token: %d", p, r.StatusCode)
		}
		if r := get(p, "Bearer s3cret"); r.StatusCode != 200 {
			t.Errorf("%s with the token: %d", p, r.StatusCode)
		}
	}
	e.srv.Shutdown(context.Background())
	if r := get("/readyz", ""); r.StatusCode != 503 {
		t.Errorf("readyz after shutdown: %d; want 503", r.StatusCode)
	}
}

// admin.listen "" binds nothing; the listener still follows reloads.
func TestAdminStartWithoutListen(t *testing.T) {
	e := startAdminEdge(t, "")
	a, err := admin.Start(e.srv, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	if a.Addr() != nil || a.URL() != "" {
		t.Errorf("Addr %v URL %q; want none", a.Addr(), a.URL())
	}
	// A reload that adds admin.listen is logged as needing a restart.
	testutil.WriteFile(t, e.cfg, append(readAll(t, e.cfg), []byte("admin: {listen: \"127.0.0.1:0\"}\n")...))
	if err := e.srv.ReloadFromSource(); err != nil {
		t.Fatal(err)
	}
	if a.Addr() != nil {
		t.Error("a reload bound the admin listener")
	}
}
