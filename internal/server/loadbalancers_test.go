package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/arn"
	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

// lbEdge is an edge started from a whole YAML text, with a server
// certificate (server.pem, server.key) and the seed trust store's bundle
// in its directory.
type lbEdge struct {
	t     *testing.T
	dir   string
	cfg   string
	srv   *server.Server
	roots *x509.CertPool
	log   *syncBuffer
	seed  *testutil.Seed
	once  sync.Once
}

// syncBuffer is a log destination tests read while edge writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLBEdge prepares the directory; start writes yaml there and starts it.
func newLBEdge(t *testing.T) *lbEdge {
	t.Helper()
	e := &lbEdge{t: t, dir: t.TempDir(), roots: x509.NewCertPool(), log: &syncBuffer{}, seed: testutil.NewSeed(t)}
	e.cfg = filepath.Join(e.dir, "edge.yaml")
	ca := testutil.Root(t, "server root")
	srv, err := ca.IssueServer(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Save(e.dir, "server", false); err != nil {
		t.Fatal(err)
	}
	e.roots.AddCert(ca.Cert)
	return e
}

func (e *lbEdge) start(yaml string) *lbEdge {
	t := e.t
	t.Helper()
	testutil.WriteFile(t, e.cfg, []byte(yaml))
	cfg, err := config.Load(e.cfg)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	snap, err := server.Build(cfg, server.Options{DevPKIDir: filepath.Join(e.dir, ".edge")})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if snap.DevPKI != nil {
		e.roots.AddCert(snap.DevPKI.Root.Cert)
	}
	log := slog.New(slog.NewTextHandler(e.log, nil))
	if e.srv, err = server.Start(snap, io.Discard, io.Discard, log); err != nil {
		t.Fatal(err)
	}
	e.srv.SetLoader(func() (*config.Config, error) { return config.Load(e.cfg) })
	t.Cleanup(e.stop)
	return e
}

func (e *lbEdge) stop() {
	e.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
	})
}

// addr is listener i's bound address.
func (e *lbEdge) addr(i int) string { return e.srv.Addrs()[i].String() }

// get sends GET path to listener i over a new TLS connection and returns
// the status and body.
func (e *lbEdge) get(i int, path string) (int, string) {
	e.t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.roots, ServerName: "localhost"}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + e.addr(i) + path)
	if err != nil {
		e.t.Fatalf("GET %s on listener %d: %v", path, i, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// lines stops edge and returns the lines of the file at rel.
func (e *lbEdge) lines(rel string) []string {
	e.t.Helper()
	e.stop()
	data, err := os.ReadFile(filepath.Join(e.dir, rel))
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// accessELB returns the elb field and the listener port of an access-log
// line (type time elb client:port ... "request" ...).
func accessELB(line string) (elb, port string) {
	f := strings.Fields(line)
	if len(f) < 13 {
		return "", ""
	}
	req := line[strings.Index(line, `"`)+1:]
	req = strings.Fields(req)[1] // https://host:port/path
	u := strings.TrimPrefix(req, "https://")
	_, port, _ = net.SplitHostPort(u[:strings.IndexByte(u, '/')])
	return f[2], port
}

const fixed200 = `[{type: fixed-response, fixed_response_config: {status_code: "200", content_type: text/plain, message_body: ok}}]`

// Each listener belongs to its load balancer: its connection and access
// lines carry that load balancer's app/NAME/ID (ID from load_balancers[].id,
// or derived from the name), while Snapshot.ELB stays the default's.
func TestLoadBalancersLogTheirOwnELB(t *testing.T) {
	e := newLBEdge(t).start(`name: front
logs: {connection: "file:conn.log", access: "file:access.log"}
load_balancers:
  - {name: back, id: 0123456789abcdef}
  - {name: side}
listeners:
  - {port: 0, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: ` + fixed200 + `}
  - {port: 0, load_balancer: back, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: ` + fixed200 + `}
  - {port: 0, load_balancer: side, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: ` + fixed200 + `}
`)
	want := map[string]string{} // listener port → elb
	for i, elb := range []string{"app/front/" + arn.LoadBalancerID("front"), "app/back/0123456789abcdef", "app/side/" + arn.LoadBalancerID("side")} {
		_, port, _ := net.SplitHostPort(e.addr(i))
		want[port] = elb
		if code, _ := e.get(i, "/"); code != 200 {
			t.Fatalf("listener %d: %d", i, code)
		}
	}
	snap := e.srv.Snapshot()
	if snap.ELB != "app/front/"+arn.LoadBalancerID("front") {
		t.Errorf("Snapshot.ELB %s; want the default load balancer's", snap.ELB)
	}
	if len(snap.LoadBalancers) != 3 || snap.LoadBalancers[1].ELB != "app/back/0123456789abcdef" || snap.Listeners[1].LoadBalancer != snap.LoadBalancers[1] {
		t.Errorf("Snapshot.LoadBalancers: %+v", snap.LoadBalancers)
	}
	conn := e.lines("conn.log")
	if len(conn) != 3 {
		t.Fatalf("%d connection lines; want 3", len(conn))
	}
	for _, l := range conn {
		f := testutil.ParseConnLine(l)
		if f["elb"] != want[f["listener_port"]] {
			t.Errorf("connection line of listener port %s: elb %s; want %s", f["listener_port"], f["elb"], want[f["listener_port"]])
		}
	}
	access := e.lines("access.log")
	if len(access) != 3 {
		t.Fatalf("%d access lines; want 3", len(access))
	}
	for _, l := range access {
		if elb, port := accessELB(l); elb != want[port] {
			t.Errorf("access line of listener port %s: elb %s; want %s\n%s", port, elb, want[port], l)
		}
	}
}

// A load balancer's attributes apply to its own listeners only: here the
// second one removes X-Forwarded-For and has a 1 s idle timeout, which
// both cuts its idle keep-alive connections and gives its slow target a
// 504, while the default load balancer keeps ALB's defaults.
func TestLoadBalancerAttributesApplyPerListener(t *testing.T) {
	var mu sync.Mutex
	xff := map[string]string{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		xff[r.URL.Path] = r.Header.Get("X-Forwarded-For")
		mu.Unlock()
		if r.URL.Path == "/slow" {
			time.Sleep(2500 * time.Millisecond)
		}
		io.WriteString(w, "target")
	}))
	defer target.Close()
	e := newLBEdge(t).start(`name: front
logs: {connection: "off", access: "off"}
load_balancers:
  - name: back
    attributes: {routing.http.xff_header_processing.mode: remove, idle_timeout.timeout_seconds: 1}
target_groups:
  - {name: app, targets: ["` + strings.TrimPrefix(target.URL, "http://") + `"]}
listeners:
  - {port: 0, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: [{type: forward, target_group: app}]}
  - {port: 0, load_balancer: back, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: [{type: forward, target_group: app}]}
`)
	e.get(0, "/front")
	e.get(1, "/back")
	mu.Lock()
	if xff["/front"] != "127.0.0.1" || xff["/back"] != "" {
		t.Errorf("X-Forwarded-For seen by the target: front %q (want 127.0.0.1), back %q (want none: mode remove)", xff["/front"], xff["/back"])
	}
	mu.Unlock()
	if code, _ := e.get(1, "/slow"); code != http.StatusGatewayTimeout {
		t.Errorf("a 2.5 s target behind the 1 s load balancer: %d; want 504", code)
	}
	if code, _ := e.get(0, "/slow"); code != 200 {
		t.Errorf("a 2.5 s target behind the 60 s load balancer: %d; want 200", code)
	}
	// Idle keep-alive connections: closed after 1 s on back, kept on front.
	idleConn := func(i int) *tls.Conn {
		c, err := tls.Dial("tcp", e.addr(i), &tls.Config{RootCAs: e.roots, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /keep HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		return c
	}
	front, back := idleConn(0), idleConn(1)
	defer front.Close()
	defer back.Close()
	if !closedWithin(back, 4*time.Second) {
		t.Error("an idle connection of the load balancer with idle_timeout.timeout_seconds: 1 stayed open")
	}
	if closedWithin(front, 1500*time.Millisecond) {
		t.Error("an idle connection of the default load balancer (60 s) was closed")
	}
}

// A load balancer's access_logs.s3.* and connection_logs.s3.* attributes
// give it its own directories under logs.s3_root, files named with its
// elb id; one without them shares the top-level destinations, its lines
// carrying its own elb id.
func TestLoadBalancerS3LogDirs(t *testing.T) {
	e := newLBEdge(t).start(`name: front
logs: {connection: "file:conn.log", access: "file:access.log"}
load_balancers:
  - name: back
    id: 00000000000000bb
    attributes:
      access_logs.s3.enabled: true
      access_logs.s3.bucket: back-logs
      access_logs.s3.prefix: alb
      connection_logs.s3.enabled: true
      connection_logs.s3.bucket: back-logs
  - {name: plain}
listeners:
  - {port: 0, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: ` + fixed200 + `}
  - {port: 0, load_balancer: back, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: ` + fixed200 + `}
  - {port: 0, load_balancer: plain, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: ` + fixed200 + `}
`)
	for i := 0; i < 3; i++ {
		e.get(i, "/")
	}
	e.stop()
	elbs := func(lines []string, conn bool) []string {
		var out []string
		for _, l := range lines {
			if conn {
				out = append(out, testutil.ParseConnLine(l)["elb"])
			} else {
				elb, _ := accessELB(l)
				out = append(out, elb)
			}
		}
		return out
	}
	front, plain := "app/front/"+arn.LoadBalancerID("front"), "app/plain/"+arn.LoadBalancerID("plain")
	for _, f := range []string{"conn.log", "access.log"} {
		got := strings.Join(elbs(e.lines(f), f == "conn.log"), " ")
		if !strings.Contains(got, front) || !strings.Contains(got, plain) || strings.Contains(got, "app/back/") {
			t.Errorf("%s has the lines of %s; want front's and plain's only", f, got)
		}
	}
	root := filepath.Join(e.dir, "s3", "back-logs")
	var files []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".log.gz") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 2 {
		t.Fatalf("files under s3/back-logs: %q; want one access and one connection log", files)
	}
	for _, p := range files {
		if !strings.Contains(filepath.Base(p), "app.back.00000000000000bb") {
			t.Errorf("%s: the file name lacks back's elb id", p)
		}
		conn := strings.HasPrefix(filepath.Base(p), "conn_log_")
		if rel, _ := filepath.Rel(root, p); !conn && !strings.HasPrefix(rel, filepath.Join("alb", "AWSLogs")) {
			t.Errorf("access log %s is not under the prefix alb/", rel)
		}
		lines := gunzipLines(t, p)
		if got := elbs(lines, conn); len(got) != 1 || got[0] != "app/back/00000000000000bb" {
			t.Errorf("%s: elb fields %q; want back's one line", filepath.Base(p), got)
		}
	}
}

func gunzipLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// Pinned revocation ids (revocations[].revocation_id, as `edge export`
// writes them) are the ids the trust store reports; an unpinned CRL gets
// one past the highest, admin additions too, and the ids survive reloads
// and admin removals.
func TestPinnedRevocationIDs(t *testing.T) {
	e := newLBEdge(t)
	seed := e.seed
	other := testutil.Client(t, seed.B, pki.Options{})
	testutil.WriteFile(t, filepath.Join(e.dir, "b.crl"), crlPEMFor(t, seed.B, seed.C))
	testutil.WriteFile(t, filepath.Join(e.dir, "a.crl"), crlPEMFor(t, seed.A, &seed.D.Issued))
	e.start(`logs: {connection: "off", access: "off"}
trust_stores:
  - name: seed
    ca_certificates_bundle: ` + seed.BundlePath + `
    revocations: [{file: b.crl, revocation_id: 7}, a.crl]
listeners:
  - {port: 0, certificates: [{certificate: server.pem, private_key: server.key}], mutual_authentication: {mode: verify, trust_store: seed}, default_actions: ` + fixed200 + `}
`)
	ids := func() map[string]int64 {
		out := map[string]int64{}
		for _, c := range e.srv.Snapshot().TrustStores["seed"].CRLs {
			out[filepath.Base(c.Source)] = c.ID
		}
		return out
	}
	if got := ids(); got["b.crl"] != 7 || got["a.crl"] != 8 {
		t.Fatalf("ids %v; want b.crl 7 (pinned), a.crl 8 (one past the highest before it)", got)
	}
	var summary strings.Builder
	e.srv.Snapshot().WriteSummary(&summary, false)
	if !strings.Contains(summary.String(), "RevocationId=7 "+filepath.Join(e.dir, "b.crl")) {
		t.Errorf("edge check's summary lacks RevocationId=7:\n%s", summary.String())
	}
	api := httptest.NewServer(admin.Handler(e.srv, ""))
	defer api.Close()
	do := func(method, path string, body []byte) (int, string) {
		req, _ := http.NewRequest(method, api.URL+path, bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "/trust-stores/seed/revocations", crlPEMFor(t, seed.B, other)); code != 200 || !strings.Contains(body, `"RevocationId": 9`) {
		t.Fatalf("admin add: %d %s; want RevocationId 9", code, body)
	}
	if code, body := do("DELETE", "/trust-stores/seed/revocations/7", nil); code != 200 {
		t.Fatalf("admin remove 7: %d %s", code, body)
	}
	if err := e.srv.ReloadFromSource(); err != nil {
		t.Fatal(err)
	}
	got := ids()
	if len(got) != 2 || got["a.crl"] != 8 || got["b.crl"] != 0 {
		t.Errorf("after removing 7 and reloading: %v; want a.crl 8 and the admin CRL 9", got)
	}
	code, body := do("GET", "/trust-stores/seed/revocations", nil)
	if code != 200 || !strings.Contains(body, `"RevocationId": 8`) || !strings.Contains(body, `"RevocationId": 9`) || strings.Contains(body, `"RevocationId": 7`) {
		t.Errorf("DescribeTrustStoreRevocations after the reload: %s", body)
	}
}

// certificate_arn is the access log's chosen_cert_arn; a certificate given
// only as an ARN is served by a dev-CA certificate (localhost, 127.0.0.1,
// the listener's address) under that ARN, and the log says so once.
func TestCertificateARN(t *testing.T) {
	const given = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	const acmOnly = "arn:aws:acm:us-east-1:123456789012:certificate/acm-only"
	e := newLBEdge(t).start(`logs: {connection: "off", access: "file:access.log"}
listeners:
  - {port: 0, certificates: [{certificate: server.pem, private_key: server.key, certificate_arn: "` + given + `"}], default_actions: ` + fixed200 + `}
  - {port: 0, certificates: [{certificate_arn: "` + acmOnly + `"}], default_actions: ` + fixed200 + `}
`)
	if code, _ := e.get(0, "/"); code != 200 {
		t.Fatalf("listener 0: %d", code)
	}
	// The dev CA's certificate verifies for localhost and 127.0.0.1.
	for _, name := range []string{"localhost", "127.0.0.1"} {
		c, err := tls.Dial("tcp", e.addr(1), &tls.Config{RootCAs: e.roots, ServerName: name})
		if err != nil {
			t.Fatalf("listener 1 for %s: %v", name, err)
		}
		c.Close()
	}
	if code, _ := e.get(1, "/"); code != 200 {
		t.Fatalf("listener 1: %d", code)
	}
	if err := e.srv.ReloadFromSource(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(e.log.String(), "ACM is not emulated: serving a dev certificate for ARN "+acmOnly); n != 1 {
		t.Errorf("the ACM line was logged %d times (want once, across a reload):\n%s", n, e.log.String())
	}
	// It names the root clients must trust, as an absolute path.
	if m := regexp.MustCompile(`clients_trust=(\S+)`).FindStringSubmatch(e.log.String()); m == nil || !filepath.IsAbs(m[1]) || !strings.HasSuffix(m[1], "/.edge/root.pem") {
		t.Errorf("the ACM line does not name the dev root to trust:\n%s", e.log.String())
	} else if _, err := os.Stat(m[1]); err != nil {
		t.Errorf("the dev root it names: %v", err)
	}
	arns := map[string]bool{}
	for _, l := range e.lines("access.log") {
		arns[strings.Split(l, `"`)[9]] = true // quoted: request, user_agent, trace_id, domain_name, chosen_cert_arn
	}
	if !arns[given] || !arns[acmOnly] || len(arns) != 2 {
		t.Errorf("chosen_cert_arn values %v; want %s and %s", arns, given, acmOnly)
	}
}

// `edge check`'s summary lists each load balancer with its own listeners.
func TestSummaryListsLoadBalancers(t *testing.T) {
	dir := t.TempDir()
	yaml := `name: front
load_balancers:
  - {name: back, id: 0123456789abcdef, attributes: {idle_timeout.timeout_seconds: 5}}
listeners:
  - {port: 8443, protocol: HTTP, default_actions: ` + fixed200 + `}
  - {port: 8444, protocol: HTTP, load_balancer: back, default_actions: ` + fixed200 + `}
  - {port: 8445, protocol: HTTP, default_actions: ` + fixed200 + `}
`
	p := filepath.Join(dir, "edge.yaml")
	testutil.WriteFile(t, p, []byte(yaml))
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := server.Build(cfg, server.Options{CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var b strings.Builder
	snap.WriteSummary(&b, false)
	out := b.String()
	front := strings.Index(out, "load balancer front (elb app/front/")
	back := strings.Index(out, "load balancer back (elb app/back/0123456789abcdef)")
	if front < 0 || back < front {
		t.Fatalf("summary lacks both load balancers, in order:\n%s", out)
	}
	for _, l := range []string{"listener 0: HTTP 127.0.0.1:8443", "listener 2: HTTP 127.0.0.1:8445"} {
		if i := strings.Index(out, l); i < front || i > back {
			t.Errorf("%q is not under load balancer front:\n%s", l, out)
		}
	}
	if i := strings.Index(out, "listener 1: HTTP 127.0.0.1:8444"); i < back {
		t.Errorf("listener 1 is not under load balancer back:\n%s", out)
	}
	if !strings.Contains(out[back:], "idle_timeout.timeout_seconds=5") {
		t.Errorf("back's attributes are not under it:\n%s", out)
	}

	// Every listener on a named load balancer (as edge export writes the
	// API's): the default one, which serves nothing, is not listed.
	yaml = `load_balancers:
  - {name: my-alb, id: 0123456789abcdef}
listeners:
  - {port: 8444, protocol: HTTP, load_balancer: my-alb, default_actions: ` + fixed200 + `}
`
	testutil.WriteFile(t, p, []byte(yaml))
	if cfg, err = config.Load(p); err != nil {
		t.Fatal(err)
	}
	if snap, err = server.Build(cfg, server.Options{CheckOnly: true}); err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	b.Reset()
	snap.WriteSummary(&b, false)
	if out := b.String(); strings.Contains(out, "load balancer edge") || !strings.Contains(out, "load balancer my-alb (elb app/my-alb/0123456789abcdef)") || !strings.Contains(out, "listener 0: HTTP 127.0.0.1:8444") {
		t.Errorf("summary with every listener on my-alb:\n%s", out)
	}
}

// A reload that removes a load balancer moves its listener to the default
// one: a connection opened before keeps its load balancer's elb id (it
// keeps the configuration it started with), and its lines go to the
// default destinations once the removed load balancer's directory is
// closed; new connections log the default's id.
func TestReloadRemovesLoadBalancer(t *testing.T) {
	e := newLBEdge(t)
	withBack := `name: front
logs: {connection: "off", access: "file:access.log"}
load_balancers:
  - {name: back, attributes: {access_logs.s3.enabled: true, access_logs.s3.bucket: back-logs}}
listeners:
  - {port: 0, load_balancer: back, certificates: [{certificate: server.pem, private_key: server.key}], default_actions: ` + fixed200 + `}
`
	e.start(withBack)
	c, err := tls.Dial("tcp", e.addr(0), &tls.Config{RootCAs: e.roots, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	request := func() {
		t.Helper()
		fmt.Fprintf(c, "GET /old HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	request()
	testutil.WriteFile(t, e.cfg, []byte(strings.Replace(strings.Replace(withBack, "load_balancer: back, ", "", 1), "load_balancers:\n  - {name: back, attributes: {access_logs.s3.enabled: true, access_logs.s3.bucket: back-logs}}\n", "", 1)))
	if err := e.srv.ReloadFromSource(); err != nil {
		t.Fatal(err)
	}
	request() // the old connection, after its load balancer is gone
	e.get(0, "/new")
	front, back := "app/front/"+arn.LoadBalancerID("front"), "app/back/"+arn.LoadBalancerID("back")
	got := map[string]string{}
	for _, l := range e.lines("access.log") {
		elb, _ := accessELB(l)
		u := strings.Fields(strings.Split(l, `"`)[1])[1] // GET https://host:port/path HTTP/1.1
		got[u[strings.LastIndexByte(u, '/'):]] = elb
	}
	if got["/old"] != back || got["/new"] != front || len(got) != 2 {
		t.Errorf("access.log after the reload: %v; want /old logged as %s (its connection's), /new as %s", got, back, front)
	}
}
