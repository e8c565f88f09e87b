package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// commandPaths is every command and subcommand of edge.
var commandPaths = [][]string{
	{}, {"serve"}, {"check"}, {"verify"}, {"demo"}, {"bench"}, {"version"},
	{"pki"}, {"pki", "init"}, {"pki", "ca"}, {"pki", "server"}, {"pki", "client"},
	{"pki", "revoke"}, {"pki", "crl"}, {"pki", "bundle"}, {"pki", "list"},
}

// flagLine matches one flag of flag.PrintDefaults: "  -name TYPE" then the
// usage on the same line after a tab or on the next after "    \t".
var flagLine = regexp.MustCompile(`(?m)^  -([\w-]+)(?: (\S+))?(?:\t|\n    \t)(.*)$`)

// Every command answers -h with its usage (synopsis, flags, examples) on
// stdout and exit 0, and a flag means one thing wherever it appears.
func TestHelpForEveryCommand(t *testing.T) {
	usages := map[string]map[string][]string{} // flag -> usage -> commands
	for _, p := range commandPaths {
		name := strings.TrimSpace("edge " + strings.Join(p, " "))
		out, errOut, code := runEdge(t, t.TempDir(), append(append([]string{}, p...), "-h")...)
		if code != 0 || errOut != "" {
			t.Errorf("%s -h: exit %d, stderr %q; want 0 and usage on stdout", name, code, errOut)
			continue
		}
		if !strings.HasPrefix(out, "usage: "+name) || !strings.Contains(out, "\nExamples:\n  "+name) {
			t.Errorf("%s -h lacks the synopsis %q or examples of %s:\n%s", name, "usage: "+name, name, out)
		}
		for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
			u := regexp.MustCompile(` \(default .*\)$`).ReplaceAllString(m[3], "")
			if usages[m[1]] == nil {
				usages[m[1]] = map[string][]string{}
			}
			usages[m[1]][u] = append(usages[m[1]][u], name)
		}
		if len(p) > 0 && p[0] != "version" && p[0] != "pki" || len(p) == 2 {
			// Help also as edge help CMD.
			if out2, _, code := runEdge(t, t.TempDir(), append([]string{"help"}, p...)...); code != 0 || out2 != out {
				t.Errorf("edge help %s: exit %d, output differs from %s -h", strings.Join(p, " "), code, name)
			}
		}
	}
	if len(usages) < 10 {
		t.Fatalf("found only %d flags in the help texts", len(usages))
	}
	for f, us := range usages {
		if len(us) > 1 {
			t.Errorf("flag -%s means different things: %v", f, us)
		}
		for u := range us {
			switch {
			case f == "c" && !strings.Contains(u, "configuration"):
				t.Errorf("-c is %q; it must be the configuration file everywhere", u)
			case f == "key" && !strings.Contains(u, "FILE"):
				t.Errorf("--key is %q; it must name a key file everywhere", u)
			}
		}
	}
}

// Usage errors exit 2 with the synopsis on stderr; enums are checked
// before anything runs.
func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"}, {"check"}, {"serve"}, {"serve", "-c"}, {"--no-such-flag"}, {"check", "-c", "a.yaml", "extra"},
		{"bench", "--mode", "nope"}, {"bench", "--format", "yaml"}, {"bench", "--concurrency", "0"},
		{"verify", "--trust-store-bundle", "b.pem", "--cert", "c.pem", "--format", "yaml"},
		{"verify", "--trust-store-bundle", "b.pem", "--cert", "c.pem", "--revocation-check", "rfc"},
		{"pki"}, {"pki", "frob"}, {"pki", "init", "--key-type", "dsa"}, {"pki", "init", "--key", "p256"},
		{"pki", "crl", "--ca", "root", "--crl-days", "-1"}, {"pki", "revoke", "--ca", "root", "--serial", "01", "--crl-days", "0"},
		{"pki", "client", "--ca", "root"}, {"help", "frob"},
		{"serve", "--aws", "127.0.0.1:0", "--port", "0"}, {"export"}, {"export", "--out", "x", "extra"},
	} {
		dir := t.TempDir()
		out, errOut, code := runEdge(t, dir, args...)
		if code != 2 {
			t.Errorf("edge %s: exit %d; want 2\n%s%s", strings.Join(args, " "), code, out, errOut)
			continue
		}
		if !strings.Contains(errOut, "usage: edge") || strings.Contains(errOut, "help requested") {
			t.Errorf("edge %s: stderr lacks the synopsis:\n%s", strings.Join(args, " "), errOut)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("edge %s: a usage error wrote %v", strings.Join(args, " "), entries)
		}
	}
	if _, errOut, _ := runEdge(t, t.TempDir(), "pki", "crl", "--ca", "root", "--crl-days", "-1"); !strings.Contains(errOut, "crl-days") || !strings.Contains(errOut, "at least 1") {
		t.Errorf("--crl-days -1: %s", errOut)
	}
	if _, errOut, _ := runEdge(t, t.TempDir(), "bench", "--mode", "nope"); !strings.Contains(errOut, "handshake, keepalive, mixed or idle") {
		t.Errorf("--mode nope does not list the modes: %s", errOut)
	}
}

// tree snapshots the regular files under dir: path -> content hash.
func tree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			out[p] = sha256.Sum256(b)
		}
		return nil
	})
	return out
}

var wroteLine = regexp.MustCompile(`(?m)^\s*wrote (.+)$`)

// Every edge pki command prints exactly the files it wrote, as paths that
// work from the directory it ran in, with --dir relative or absolute.
func TestPKIReportsWhatItWrote(t *testing.T) {
	for _, abs := range []bool{false, true} {
		work := t.TempDir()
		dir := "my pki"
		if abs {
			dir = filepath.Join(work, "abs pki")
		}
		steps := [][]string{
			{"pki", "init", "--dir", dir},
			{"pki", "ca", "--dir", dir, "--name", "team", "--parent", "root"},
			{"pki", "ca", "--dir", dir, "--name", "sub", "--parent", "team"},
			{"pki", "server", "--dir", dir, "--ca", "sub", "--name", "api"},
			{"pki", "server", "--dir", dir, "--ca", "root", "--name", "direct"},
			{"pki", "client", "--dir", dir, "--ca", "team", "--cn", "Jane Doe"},
			{"pki", "crl", "--dir", dir, "--ca", "team"},
			{"pki", "bundle", "--dir", dir, "--out", "out/bundle.pem", "root", "team"},
			{"pki", "bundle", "--dir", dir, "--out", filepath.Join(work, "abs-bundle.pem"), "root"},
		}
		for _, args := range steps {
			before := tree(t, work)
			out := mustEdge(t, work, args...)
			after := tree(t, work)
			var changed, printed []string
			for p, h := range after {
				if b, ok := before[p]; !ok || b != h {
					changed = append(changed, p)
				}
			}
			seen := map[string]bool{}
			for _, m := range wroteLine.FindAllStringSubmatch(out, -1) {
				for _, f := range strings.Split(m[1], ", ") {
					if !filepath.IsAbs(f) {
						f = filepath.Join(work, f)
					}
					if !seen[f] {
						seen[f] = true
						printed = append(printed, f)
					}
				}
			}
			sort.Strings(changed)
			sort.Strings(printed)
			if strings.Join(changed, "\n") != strings.Join(printed, "\n") {
				t.Errorf("edge %s (abs %v):\nprinted %q\nwrote   %q\noutput:\n%s", strings.Join(args, " "), abs, printed, changed, out)
			}
		}
		// revoke: the serial of jane-doe, as pki list prints it.
		list := mustEdge(t, work, "pki", "list", "--dir", dir)
		m := regexp.MustCompile(`jane-doe "CN=Jane Doe" serial ([0-9A-F]+)`).FindStringSubmatch(list)
		if m == nil {
			t.Fatalf("pki list:\n%s", list)
		}
		before := tree(t, work)
		out := mustEdge(t, work, "pki", "revoke", "--dir", dir, "--ca", "team", "--serial", m[1])
		after := tree(t, work)
		var changed []string
		for p, h := range after {
			if b, ok := before[p]; !ok || b != h {
				changed = append(changed, p)
			}
		}
		for _, p := range changed {
			rel, _ := filepath.Rel(work, p)
			if !strings.Contains(out, rel) {
				t.Errorf("revoke wrote %s but does not say so:\n%s", rel, out)
			}
		}
	}
}

// The naming rule: NAME.pem is the certificate alone, NAME-chain.pem its
// issuers only (no root), NAME-fullchain.pem (leaves) NAME.pem then
// NAME-chain.pem; the same in edge pki, the dev PKI and edge demo.
func TestPKINamingRule(t *testing.T) {
	work := t.TempDir()
	mustEdge(t, work, "pki", "init")
	mustEdge(t, work, "pki", "ca", "--name", "team", "--parent", "intermediate")
	mustEdge(t, work, "pki", "client", "--ca", "team", "--cn", "deep")
	mustEdge(t, work, "pki", "server", "--ca", "root", "--name", "direct")
	mustEdge(t, work, "demo", "--keep", "demo")
	if _, err := pki.EnsureDev(filepath.Join(work, ".edge")); err != nil {
		t.Fatal(err)
	}
	certs := func(p string) []*x509.Certificate {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		cs, err := pki.ParseCertsPEM(b)
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return cs
	}
	for _, dir := range []string{"pki", "demo", ".edge"} {
		keys, _ := filepath.Glob(filepath.Join(work, dir, "*.key"))
		if len(keys) < 4 {
			t.Fatalf("%s: only %d keys", dir, len(keys))
		}
		for _, k := range keys {
			name := strings.TrimSuffix(k, ".key")
			leaf := certs(name + ".pem")
			if len(leaf) != 1 {
				t.Errorf("%s.pem holds %d certificates; want the certificate alone", name, len(leaf))
				continue
			}
			chain := certs(name + "-chain.pem")
			prev := leaf[0]
			for i, c := range chain {
				if !c.IsCA || string(c.RawSubject) == string(c.RawIssuer) || prev.CheckSignatureFrom(c) != nil {
					t.Errorf("%s-chain.pem #%d is not the issuer (below the root) of the one before", name, i+1)
				}
				prev = c
			}
			if string(prev.RawSubject) != string(prev.RawIssuer) && len(certs(name+"-chain.pem")) == 0 {
				// Issued by a root: no chain file; otherwise one must exist.
				var root bool
				for _, other := range keys {
					if o := certs(strings.TrimSuffix(other, ".key") + ".pem"); len(o) == 1 && prev.CheckSignatureFrom(o[0]) == nil && string(o[0].RawSubject) == string(o[0].RawIssuer) {
						root = true
					}
				}
				if !root {
					t.Errorf("%s: issued below a root but has no -chain.pem", name)
				}
			}
			full := certs(name + "-fullchain.pem")
			if leaf[0].IsCA {
				if full != nil {
					t.Errorf("%s is a CA but has a -fullchain.pem", name)
				}
				continue
			}
			want := append(leaf, chain...)
			if len(full) != len(want) {
				t.Errorf("%s-fullchain.pem has %d certificates; want %d (NAME.pem then NAME-chain.pem)", name, len(full), len(want))
				continue
			}
			for i := range want {
				if !full[i].Equal(want[i]) {
					t.Errorf("%s-fullchain.pem #%d differs from NAME.pem + NAME-chain.pem", name, i+1)
				}
			}
		}
		for _, f := range []string{"*-full.pem"} {
			if m, _ := filepath.Glob(filepath.Join(work, dir, f)); len(m) > 0 {
				t.Errorf("%s: files outside the naming rule: %v", dir, m)
			}
		}
	}
}

func TestPKIRevokeRefusesUnknownSerials(t *testing.T) {
	work := t.TempDir()
	mustEdge(t, work, "pki", "init")
	_, errOut, code := runEdge(t, work, "pki", "revoke", "--ca", "intermediate", "--serial", "DEADBEEF")
	if code != 1 || !strings.Contains(errOut, "DEADBEEF") || !strings.Contains(errOut, "not issued by") {
		t.Errorf("unknown serial: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(work, "pki", "intermediate.crl.pem")); err == nil {
		t.Error("an unknown serial still wrote a CRL")
	}
	list := mustEdge(t, work, "pki", "list")
	client := regexp.MustCompile(`client "CN=client,O=edge" serial ([0-9A-F]+)`).FindStringSubmatch(list)
	inter := regexp.MustCompile(`intermediate "CN=edge intermediate CA,O=edge" serial ([0-9A-F]+)`).FindStringSubmatch(list)
	if client == nil || inter == nil {
		t.Fatalf("pki list:\n%s", list)
	}
	// The client was issued by the intermediate, not by the root.
	if _, errOut, code := runEdge(t, work, "pki", "revoke", "--ca", "root", "--serial", client[1]); code != 1 || !strings.Contains(errOut, "not issued by root") {
		t.Errorf("serial of another CA: exit %d, %s", code, errOut)
	}
	mustEdge(t, work, "pki", "revoke", "--ca", "root", "--serial", inter[1])
	mustEdge(t, work, "pki", "revoke", "--ca", "intermediate", "--serial", strings.ToLower(client[1]))
}

// pki init names its CAs, so that two dev PKIs differ in logs.
func TestPKIInitNames(t *testing.T) {
	work := t.TempDir()
	mustEdge(t, work, "pki", "init", "--org", "Acme Test", "--root-cn", "Acme Dev Root")
	list := mustEdge(t, work, "pki", "list")
	for _, want := range []string{`root "CN=Acme Dev Root,O=Acme Test"`, `intermediate "CN=Acme Test intermediate CA,O=Acme Test"`, `client "CN=client,O=Acme Test"`} {
		if !strings.Contains(list, want) {
			t.Errorf("pki list lacks %s:\n%s", want, list)
		}
	}
}

// edge demo --keep DIR, with DIR relative or absolute: every row as
// expected, and the kept configuration checks from anywhere.
func TestDemoKeepRelativeAndAbsolute(t *testing.T) {
	work := t.TempDir()
	for _, keep := range []string{"rel/demo", filepath.Join(work, "abs", "demo")} {
		out, errOut, code := runEdge(t, work, "demo", "--keep", keep)
		if code != 0 || strings.Contains(out, "unexpected") {
			t.Errorf("demo --keep %s: exit %d\n%s%s", keep, code, out, errOut)
		}
		cfg := keep
		if !filepath.IsAbs(cfg) {
			cfg = filepath.Join(work, keep)
		}
		if _, errOut, code := runEdge(t, t.TempDir(), "check", "-c", filepath.Join(cfg, "edge.yaml")); code != 0 {
			t.Errorf("check of the kept configuration from elsewhere: exit %d\n%s", code, errOut)
		}
		for _, f := range []string{"edge.yaml", "bundle.pem", "user2-fullchain.pem"} {
			if !strings.Contains(out, f) {
				continue
			}
			if _, err := os.Stat(filepath.Join(cfg, f)); err != nil {
				t.Errorf("the demo names %s, which it did not keep: %v", f, err)
			}
		}
	}
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServe runs edge serve -c edge.yaml in dir and returns the port of
// its first listener.
func startServe(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = dir
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	re := regexp.MustCompile(`url=https://127\.0\.0\.1:(\d+)/`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("edge serve did not start:\n%s", stderr.String())
	return ""
}

// edge bench exits 1 with the reason when no operation succeeded.
func TestBenchFailsWhenNothingSucceeds(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	edit(t, dir, "port: 18443", "port: 0")
	testutil.WriteFile(t, filepath.Join(dir, "client.pem"), pki.CertPEM(seed.C.ChainWithoutRoot()...))
	key, _ := pki.KeyPEM(seed.C.Key)
	testutil.WriteFile(t, filepath.Join(dir, "client.key"), key)
	port := startServe(t, dir)
	target := "127.0.0.1:" + port

	out, errOut, code := runEdge(t, dir, "bench", "--target", target, "--duration", "300ms", "--concurrency", "2", "--cert", "client.pem", "--key", "client.key")
	if code != 0 || !strings.Contains(out, "HTTP 200") {
		t.Errorf("bench with a trusted client: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no client certificate", []string{"--target", target}, "no client certificate was sent: a verify-mode listener refuses every handshake without one (--cert FILE --key FILE)"},
		{"nothing listening", []string{"--target", freePort(t)}, "never reached"},
		{"keepalive, nothing listening", []string{"--target", freePort(t), "--mode", "keepalive"}, "never reached"},
		{"idle, nothing listening", []string{"--target", freePort(t), "--mode", "idle", "--connections", "5", "--hold", "10ms"}, "never reached"},
	} {
		args := append([]string{"bench", "--duration", "300ms", "--concurrency", "2"}, tc.args...)
		out, errOut, code := runEdge(t, dir, args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d; want 1 and %q on stderr\n%s%s", tc.name, code, tc.want, out, errOut)
		}
	}
}

// syncBuffer is a bytes.Buffer a child process writes while the test
// reads it.
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
