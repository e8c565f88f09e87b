package browsertest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FirefoxOptions configure StartFirefox.
type FirefoxOptions struct {
	// Profile is the profile directory; an NSS database made there with
	// NewNSSDB is the profile's certificate store. Empty: a new empty
	// profile.
	Profile string
	// AcceptInsecureCerts accepts any server certificate (WebDriver's
	// acceptInsecureCerts); otherwise the server's root must be trusted
	// in the profile's NSS database.
	AcceptInsecureCerts bool
	// Width and Height of the window in CSS pixels; 0 means 1024×640.
	Width, Height int
	// Prefs are more preferences (user.js), by name.
	Prefs map[string]any
}

// Firefox is a headless Firefox with a Marionette session. Its methods
// fail the test on a protocol error.
type Firefox struct {
	t    testing.TB
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	id   int
}

// StartFirefox starts headless Firefox (bin from FindFirefox) with a
// Marionette session; the browser quits when the test ends. The profile
// sets security.default_personal_cert to "Select Automatically": a
// server that asks for a client certificate gets the first one of the
// profile's NSS database that its CertificateRequest allows, without a
// dialog.
func StartFirefox(t testing.TB, bin string, o FirefoxOptions) *Firefox {
	t.Helper()
	profile := tempDir(t, o.Profile, "firefox-profile")
	if o.Width == 0 {
		o.Width, o.Height = 1024, 640
	}
	// marionette.port 0: any free port, written to MarionetteActivePort.
	prefs := []string{
		`user_pref("marionette.port", 0);`,
		`user_pref("browser.shell.checkDefaultBrowser", false);`,
		`user_pref("browser.startup.homepage_override.mstone", "ignore");`,
		`user_pref("datareporting.policy.dataSubmissionEnabled", false);`,
		`user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);`,
		`user_pref("network.captive-portal-service.enabled", false);`,
		`user_pref("network.connectivity-service.enabled", false);`,
		`user_pref("app.update.disabledForTesting", true);`,
		`user_pref("browser.safebrowsing.update.enabled", false);`,
		`user_pref("security.default_personal_cert", "Select Automatically");`,
		// No traffic to Mozilla's services (there is no network to reach
		// them, and waiting for it slows the start).
		`user_pref("services.settings.server", "data:,#remote-settings-dummy/v1");`,
		`user_pref("browser.region.network.url", "");`,
		`user_pref("browser.region.update.enabled", false);`,
		`user_pref("app.normandy.enabled", false);`,
		`user_pref("toolkit.telemetry.enabled", false);`,
		`user_pref("datareporting.healthreport.uploadEnabled", false);`,
		`user_pref("extensions.update.enabled", false);`,
		`user_pref("extensions.getAddons.cache.enabled", false);`,
		`user_pref("media.gmp-manager.url", "");`,
		`user_pref("browser.safebrowsing.malware.enabled", false);`,
		`user_pref("browser.safebrowsing.phishing.enabled", false);`,
		`user_pref("browser.newtabpage.enabled", false);`,
		`user_pref("browser.startup.page", 0);`,
		`user_pref("network.dns.disablePrefetch", true);`,
	}
	for name, v := range o.Prefs {
		n, _ := json.Marshal(name)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("Firefox preference %s: %v", name, err)
		}
		prefs = append(prefs, fmt.Sprintf("user_pref(%s, %s);", n, b))
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(strings.Join(prefs, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--headless", "--marionette", "--no-remote", "--profile", profile,
		"--width", strconv.Itoa(o.Width), "--height", strconv.Itoa(o.Height), "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1", "HOME="+profile)
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	fx := &Firefox{t: t}
	t.Cleanup(func() {
		if fx.conn != nil {
			// Quit answers once Firefox is closing; closing the
			// connection first would leave it running.
			fx.conn.SetDeadline(time.Now().Add(10 * time.Second))
			fx.call("Marionette:Quit", map[string]any{})
			fx.conn.Close()
		}
		waitExit(exited, 10*time.Second, cancel)
		cancel()
	})
	portFile := filepath.Join(profile, "MarionetteActivePort")
	deadline := time.Now().Add(120 * time.Second)
	for {
		if b, err := os.ReadFile(portFile); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 {
				if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
					fx.conn, fx.r = c, bufio.NewReader(c)
					break
				}
			}
		}
		select {
		case <-exited:
			t.Fatalf("Firefox exited before Marionette listened:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Marionette did not listen within 120 s:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	fx.conn.SetDeadline(time.Now().Add(180 * time.Second))
	if _, err := fx.read(); err != nil { // the server's hello
		t.Fatalf("Marionette hello: %v", err)
	}
	// Marionette takes the capabilities themselves as parameters.
	caps := map[string]any{"acceptInsecureCerts": o.AcceptInsecureCerts, "timeouts": map[string]any{"pageLoad": 60000}}
	if _, err := fx.call("WebDriver:NewSession", caps); err != nil {
		t.Fatalf("Marionette NewSession: %v", err)
	}
	return fx
}

// Navigate loads u and describes the page Firefox ends on.
func (fx *Firefox) Navigate(u string) Page {
	fx.t.Helper()
	_, err := fx.call("WebDriver:Navigate", map[string]any{"url": u})
	var me *marionetteError
	if err != nil && !errors.As(err, &me) {
		fx.t.Fatalf("Marionette Navigate: %v", err)
	}
	// An error page keeps the URL that failed; its document URI and
	// document.getNetErrorInfo() (what the page shows as "Error code")
	// say what went wrong. Its text is in a shadow root (net-error-card),
	// which innerText does not enter.
	const script = `let i = {}; try { i = document.getNetErrorInfo(); } catch (e) {}
		function text(n) {
			let s = n.shadowRoot ? text(n.shadowRoot) : "";
			for (const c of n.childNodes) {
				if (c.nodeType === 3) s += c.textContent;
				else if (c.nodeType === 1 && !["SCRIPT", "STYLE"].includes(c.tagName)) s += text(c) + " ";
			}
			return s;
		}
		const t = document.body ? text(document.body).replace(/\s+/g, " ").trim() : "";
		return JSON.stringify({URL: document.documentURI, Error: i.errorCodeString || "", Text: t});`
	// The page's text is localized after it loads: wait a little for
	// text, and on an error page for the error code it shows.
	var p Page
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := fx.call("WebDriver:ExecuteScript", map[string]any{"script": script, "args": []any{}})
		if err != nil {
			fx.t.Fatalf("Marionette ExecuteScript: %v", err)
		}
		var v struct{ Value string }
		p = Page{}
		if err := json.Unmarshal(res, &v); err != nil || json.Unmarshal([]byte(v.Value), &p) != nil {
			fx.t.Fatalf("Marionette ExecuteScript answered %s", res)
		}
		if p.Text != "" && strings.Contains(p.Text, p.Error) || time.Now().After(deadline) {
			return p
		}
	}
}

// Screenshot returns a PNG of the page's viewport.
func (fx *Firefox) Screenshot() []byte {
	fx.t.Helper()
	res, err := fx.call("WebDriver:TakeScreenshot", map[string]any{"full": false, "hash": false})
	if err != nil {
		fx.t.Fatalf("Marionette TakeScreenshot: %v", err)
	}
	var v struct{ Value string }
	if err := json.Unmarshal(res, &v); err != nil {
		fx.t.Fatalf("Marionette TakeScreenshot answered %.200s", res)
	}
	png, err := base64.StdEncoding.DecodeString(v.Value)
	if err != nil {
		fx.t.Fatalf("Marionette TakeScreenshot: %v", err)
	}
	return png
}

// marionetteError is an error answer of a command.
type marionetteError struct {
	Kind    string `json:"error"`
	Message string `json:"message"`
}

func (e *marionetteError) Error() string { return e.Kind + ": " + e.Message }

// call sends a command and returns its result. Messages are
// "LENGTH:JSON"; a command is [0, id, name, params], its answer
// [1, id, error, result].
func (fx *Firefox) call(name string, params any) (json.RawMessage, error) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	id := fx.send(name, params)
	for {
		msg, err := fx.read()
		if err != nil {
			return nil, err
		}
		var m []json.RawMessage
		if err := json.Unmarshal(msg, &m); err != nil || len(m) != 4 {
			continue
		}
		var got int
		json.Unmarshal(m[1], &got)
		if got != id {
			continue
		}
		if string(m[2]) != "null" {
			me := &marionetteError{}
			json.Unmarshal(m[2], me)
			return nil, me
		}
		return m[3], nil
	}
}

func (fx *Firefox) send(name string, params any) int {
	fx.id++
	b, _ := json.Marshal([]any{0, fx.id, name, params})
	fmt.Fprintf(fx.conn, "%d:%s", len(b), b)
	return fx.id
}

func (fx *Firefox) read() ([]byte, error) {
	n, err := fx.r.ReadString(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, ":"))
	if err != nil || size < 0 || size > 64<<20 {
		return nil, fmt.Errorf("bad Marionette length %q", n)
	}
	b := make([]byte, size)
	_, err = io.ReadFull(fx.r, b)
	return b, err
}

// syncBuffer is a strings.Builder safe for a process's output and a
// reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
