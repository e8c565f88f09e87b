package browsertest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ChromiumOptions configure StartChromium.
type ChromiumOptions struct {
	// Home is $HOME for the browser: Chromium on Linux keeps its NSS
	// database in Home/.pki/nssdb (make it with NewNSSDB). Empty: a new
	// empty directory, so no client certificate and no private root.
	Home string
	// AutoSelectCertificateFor lists origins ("https://localhost:8443")
	// for which Chromium sends the first client certificate of its NSS
	// database, without asking: the AutoSelectCertificateForUrls policy
	// with an empty filter. It is written as the profile's own content
	// setting (auto_select_certificate in Default/Preferences of a fresh
	// --user-data-dir), where Chromium looks up the policy's value, so
	// nothing outside the test's directories changes. Headless Chromium
	// waits for ever on a server that asks for a certificate when the
	// database holds one and the origin is not listed.
	AutoSelectCertificateFor []string
	// IgnoreCertificateErrors accepts any server certificate.
	IgnoreCertificateErrors bool
	// Width and Height of the window in CSS pixels; 0 means 1024×640.
	Width, Height int
	// Preferences are more entries of the profile's Default/Preferences,
	// by top-level key (as {"net": {"network_prediction_options": 2}}).
	Preferences map[string]any
}

// ChromiumFlags are the flags StartChromium always passes: headless, no
// sandbox (tests run as root in containers), no GPU, no QUIC (edge speaks
// TCP), and none of the background traffic of a fresh profile (first-run
// pages, component updates, sync, safe browsing fetches).
var ChromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
}

// Chromium is a headless Chromium driven through the DevTools protocol
// over --remote-debugging-pipe (NUL-separated JSON on file descriptors 3
// and 4). Its methods fail the test on a protocol error.
type Chromium struct {
	t       testing.TB
	w       io.Writer
	session string
	stderr  *syncBuffer

	mu      sync.Mutex
	id      int
	pending map[int]chan cdpMessage
	events  []chan cdpMessage
	done    chan struct{}
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *cdpError       `json:"error,omitempty"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *cdpError) Error() string { return fmt.Sprintf("DevTools error %d: %s", e.Code, e.Message) }

// StartChromium starts headless Chromium (bin from FindChromium) with a
// fresh --user-data-dir and one page; the browser closes when the test
// ends.
func StartChromium(t testing.TB, bin string, o ChromiumOptions) *Chromium {
	t.Helper()
	home := tempDir(t, o.Home, "chromium-home")
	if o.Width == 0 {
		o.Width, o.Height = 1024, 640
	}
	userData := filepath.Join(t.TempDir(), "chromium-profile")
	prefs := map[string]any{}
	if len(o.AutoSelectCertificateFor) > 0 {
		// The pattern pair "ORIGIN,*" and the value {"filters": [{}]}
		// are what the policy handler stores for
		// {"pattern": ORIGIN, "filter": {}}.
		exceptions := map[string]any{}
		for _, origin := range o.AutoSelectCertificateFor {
			exceptions[origin+",*"] = map[string]any{"setting": map[string]any{"filters": []any{map[string]any{}}}}
		}
		prefs["profile"] = map[string]any{"content_settings": map[string]any{"exceptions": map[string]any{"auto_select_certificate": exceptions}}}
	}
	for k, v := range o.Preferences {
		prefs[k] = v
	}
	if len(prefs) > 0 {
		b, err := json.Marshal(prefs)
		if err != nil {
			t.Fatalf("Chromium preferences: %v", err)
		}
		if err := os.MkdirAll(filepath.Join(userData, "Default"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(userData, "Default", "Preferences"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{}, ChromiumFlags...)
	args = append(args, "--user-data-dir="+userData, "--remote-debugging-pipe",
		"--window-size="+strconv.Itoa(o.Width)+","+strconv.Itoa(o.Height), "--hide-scrollbars")
	if o.IgnoreCertificateErrors {
		args = append(args, "--ignore-certificate-errors")
	}
	args = append(args, "about:blank")
	// The browser reads commands from fd 3 and writes answers to fd 4.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	c := &Chromium{t: t, w: cmdW, stderr: &syncBuffer{}, pending: map[int]chan cdpMessage{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, c.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	cmdR.Close()
	outW.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	go c.readLoop(outR)
	t.Cleanup(func() {
		// Browser.close answers after the browser began closing.
		ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		c.callCtx(ctx, "", "Browser.close", nil)
		stop()
		cmdW.Close()
		waitExit(exited, 10*time.Second, cancel)
		cancel()
		outR.Close()
	})
	var target struct{ TargetID string }
	if err := c.callInto("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatalf("Chromium did not answer on its DevTools pipe: %v\n%s", err, c.stderr.String())
	}
	var attached struct{ SessionID string }
	if err := c.callInto("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatalf("Target.attachToTarget: %v", err)
	}
	c.session = attached.SessionID
	if err := c.callInto(c.session, "Page.enable", nil, nil); err != nil {
		t.Fatalf("Page.enable: %v", err)
	}
	return c
}

func (c *Chromium) readLoop(r io.Reader) {
	defer close(c.done)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(b[:len(b)-1], &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.pending[m.ID]; ok {
				delete(c.pending, m.ID)
				ch <- m
			}
		} else {
			for _, ch := range c.events {
				select {
				case ch <- m:
				default:
				}
			}
		}
		c.mu.Unlock()
	}
}

// callCtx sends method with params to the session ("" for the browser)
// and waits for its answer.
func (c *Chromium) callCtx(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = map[string]any{}
	}
	ch := make(chan cdpMessage, 1)
	c.mu.Lock()
	c.id++
	id := c.id
	c.pending[id] = ch
	b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if err == nil {
		_, err = c.w.Write(append(b, 0))
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, m.Error
		}
		return m.Result, nil
	case <-c.done:
		return nil, errExited
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *Chromium) callInto(session, method string, params, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := c.callCtx(ctx, session, method, params)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(res, out)
}

// subscribe returns a channel of the events that arrive from now on.
func (c *Chromium) subscribe() (<-chan cdpMessage, func()) {
	ch := make(chan cdpMessage, 256)
	c.mu.Lock()
	c.events = append(c.events, ch)
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, e := range c.events {
			if e == ch {
				c.events = append(c.events[:i], c.events[i+1:]...)
				return
			}
		}
	}
}

// Navigate loads u, waits for the page's load event (an error page has
// one too) and describes the page.
func (c *Chromium) Navigate(u string) Page {
	c.t.Helper()
	events, unsubscribe := c.subscribe()
	defer unsubscribe()
	var nav struct {
		FrameID   string
		ErrorText string
	}
	if err := c.callInto(c.session, "Page.navigate", map[string]any{"url": u}, &nav); err != nil {
		c.t.Fatalf("Page.navigate %s: %v\n%s", u, err, c.stderr.String())
	}
	timeout := time.After(90 * time.Second)
wait:
	for {
		select {
		case m := <-events:
			if m.SessionID == c.session && m.Method == "Page.loadEventFired" {
				break wait
			}
		case <-timeout:
			c.t.Fatalf("%s: no load event within 90 s", u)
		case <-c.done:
			c.t.Fatalf("Chromium exited:\n%s", c.stderr.String())
		}
	}
	// An error page that replaces another one can fire its load event
	// before its text is in: wait a little for text.
	var p Page
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var res struct {
			Result struct{ Value string }
		}
		const script = `JSON.stringify({URL: document.URL, Text: document.readyState === "complete" && document.body ? document.body.innerText : ""})`
		if err := c.callInto(c.session, "Runtime.evaluate", map[string]any{"expression": script, "returnByValue": true}, &res); err != nil {
			c.t.Fatalf("Runtime.evaluate: %v", err)
		}
		if err := json.Unmarshal([]byte(res.Result.Value), &p); err != nil {
			c.t.Fatalf("Runtime.evaluate answered %q", res.Result.Value)
		}
		if p.Text != "" || time.Now().After(deadline) {
			break
		}
	}
	p.Error = nav.ErrorText
	return p
}

// Screenshot returns a PNG of the page's viewport.
func (c *Chromium) Screenshot() []byte {
	c.t.Helper()
	var res struct{ Data string }
	if err := c.callInto(c.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		c.t.Fatalf("Page.captureScreenshot: %v", err)
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		c.t.Fatalf("Page.captureScreenshot: %v", err)
	}
	return png
}
