package console_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

// TestMain says, visibly without -v, when the browser tests cannot run.
func TestMain(m *testing.M) {
	if chromiumPath() == "" {
		fmt.Fprintln(os.Stderr, "edge/internal/console: SKIP TestBrowserDrivesConsole: Chromium not found (apt-get install -y chromium)")
	}
	os.Exit(m.Run())
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is headless Chromium driven through the Chrome DevTools
// Protocol over --remote-debugging-pipe (file descriptors 3 and 4, one
// JSON message per NUL-terminated frame): the protocol needs nothing
// beyond the standard library this way.
type browser struct {
	t        *testing.T
	cmd      *exec.Cmd
	toChrome io.WriteCloser
	stderr   bytes.Buffer

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	session string
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    any             `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("Chromium not found (apt-get install -y chromium)")
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, toChrome: inW, pending: map[int]chan cdpMessage{}}
	b.cmd = exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{inR, outW} // Chromium reads fd 3 and writes fd 4
	b.cmd.Stderr = &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	inR.Close()
	outW.Close()
	go b.read(outR)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { b.cmd.Wait(); close(done) }()
		b.callTimeout("Browser.close", nil, false, 5*time.Second)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
			<-done
		}
		inW.Close()
	})
	var target struct{ TargetID string }
	b.decode(b.call("Target.createTarget", map[string]any{"url": "about:blank"}, false), &target)
	var attached struct{ SessionID string }
	b.decode(b.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, false), &attached)
	b.session = attached.SessionID
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 860, "deviceScaleFactor": 1, "mobile": false}, true)
	return b
}

func (b *browser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		frame, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(frame[:len(frame)-1], &m) != nil || m.ID == 0 {
			continue // an event: this driver polls instead
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

func (b *browser) call(method string, params any, inPage bool) json.RawMessage {
	b.t.Helper()
	res, err := b.callTimeout(method, params, inPage, 30*time.Second)
	if err != nil {
		b.t.Fatalf("%s: %v\nchromium stderr:\n%s", method, err, b.stderr.String())
	}
	return res
}

func (b *browser) callTimeout(method string, params any, inPage bool, d time.Duration) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	m := cdpMessage{ID: b.nextID, Method: method, Params: params}
	if inPage {
		m.SessionID = b.session
	}
	ch := make(chan cdpMessage, 1)
	b.pending[m.ID] = ch
	b.mu.Unlock()
	data, _ := json.Marshal(m)
	if _, err := b.toChrome.Write(append(data, 0)); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-ch:
		switch {
		case !ok:
			return nil, fmt.Errorf("the browser went away")
		case r.Error != nil:
			return nil, fmt.Errorf("%d %s", r.Error.Code, r.Error.Message)
		}
		return r.Result, nil
	case <-time.After(d):
		return nil, fmt.Errorf("no answer within %v", d)
	}
}

func (b *browser) decode(raw json.RawMessage, v any) {
	b.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("%s: %v", raw, err)
	}
}

// eval runs a JavaScript expression in the page and decodes its value
// into v (nil: ignore it).
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.decode(b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, true), &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("%s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if v != nil && len(r.Result.Value) > 0 {
		b.decode(r.Result.Value, v)
	}
}

// waitFor polls a JavaScript condition until it is true, within a
// generous bound.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		// A page being replaced has no body for a moment, and an
		// evaluation that meets the navigation itself fails ("Inspected
		// target navigated or closed"): both mean "not yet".
		expr := "(() => { try { return !!(" + cond + ") } catch (e) { return false } })()"
		raw, err := b.callTimeout("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, true, 30*time.Second)
		if err == nil {
			var r struct {
				Result struct {
					Value bool `json:"value"`
				} `json:"result"`
			}
			json.Unmarshal(raw, &r)
			ok = r.Result.Value
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var body string
			b.eval("document.body ? document.body.innerText : ''", &body)
			b.t.Fatalf("%s: not within 20 s (%s)\npage text:\n%s", what, cond, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *browser) navigate(url string) {
	b.t.Helper()
	b.call("Page.navigate", map[string]any{"url": url}, true)
	b.waitFor("page load of "+url, `document.readyState === "complete" && location.href !== "about:blank"`)
}

// screenshot writes the viewport to docs/images/name when
// EDGE_WRITE_SCREENSHOTS=1 (the README's pictures come from here).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if os.Getenv("EDGE_WRITE_SCREENSHOTS") != "1" {
		return
	}
	time.Sleep(1500 * time.Millisecond) // let the new rows' highlight fade
	var shot struct{ Data string }
	b.decode(b.call("Page.captureScreenshot", map[string]any{"format": "png"}, true), &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(testutil.RepoRoot(b.t), "docs", "images", name)
	testutil.WriteFile(b.t, path, png)
	b.t.Logf("wrote %s", path)
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// Headless Chromium drives the console: it signs in with /?token=, sees
// connections appear in the live feed as clients connect, opens a failed
// one into edge verify's explanation, follows a successful one to its
// requests, reads the trust-store page and verifies a pasted chain.
func TestBrowserDrivesConsole(t *testing.T) {
	f := newFixture(t, fixtureOptions{token: "s3cret"})
	b := startBrowser(t)

	b.navigate(f.adm.URL + "/?token=s3cret")
	var path string
	b.eval("location.pathname + location.search", &path)
	if path != "/" {
		t.Errorf("after sign-in the browser is at %q; want / without the token", path)
	}
	b.waitFor("the feed follows", `document.getElementById("live").classList.contains("on")`)

	expired := testutil.Client(t, f.seed.B, testutil.Expired("expired client"))
	clients := []struct {
		listener int
		is       *pki.Issued
		ok       bool
	}{{0, f.seed.C, true}, {0, f.seed.H, false}, {1, f.seed.H, true}, {0, expired, false}, {0, f.seed.C, true}, {1, f.seed.C, false}, {0, f.revoked, false}}
	for _, c := range clients {
		if err := f.connect(c.listener, c.is); (err == nil) != c.ok {
			t.Fatalf("listener %d, %s: %v", c.listener, c.is.Cert.Subject, err)
		}
	}
	f.waitRecent(len(clients))
	recent := f.srv.RecentVerdicts() // newest first
	revoked := recent[0]
	if revoked.Status != "Failed:ClientCertCrlHit" {
		t.Fatalf("newest verdict %+v", revoked)
	}
	b.waitFor("every connection in the feed", fmt.Sprintf(`document.querySelectorAll("#rows tr.conn").length >= %d`, len(clients)))
	row := fmt.Sprintf(`document.querySelector('#rows tr.conn[data-trace=%s]')`, jsString(revoked.TraceID))
	var rowText string
	b.eval(row+".innerText", &rowText)
	for _, want := range []string{"Failed:ClientCertCrlHit", "revocation: serial", "CN=revoked", "#0"} {
		if !strings.Contains(rowText, want) {
			t.Errorf("the feed's row lacks %q: %q", want, rowText)
		}
	}

	// Open the failure: the explanation is edge verify's, word for word.
	b.eval(row+`.querySelector("button.why").click()`, nil)
	b.waitFor("the explanation opens", row+`.nextElementSibling && `+row+`.nextElementSibling.querySelector(".explanation")`)
	var shown string
	b.eval(row+".nextElementSibling.innerText", &shown)
	store := f.srv.Snapshot().TrustStores["seed"]
	ex := revoked.Explanation.Get()
	at, _ := time.Parse(time.RFC3339, ex.At)
	chain := f.revoked.ChainWithoutRoot()
	var want strings.Builder
	truststore.Explain(store.Verify(chain, truststore.VerifyOptions{Now: at}), chain, store, at).WriteText(&want)
	if got, w := strings.Join(strings.Fields(shown), " "), strings.Join(strings.Fields(want.String()), " "); got != w {
		t.Errorf("the browser shows:\n%s\nedge verify says:\n%s", got, w)
	}
	b.eval(`window.scrollTo(0, 0)`, nil)
	b.screenshot("console-feed.png")

	// A filter keeps the failures of listener 0.
	b.eval(`(() => { const s = document.querySelector('select[name=verdict]'); s.value = 'failed'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
	b.waitFor("the filtered page", `location.search === "?verdict=failed&listener=" && document.readyState === "complete"`)
	var statuses []string
	b.eval(`[...document.querySelectorAll("#rows tr.conn .status")].map(e => e.textContent)`, &statuses)
	if len(statuses) != 4 {
		t.Errorf("verdict=failed shows %v; want the 4 failures", statuses)
	}
	for _, s := range statuses {
		if !strings.HasPrefix(s, "Failed:") {
			t.Errorf("verdict=failed shows %q", s)
		}
	}

	// A successful connection links to its requests.
	var success string
	for _, v := range recent {
		if v.Status == "Success" && v.Listener == 0 {
			success = v.TraceID
			break
		}
	}
	b.navigate(f.adm.URL + "/")
	b.eval(fmt.Sprintf(`document.querySelector('#rows tr.conn[data-trace=%s] a.reqs').click()`, jsString(success)), nil)
	b.waitFor("the requests of the connection", `location.pathname.startsWith("/console/connections/") && document.body.innerText.includes("/hello?from=test")`)

	b.navigate(f.adm.URL + "/console/trust")
	var trust string
	b.eval("document.body.innerText", &trust)
	for _, w := range []string{"CN=A,O=edge tests", "CN=B,O=edge tests", "ECDSA P-256", "RevocationId", "verify"} {
		if !strings.Contains(trust, w) {
			t.Errorf("trust page lacks %q", w)
		}
	}
	b.eval(`document.getElementById("store-seed").scrollIntoView(); window.scrollBy(0, -16)`, nil)
	b.screenshot("console-trust.png")

	b.navigate(f.adm.URL + "/console/verify")
	b.eval(`document.querySelector("textarea[name=pem]").value = `+jsString(string(pki.CertPEM(f.seed.C.ChainWithoutRoot()...))), nil)
	b.eval(`document.querySelector("form.verify button[type=submit]").click()`, nil)
	b.waitFor("a verdict from every trust store", `document.querySelectorAll("section.result").length === 2`)
	var verdicts []string
	b.eval(`[...document.querySelectorAll("section.result h2 span")].map(e => e.textContent)`, &verdicts)
	if strings.Join(verdicts, ",") != "Failed:ClientCertUntrusted,Success" {
		t.Errorf("verdicts (other, seed): %v", verdicts)
	}
	b.screenshot("console-verify.png")
}
