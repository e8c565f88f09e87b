// Package browsertest finds and drives headless browsers for edge's
// end-to-end tests: Chromium through the DevTools protocol (over
// --remote-debugging-pipe, no port and no extra module) and Firefox
// through Marionette (its built-in automation protocol, no geckodriver).
// It also makes NSS databases (certutil, pk12util from libnss3-tools),
// the certificate stores both browsers read on Linux. Only tests import it.
//
// The browsers are Debian's packages: chromium, firefox-esr and
// libnss3-tools (.ci/run installs them). Find reports a missing one as a
// *NotFoundError that names the package; tests skip on it with Skip,
// which also prints the reason to stderr so that it shows without -v.
package browsertest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Page is what a browser shows after a navigation.
type Page struct {
	// URL is the document's URL: the requested one for a loaded page;
	// for an error page Chromium's chrome-error://chromewebdata/ and
	// Firefox's about:neterror?e=CLASS&...
	URL string
	// Error is the network error the page shows, "" when the page
	// loaded: Chromium's net error name ("net::ERR_CONNECTION_RESET"),
	// Firefox's error code ("PR_CONNECT_RESET_ERROR").
	Error string
	// Text is the page's visible text (document.body.innerText).
	Text string
}

// NotFoundError reports a program that is not installed.
type NotFoundError struct {
	// Program is what was looked for, Package the Debian package that
	// installs it.
	Program, Package string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s is not installed (apt-get install %s; .ci/run installs it)", e.Program, e.Package)
}

func find(pkg string, names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", &NotFoundError{Program: names[0], Package: pkg}
}

// FindChromium returns the path of Chromium (chromium, chromium-browser
// or google-chrome on $PATH), or a *NotFoundError.
func FindChromium() (string, error) {
	return find("chromium", "chromium", "chromium-browser", "google-chrome")
}

// FindFirefox returns the path of Firefox (firefox-esr or firefox), or a
// *NotFoundError.
func FindFirefox() (string, error) { return find("firefox-esr", "firefox-esr", "firefox") }

// FindNSSTools reports whether certutil and pk12util are installed.
func FindNSSTools() error {
	for _, n := range []string{"certutil", "pk12util"} {
		if _, err := find("libnss3-tools", n); err != nil {
			return err
		}
	}
	return nil
}

// Skip skips t because of err (a *NotFoundError or any other reason a
// browser cannot run here), printing the reason to stderr so that it shows
// without -v.
func Skip(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s skipped: %v", t.Name(), err)
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
}

// NSSDB is an NSS certificate database (cert9.db, key4.db) in a directory,
// without a password: what Chromium reads from $HOME/.pki/nssdb and
// Firefox from its profile directory.
type NSSDB struct {
	Dir string
}

// NewNSSDB creates an empty NSS database in dir (made if absent).
func NewNSSDB(dir string) (*NSSDB, error) {
	if err := FindNSSTools(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	db := &NSSDB{Dir: dir}
	_, err := db.run("certutil", "-N", "-d", db.arg(), "--empty-password")
	return db, err
}

func (db *NSSDB) arg() string { return "sql:" + db.Dir }

func (db *NSSDB) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// ImportPKCS12 imports a PKCS#12 file (certificate, key and chain) with
// pk12util, as a user does to give a browser a client certificate, and
// returns pk12util's output (it names the nickname it used).
func (db *NSSDB) ImportPKCS12(file, password string) (string, error) {
	return db.run("pk12util", "-i", file, "-d", db.arg(), "-W", password)
}

// TrustCA adds a CA certificate (PEM file) trusted to issue server
// certificates (certutil trust "C,,"), as a user trusts a private root.
func (db *NSSDB) TrustCA(nickname, pemFile string) error {
	_, err := db.run("certutil", "-A", "-n", nickname, "-t", "C,,", "-i", pemFile, "-d", db.arg())
	return err
}

// List returns certutil -L: the nicknames and trust flags of the
// database's certificates.
func (db *NSSDB) List() (string, error) { return db.run("certutil", "-L", "-d", db.arg()) }

// waitExit waits for a started browser to exit after it was asked to
// quit; kill ends it when it has not within grace.
func waitExit(exited <-chan struct{}, grace time.Duration, kill func()) {
	select {
	case <-exited:
	case <-time.After(grace):
		kill()
		<-exited
	}
}

// errExited is returned by calls to a browser that has exited.
var errExited = errors.New("the browser exited")

// tempDir returns dir, or a new directory under t.TempDir() when dir is "".
func tempDir(t testing.TB, dir, name string) string {
	if dir != "" {
		return dir
	}
	d := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}
