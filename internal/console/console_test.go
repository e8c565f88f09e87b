package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"edge/internal/console"
	"edge/internal/elbv2"
	"edge/internal/pki"
	"edge/internal/server"

	"edge/internal/tlsterm"
	"edge/internal/truststore"
)

// The console follows the admin API's token rule: programs send the
// Bearer header, browsers get a session cookie from /?token= or the login
// form; the cookie is HttpOnly and SameSite=Strict, the token leaves the
// URL at once, and a rotated token ends the old sessions.
func TestAuthRules(t *testing.T) {
	f := newFixture(t, fixtureOptions{token: "s3cret"})
	html := "Accept: text/html,application/xhtml+xml"

	if resp, body := f.request("GET", "/", nil); resp.StatusCode != 401 || !strings.Contains(body, `"Unauthorized"`) || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("program without a token: %d %s; want 401 JSON with WWW-Authenticate", resp.StatusCode, body)
	}
	if resp, body := f.request("GET", "/", nil, html); resp.StatusCode != 401 || !strings.Contains(body, `action="/console/login"`) {
		t.Errorf("browser without a token: %d; want 401 and the login form\n%s", resp.StatusCode, body)
	}
	if resp, _ := f.request("GET", "/", nil, "Authorization: Bearer wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong Bearer token: %d, want 401", resp.StatusCode)
	}
	if resp, body := f.request("GET", "/", nil, f.bearer()); resp.StatusCode != 200 || !strings.Contains(body, `id="feed"`) {
		t.Errorf("Bearer token: %d, want 200 and the feed", resp.StatusCode)
	}
	if resp, _ := f.request("GET", "/?token=wrong", nil, html); resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Errorf("?token=wrong: %d cookies %v; want 401 and no cookie", resp.StatusCode, resp.Cookies())
	}

	resp, _ := f.request("GET", "/console/trust?token=s3cret", nil, html)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != "/console/trust" {
		t.Fatalf("?token=s3cret: %d Location %q; want 303 to the page without the token", resp.StatusCode, loc)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == console.CookieName {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || strings.Contains(session.Value, "s3cret") {
		t.Fatalf("session cookie %+v; want HttpOnly, SameSite=Strict, Path=/, not the token itself", session)
	}
	cookie := "Cookie: " + session.Name + "=" + session.Value
	if resp, _ := f.request("GET", "/console/trust", nil, cookie); resp.StatusCode != 200 {
		t.Errorf("with the session cookie: %d, want 200", resp.StatusCode)
	}
	if resp, _ := f.request("GET", "/console/trust", nil, "Cookie: "+console.CookieName+"=forged"); resp.StatusCode != 401 {
		t.Errorf("forged cookie: %d, want 401", resp.StatusCode)
	}
	// The cookie opens the console only: the admin API keeps its rule.
	if resp, _ := f.request("GET", "/connections/recent", nil, cookie); resp.StatusCode != 401 {
		t.Errorf("admin API with the console cookie: %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.request("GET", "/connections/recent", nil, f.bearer()); resp.StatusCode != 200 {
		t.Errorf("admin API with the Bearer token through the console's handler: %d, want 200", resp.StatusCode)
	}
	// A form post from another site is refused even with the cookie.
	if resp, _ := f.request("POST", "/console/verify", strings.NewReader("pem=x"), cookie, "Content-Type: application/x-www-form-urlencoded", "Origin: http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("cross-origin POST: %d, want 403", resp.StatusCode)
	}

	// The login form sets the same cookie.
	resp, _ = f.request("POST", "/console/login", strings.NewReader("token=s3cret&next=%2Fconsole%2Fverify"), "Content-Type: application/x-www-form-urlencoded")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/verify" || len(resp.Cookies()) != 1 {
		t.Errorf("login: %d %q %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	if resp, _ := f.request("POST", "/console/login", strings.NewReader("token=nope&next=//evil.example"), "Content-Type: application/x-www-form-urlencoded"); resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %d %v; want 401, no cookie", resp.StatusCode, resp.Cookies())
	}
	if resp, _ := f.request("POST", "/console/login", strings.NewReader("token=s3cret&next=//evil.example"), "Content-Type: application/x-www-form-urlencoded"); resp.Header.Get("Location") != "/" {
		t.Errorf("login with next=//evil.example redirects to %q, want /", resp.Header.Get("Location"))
	}

	// Sign out ends that session on the server (a copy of the cookie stops
	// working too); another browser's session goes on.
	resp, _ = f.request("POST", "/console/login", strings.NewReader("token=s3cret"), "Content-Type: application/x-www-form-urlencoded")
	other := "Cookie: " + console.CookieName + "=" + resp.Cookies()[0].Value
	if resp, _ := f.request("POST", "/console/logout", nil, cookie); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d, want 303", resp.StatusCode)
	}
	if resp, _ := f.request("GET", "/console/trust", nil, cookie); resp.StatusCode != 401 {
		t.Errorf("the signed-out cookie still opens the console: %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.request("GET", "/console/trust", nil, other); resp.StatusCode != 200 {
		t.Errorf("another session after a sign-out: %d, want 200", resp.StatusCode)
	}
	cookie = other

	// Static files need no token (the login page uses them).
	if resp, body := f.request("GET", "/console/static/console.js", nil); resp.StatusCode != 200 || !strings.Contains(body, "EventSource") {
		t.Errorf("console.js: %d", resp.StatusCode)
	}
	// Health probes stay open.
	if resp, _ := f.request("GET", "/healthz", nil); resp.StatusCode != 200 {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}

	// Rotating the token ends the sessions made for the old one.
	f.token = "rotated"
	if resp, _ := f.request("GET", "/console/trust", nil, cookie); resp.StatusCode != 401 {
		t.Errorf("old session after rotation: %d, want 401", resp.StatusCode)
	}
}

// Without a token the console is open, as the admin API is.
func TestNoTokenIsOpen(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, p := range []string{"/", "/console/trust", "/console/verify"} {
		if resp, _ := f.request("GET", p, nil); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d, want 200", p, resp.StatusCode)
		}
	}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	ID, Event string
	Data      string
}

type feedBatch struct {
	Conns []struct {
		Seq         uint64                  `json:"seq"`
		Listener    int                     `json:"listener"`
		Status      string                  `json:"tls_verify_status"`
		Subject     string                  `json:"leaf_client_cert_subject"`
		Serial      string                  `json:"leaf_client_cert_serial_number"`
		TraceID     string                  `json:"conn_trace_id"`
		Check       string                  `json:"failed_check"`
		Detail      string                  `json:"detail"`
		Explanation *truststore.Explanation `json:"explanation"`
	} `json:"conns"`
	More int    `json:"more"`
	Last uint64 `json:"last"`
}

// stream opens the feed with query and returns its events; it ends when
// the test does.
func (f *fixture) stream(query string, hdr ...string) <-chan sseEvent {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.adm.URL+"/console/events?"+query, nil)
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		f.t.Fatalf("feed: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					select {
					case out <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data += line[6:]
			}
		}
	}()
	return out
}

// next returns the next batch, failing after a generous bound.
func next(t *testing.T, events <-chan sseEvent) feedBatch {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the feed ended")
		}
		var b feedBatch
		if err := json.Unmarshal([]byte(ev.Data), &b); err != nil {
			t.Fatalf("feed event %q: %v", ev.Data, err)
		}
		if ev.ID != fmt.Sprint(b.Last) {
			t.Errorf("event id %s, want the batch's last %d", ev.ID, b.Last)
		}
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no feed event within 10 s")
	}
	return feedBatch{}
}

// The feed delivers a connection as it happens, with the failed check
// and reason of a failure, and honours the verdict and listener filters.
func TestFeedDeliversConnectionsAndFilters(t *testing.T) {
	f := newFixture(t, fixtureOptions{token: "s3cret"})
	all := f.stream("since=0", f.bearer())
	failed := f.stream("since=0&verdict=failed", f.bearer())
	other := f.stream("since=0&listener=1", f.bearer())
	untrusted := f.stream("since=0&verdict=Failed:ClientCertUntrusted", f.bearer())

	if err := f.connect(0, f.seed.C); err != nil {
		t.Fatalf("good client: %v", err)
	}
	b := next(t, all)
	if len(b.Conns) != 1 || b.Conns[0].Status != "Success" || b.Conns[0].Subject != "CN=C" || b.Conns[0].Serial == "" || b.Conns[0].Check != "" {
		t.Fatalf("first event: %+v", b)
	}
	if err := f.connect(0, f.seed.H); err == nil {
		t.Fatal("H got in")
	}
	if err := f.connect(1, f.seed.C); err == nil {
		t.Fatal("C got into the other listener")
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		for _, c := range next(t, all).Conns {
			seen[fmt.Sprintf("%d %s", c.Listener, c.Status)] = true
		}
	}
	if !seen["0 Failed:ClientCertUntrusted"] || !seen["1 Failed:ClientCertUntrusted"] {
		t.Errorf("all: %v", seen)
	}

	fb := next(t, failed)
	for len(fb.Conns) < 2 {
		fb.Conns = append(fb.Conns, next(t, failed).Conns...)
	}
	for _, c := range fb.Conns {
		if c.Status != "Failed:ClientCertUntrusted" || c.Check != "path to a trust-store CA" || !strings.Contains(c.Detail, "no path from") || c.Explanation == nil {
			t.Errorf("verdict=failed: %+v", c)
		}
	}
	ob := next(t, other)
	if len(ob.Conns) != 1 || ob.Conns[0].Listener != 1 {
		t.Errorf("listener=1: %+v", ob)
	}
	ub := next(t, untrusted)
	for len(ub.Conns) < 2 {
		ub.Conns = append(ub.Conns, next(t, untrusted).Conns...)
	}

	for _, q := range []string{"verdict=Nope", "listener=x", "since=abc"} {
		if resp, body := f.request("GET", "/console/events?"+q, nil, f.bearer()); resp.StatusCode != 400 || body == "" {
			t.Errorf("%s: %d, want 400 with the reason", q, resp.StatusCode)
		}
	}
	// The page renders the same filter, selected.
	_, page := f.request("GET", "/?verdict=failed&listener=1", nil, f.bearer())
	if !strings.Contains(page, `<option value="failed" selected>`) || !strings.Contains(page, `<option value="1" selected>`) || strings.Count(page, `<tr class="conn`) != 1 {
		t.Errorf("filtered page does not show exactly the one failure of listener 1:\n%s", page)
	}
}

// textOf is the visible text of an HTML fragment, whitespace collapsed.
func textOf(s string) string {
	s = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// A failed connection opens into the explanation `edge verify` gives:
// the fragment's text is edge verify's output, word for word.
func TestFailedConnectionExplanationIsEdgeVerifys(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	if err := f.connect(0, f.revoked); err == nil {
		t.Fatal("revoked client got in")
	}
	f.waitRecent(1)
	v := f.srv.RecentVerdicts()[0]
	if v.Status != "Failed:ClientCertCrlHit" || v.FailedCheck != "revocation" {
		t.Fatalf("verdict %+v", v)
	}
	resp, frag := f.request("GET", "/console/connections/"+v.TraceID+"?fragment=1", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("fragment: %d", resp.StatusCode)
	}
	// What edge verify prints for the same chain and store.
	store := f.srv.Snapshot().TrustStores["seed"]
	at, _ := time.Parse(time.RFC3339, v.Explanation.Get().At)
	chain := f.revoked.ChainWithoutRoot()
	var want strings.Builder
	truststore.Explain(store.Verify(chain, truststore.VerifyOptions{Now: at}), chain, store, at).WriteText(&want)
	if got, w := textOf(frag), strings.Join(strings.Fields(want.String()), " "); got != w {
		t.Errorf("console explanation:\n%s\nedge verify's:\n%s", got, w)
	}
	for _, s := range []string{"failed check:", "revocation", "on certificate:", `#0 "CN=revoked"`, "chain built:", "(presented)", "(trust store)"} {
		if !strings.Contains(textOf(frag), s) {
			t.Errorf("explanation lacks %q", s)
		}
	}
	// The full page too, and JSON for programs.
	if resp, page := f.request("GET", "/console/connections/"+v.TraceID, nil); resp.StatusCode != 200 || !strings.Contains(page, "Failed:ClientCertCrlHit") || !strings.Contains(page, `class="presented culprit"`) {
		t.Errorf("connection page: %d\n%s", resp.StatusCode, page)
	}
	_, js := f.request("GET", "/console/connections/"+v.TraceID, nil, "Accept: application/json")
	var got struct {
		Connection struct {
			Explanation *truststore.Explanation `json:"explanation"`
		} `json:"connection"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil || got.Connection.Explanation == nil || got.Connection.Explanation.Check != "revocation" {
		t.Errorf("JSON: %v %s", err, js)
	}
}

// A successful connection links to its requests, found by conn_trace_id.
func TestSuccessfulConnectionListsItsRequests(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	if err := f.connect(0, f.seed.C); err != nil {
		t.Fatal(err)
	}
	f.waitRecent(1)
	v := f.srv.RecentVerdicts()[0]
	_, feed := f.request("GET", "/", nil)
	if !strings.Contains(feed, `href="/console/connections/`+v.TraceID+`"`) {
		t.Errorf("the feed does not link the connection to its requests")
	}
	resp, page := f.request("GET", "/console/connections/"+v.TraceID, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "GET 127.0.0.1") || !strings.Contains(page, "/hello?from=test HTTP/1.1") || !strings.Contains(page, "fixed-response") {
		t.Errorf("requests of the connection: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := f.request("GET", "/console/connections/TID_00000000000000000000000000000000", nil); resp.StatusCode != 404 {
		t.Errorf("unknown connection: %d, want 404", resp.StatusCode)
	}
}

// Paste a chain: every trust store gives its verdict, explained as edge
// verify explains it; a file upload and JSON work too; bad input is a
// clear error.
func TestVerifyChainAgainstEveryTrustStore(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	chain := pki.CertPEM(f.seed.C.ChainWithoutRoot()...)
	form := url.Values{"pem": {string(chain)}}
	resp, page := f.request("POST", "/console/verify", strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
	if resp.StatusCode != 200 {
		t.Fatalf("verify: %d\n%s", resp.StatusCode, page)
	}
	sections := regexp.MustCompile(`(?s)<section class="result" data-store="([^"]+)">(.*?)</section>`).FindAllStringSubmatch(page, -1)
	if len(sections) != 2 {
		t.Fatalf("want a verdict from both trust stores, got %d\n%s", len(sections), page)
	}
	snap := f.srv.Snapshot()
	for _, s := range sections {
		store := snap.TrustStores[s[1]]
		text := textOf(s[2])
		at := regexp.MustCompile(`verified at: (\S+)`).FindStringSubmatch(text)
		if at == nil {
			t.Fatalf("%s: no verification time in %q", s[1], text)
		}
		when, _ := time.Parse(time.RFC3339, at[1])
		presented := f.seed.C.ChainWithoutRoot()
		var want strings.Builder
		truststore.Explain(store.Verify(presented, truststore.VerifyOptions{Now: when}), presented, store, when).WriteText(&want)
		if !strings.Contains(text, strings.Join(strings.Fields(want.String()), " ")) {
			t.Errorf("%s:\n%s\nwant edge verify's:\n%s", s[1], text, want.String())
		}
	}
	if !strings.Contains(sections[1][2], "Success") || !strings.Contains(sections[0][2], "Failed:ClientCertUntrusted") {
		t.Errorf("seed should accept C and other refuse it (sections in name order: other, seed)")
	}

	// Upload, with a verification time when C has expired, as JSON.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "c-fullchain.pem")
	fw.Write(chain)
	mw.WriteField("at", "2099-01-01")
	mw.Close()
	resp, js := f.request("POST", "/console/verify", &body, "Content-Type: "+mw.FormDataContentType(), "Accept: application/json")
	var got struct {
		Results []struct {
			Store   string                 `json:"trust_store"`
			Verdict truststore.Explanation `json:"verdict"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil || resp.StatusCode != 200 || len(got.Results) != 2 {
		t.Fatalf("upload: %d %v %s", resp.StatusCode, err, js)
	}
	if r := got.Results[1]; r.Store != "seed" || r.Verdict.Status != "Failed:ClientCertExpired" || r.Verdict.At != "2099-01-01T00:00:00Z" {
		t.Errorf("seed in 2099: %+v", r)
	}

	for _, tc := range []struct{ name, pem, want string }{
		{"empty", "", "no chain: paste it as the form field pem, or upload it as the file field file"},
		{"a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "no PEM CERTIFICATE block"},
		{"DER", string(f.seed.C.Cert.Raw), "convert it with `openssl x509 -inform DER"},
		{"bad time", string(chain), "verification time"},
	} {
		form := url.Values{"pem": {tc.pem}}
		if tc.name == "bad time" {
			form.Set("at", "yesterday")
		}
		resp, page := f.request("POST", "/console/verify", strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
		if resp.StatusCode != 400 || !strings.Contains(html.UnescapeString(page), tc.want) {
			t.Errorf("%s: %d; want 400 and %q\n%s", tc.name, resp.StatusCode, tc.want, page)
		}
	}
}

type fakeAWS struct{ st *elbv2.State }

func (a fakeAWS) State() *elbv2.State { return a.st }

// TrustStoreARN gives the file store "seed" the random-looking id an API
// model would, so that the page shows the model's ARN.
func (a fakeAWS) TrustStoreARN(name string) (string, bool) {
	if name == "seed" {
		return "arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/seed/0123456789abcdef", true
	}
	return "", false
}

// The trust-store page: CA certificates as a tree, CRLs with their
// revocation ids, issuer, entries and next update; listeners with mode,
// policy and attributes; and the resources created through the AWS
// endpoint when there is one.
func TestTrustPage(t *testing.T) {
	st := elbv2.NewState()
	st.LoadBalancers = append(st.LoadBalancers, &elbv2.LoadBalancer{LoadBalancerInfo: elbv2.LoadBalancerInfo{LoadBalancerName: "api-lb", DNSName: "127.0.0.1", State: elbv2.LoadBalancerState{Code: "active"}}})
	st.TrustStores = append(st.TrustStores, &elbv2.TrustStore{Name: "api-store", Arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/api-store/1", NumberOfCaCertificates: 3,
		Revocations: []*elbv2.Revocation{{ID: 4, Entries: 12}}})
	st.Listeners = append(st.Listeners, &elbv2.Listener{ListenerInfo: elbv2.ListenerInfo{Port: 8443, Protocol: "HTTPS", SslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", MutualAuthentication: &elbv2.MutualAuthentication{Mode: "verify"}}})
	f := newFixture(t, fixtureOptions{aws: fakeAWS{st}})
	resp, page := f.request("GET", "/console/trust", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	// B hangs under A in the tree: A's node contains a nested list with B.
	tree := regexp.MustCompile(`(?s)<section class="store" id="store-seed">.*?</section>`).FindString(page)
	if !regexp.MustCompile(`(?s)<span class="subject">CN=A,O=edge tests</span>.*?<ul><li class="ca ok">\s*<div class="node"><span class="subject">CN=B,O=edge tests</span>`).MatchString(tree) {
		t.Errorf("B is not under A in the seed tree:\n%s", tree)
	}
	for _, want := range []string{"truststore/seed/0123456789abcdef", "ECDSA P-256", "self-signed root", "<td>1</td><td>CN=B,O=edge tests</td><td>1</td><td>7</td>", "listeners</dt><dd>#0"} {
		if !strings.Contains(tree, want) {
			t.Errorf("seed section lacks %q", want)
		}
	}
	next := f.srv.Snapshot().TrustStores["seed"].CRLs[0].List.NextUpdate.UTC().Format("2006-01-02T15:04:05.000Z")
	if !strings.Contains(tree, next) {
		t.Errorf("seed section lacks the CRL's nextUpdate %s", next)
	}
	for _, want := range []string{`<td class="mode-verify">verify</td><td>seed</td><td>` + tlsterm.DefaultPolicy + `</td><td>no</td>`, `<td>other</td><td>` + tlsterm.DefaultPolicy + `</td><td>yes</td>`,
		"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", "api-lb", "api-store", "4: 12", "8443"} {
		if !strings.Contains(page, want) {
			t.Errorf("trust page lacks %q", want)
		}
	}
	// Without an AWS endpoint the section says so.
	g := newFixture(t, fixtureOptions{})
	if _, page := g.request("GET", "/console/trust", nil); !strings.Contains(page, "edge serves no AWS endpoint here") {
		t.Errorf("no AWS endpoint: the section does not say so")
	}
}

// The console keeps a bounded history whatever the load, and the feed
// sends at most FeedBatch connections per interval, counting the rest.
func TestBoundedHistoryAndBatches(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	events := f.stream("since=0")
	n := console.ConnHistory + 500
	for i := range n {
		f.con.ObserveConnection(server.Verdict{Time: time.Now(), Status: "Success", TraceID: fmt.Sprintf("TID_%032d", i)}, nil)
	}
	b := next(t, events)
	for b.Last < uint64(n) {
		nb := next(t, events)
		b.Conns, b.More, b.Last = append(b.Conns, nb.Conns...), b.More+nb.More, nb.Last
	}
	if len(b.Conns) > console.FeedBatch*4 || len(b.Conns)+b.More != n {
		t.Errorf("feed sent %d connections and counted %d more; want at most %d a message and %d in all", len(b.Conns), b.More, console.FeedBatch, n)
	}
	if last := b.Conns[len(b.Conns)-1]; last.TraceID != fmt.Sprintf("TID_%032d", n-1) {
		t.Errorf("the newest connection was not sent: last is %s", last.TraceID)
	}
	// The oldest fell out of the history; the newest are there.
	if resp, _ := f.request("GET", fmt.Sprintf("/console/connections/TID_%032d", 0), nil); resp.StatusCode != 404 {
		t.Errorf("the oldest connection is still held (%d)", resp.StatusCode)
	}
	if resp, _ := f.request("GET", fmt.Sprintf("/console/connections/TID_%032d", n-1), nil); resp.StatusCode != 200 {
		t.Errorf("the newest connection is not held (%d)", resp.StatusCode)
	}
	if _, page := f.request("GET", "/", nil); strings.Count(page, `<tr class="conn`) != 200 {
		t.Errorf("the feed page shows %d rows, want 200", strings.Count(page, `<tr class="conn`))
	}
}

// A client that opens the feed and never reads must not slow or block
// the handshake path: observing stays non-blocking.
func TestStalledFeedClientDoesNotBlock(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	host := strings.TrimPrefix(f.adm.URL, "http://")
	for range 3 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /console/events?since=0 HTTP/1.1\r\nHost: %s\r\n\r\n", host)
		// and never read
	}
	big := strings.Repeat("x", 200)
	done := make(chan struct{})
	go func() {
		for i := range 200_000 {
			f.con.ObserveConnection(server.Verdict{Time: time.Now(), Status: "Failed:ClientCertUntrusted", Subject: big, TraceID: fmt.Sprint(i)}, nil)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("publishing 200,000 connections with stalled feed clients did not finish in 60 s")
	}
	if err := f.connect(0, f.seed.C); err != nil {
		t.Errorf("handshake with stalled feed clients: %v", err)
	}
}

// Shutting the admin server down ends open feeds instead of waiting for
// them for the whole grace period.
func TestShutdownEndsFeeds(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: f.con}
	go hs.Serve(ln)
	resp, err := http.Get("http://" + ln.Addr().String() + "/console/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Errorf("shutdown with an open feed: %v", err)
	}
}

// Verifying a chain against every store is safe on any input.
func FuzzVerifyAll(f *testing.F) {
	fx := newFixture(f, fixtureOptions{})
	f.Add(pki.CertPEM(fx.seed.C.ChainWithoutRoot()...))
	f.Add(fx.seed.C.Cert.Raw)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("\xef\xbb\xbf-----BEGIN CERTIFICATE-----\n"))
	snap := fx.srv.Snapshot()
	f.Fuzz(func(t *testing.T, data []byte) {
		res, presented, err := console.VerifyAll(snap, "chain.pem", data, truststore.VerifyOptions{})
		if err == nil && len(res) != len(snap.TrustStores) {
			t.Errorf("%d verdicts for %d trust stores", len(res), len(snap.TrustStores))
		}
		for _, r := range res {
			if r.Explanation == nil || r.Explanation.Status == "" || r.Explanation.Status == "Success" && len(presented) == 0 {
				t.Errorf("%s: %+v for %d certificates", r.Store, r.Explanation, len(presented))
			}
		}
	})
}
