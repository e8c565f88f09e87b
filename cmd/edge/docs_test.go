package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// docFiles are the README and every page of docs/.
func docFiles(t *testing.T) map[string]string {
	t.Helper()
	root := testutil.RepoRoot(t)
	paths, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	paths = append(paths, filepath.Join(root, "README.md"))
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = string(b)
	}
	if len(out) < 4 {
		t.Fatalf("found only %v", out)
	}
	return out
}

// fence is one fenced block of a markdown file.
type fence struct {
	lang, body string
	line       int
}

func fences(md string) []fence {
	var out []fence
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		f := fence{lang: strings.TrimSpace(lang), line: i + 1}
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		f.body = strings.Join(body, "\n") + "\n"
		out = append(out, f)
	}
	return out
}

// The README and docs stand alone: every link and path they give stays
// inside the repository.
func TestDocsStandAlone(t *testing.T) {
	root := testutil.RepoRoot(t)
	link := regexp.MustCompile(`\]\(([^)#\s]+)(?:#[^)]*)?\)`)
	// A path that climbs out of the repository ("../shared", "`../x`"),
	// not a URI's dot segment such as "/public/../admin".
	outside := regexp.MustCompile(`(^|[\s(\x60"'])\.\./|shared/`)
	for name, md := range docFiles(t) {
		for i, line := range strings.Split(md, "\n") {
			if outside.MatchString(line) {
				t.Errorf("%s:%d points outside the repository: %s", name, i+1, line)
			}
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				if strings.Contains(m[1], "://") {
					continue
				}
				target := filepath.Join(root, filepath.Dir(name), m[1])
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s:%d links to %s, which does not exist", name, i+1, m[1])
				}
			}
		}
	}
}

// examplePKI prepares a directory holding every file the examples name:
// edge pki init, the intermediate's CRL, and a dev PKI.
func examplePKI(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustEdge(t, dir, "pki", "init")
	mustEdge(t, dir, "pki", "crl", "--ca", "intermediate")
	if _, err := pki.EnsureDev(filepath.Join(dir, ".edge")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Every YAML block of the README and docs that is a whole configuration
// passes edge check; a fragment says so in its first line ("# partial").
// The embedded default configuration too.
func TestExampleConfigsAreValid(t *testing.T) {
	dir := examplePKI(t)
	blocks := map[string]string{}
	for name, md := range docFiles(t) {
		for _, f := range fences(md) {
			if f.lang != "yaml" || strings.HasPrefix(strings.TrimSpace(f.body), "# partial") {
				continue
			}
			blocks[name+":"+strconv.Itoa(f.line)] = f.body
		}
	}
	def, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "configs", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	blocks["configs/default.yaml"] = string(def)
	if len(blocks) < 5 {
		t.Fatalf("found only %d YAML examples", len(blocks))
	}
	for where, body := range blocks {
		testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(body))
		if out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml"); code != 0 {
			t.Errorf("%s: edge check: exit %d\n%s%s\nmark a fragment with a first line \"# partial\"", where, code, out, errOut)
		}
	}
}

// The debug switches are where an operator looks: the README's
// Troubleshooting section and edge serve -h name every EDGE_ variable the
// code reads.
func TestTroubleshootingNamesEveryDebugSwitch(t *testing.T) {
	root := testutil.RepoRoot(t)
	getenv := regexp.MustCompile(`Getenv\("(EDGE_[A-Z0-9_]+)"\)`)
	vars := map[string]bool{}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, m := range getenv.FindAllSubmatch(b, -1) {
			vars[string(m[1])] = true
		}
		return nil
	})
	if len(vars) < 4 {
		t.Fatalf("found only %v", vars)
	}
	readme := docFiles(t)["README.md"]
	i := strings.Index(readme, "\n## Troubleshooting\n")
	if i < 0 {
		t.Fatal("README has no Troubleshooting section")
	}
	section := readme[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	help, _, _ := runEdge(t, t.TempDir(), "serve", "-h")
	for v := range vars {
		if !strings.Contains(section, "`"+v) {
			t.Errorf("README's Troubleshooting section does not explain %s", v)
		}
		if !strings.Contains(help, v) {
			t.Errorf("edge serve -h does not name %s", v)
		}
	}
}

var (
	serialRe = regexp.MustCompile(`\b[0-9A-F]{16,40}\b`)
	dateRe   = regexp.MustCompile(`\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?Z)?`)
	curlErr  = regexp.MustCompile(`^(curl: \(\d+\)).*`)
)

// sameOutput compares README output with a real run: serials and times may
// differ (README serials are mapped to the real ones, for later commands),
// curl's error text depends on its TLS library.
func sameOutput(want, got string, serials map[string]string) bool {
	w := strings.Split(strings.TrimRight(want, "\n"), "\n")
	g := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(w) != len(g) {
		return false
	}
	for i := range w {
		wl, gl := curlErr.ReplaceAllString(w[i], "$1"), curlErr.ReplaceAllString(g[i], "$1")
		ws, gs := serialRe.FindAllString(wl, -1), serialRe.FindAllString(gl, -1)
		norm := func(s string) string { return dateRe.ReplaceAllString(serialRe.ReplaceAllString(s, "SERIAL"), "DATE") }
		if norm(wl) != norm(gl) || len(ws) != len(gs) {
			return false
		}
		for k := range ws {
			if have, ok := serials[ws[k]]; ok && have != gs[k] {
				return false
			}
			serials[ws[k]] = gs[k]
		}
	}
	return true
}

// The README's tutorial, run as written: each console command in order
// (./edge is the binary under test), its output compared with the
// README's; the YAML blocks become edge.yaml; edge serve runs in the
// background (on a free port: tests bind no fixed port) for the curl steps.
func TestREADMETutorial(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (.ci/run installs it)")
	}
	readme := docFiles(t)["README.md"]
	start := strings.Index(readme, "## Tutorial")
	end := strings.Index(readme[start:], "\n## PKI files")
	if start < 0 || end < 0 {
		t.Fatal("README has no tutorial section")
	}
	work := t.TempDir()
	serials := map[string]string{}
	port := ""
	writeConfig := func(body string) {
		testutil.WriteFile(t, filepath.Join(work, "edge.yaml"), []byte(body))
		testutil.WriteFile(t, filepath.Join(work, "edge-test.yaml"), []byte(strings.Replace(body, "port: 8443", "port: 0", 1)))
	}
	steps := 0
	for _, f := range fences(readme[start : start+end]) {
		switch f.lang {
		case "yaml":
			writeConfig(f.body)
			continue
		case "console":
		default:
			continue
		}
		type step struct{ cmd, out string }
		var cmds []step
		for _, line := range strings.Split(strings.TrimRight(f.body, "\n"), "\n") {
			if c, ok := strings.CutPrefix(line, "$ "); ok {
				cmds = append(cmds, step{cmd: c})
			} else if len(cmds) > 0 {
				cmds[len(cmds)-1].out += line + "\n"
			}
		}
		for _, s := range cmds {
			cmd := s.cmd
			for readmeSerial, real := range serials {
				cmd = strings.ReplaceAll(cmd, readmeSerial, real)
			}
			switch {
			case strings.HasPrefix(cmd, "go build -o "):
				if err := os.Symlink(edgeBin, filepath.Join(work, "edge")); err != nil {
					t.Fatal(err)
				}
				continue
			case strings.HasPrefix(cmd, "cd "):
				continue
			case strings.HasPrefix(cmd, "curl "):
				if port == "" {
					port = startTutorialServer(t, work)
				}
				cmd = strings.ReplaceAll(cmd, "https://localhost:8443/", "https://localhost:"+port+"/")
			case !strings.HasPrefix(cmd, "./edge "):
				t.Fatalf("the tutorial runs %q; teach this test what it means", cmd)
			}
			steps++
			var got string
			// A reload follows a changed edge.yaml within a second.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				c := exec.Command("sh", "-c", cmd)
				c.Dir = work
				var stdout, stderr bytes.Buffer
				c.Stdout, c.Stderr = &stdout, &stderr
				c.Run()
				got = stdout.String()
				for _, l := range strings.SplitAfter(stderr.String(), "\n") {
					// curl's progress meter shows only when stdout is not a
					// terminal; what a terminal shows is its error line.
					if !strings.HasPrefix(cmd, "curl ") || strings.HasPrefix(l, "curl: ") {
						got += l
					}
				}
				if sameOutput(s.out, got, serials) || !strings.HasPrefix(cmd, "curl ") || time.Now().After(deadline) {
					break
				}
			}
			if !sameOutput(s.out, got, serials) {
				t.Errorf("$ %s\nREADME shows:\n%s\nthe run printed:\n%s", s.cmd, s.out, got)
			}
		}
	}
	if steps < 9 {
		t.Errorf("ran only %d tutorial commands", steps)
	}
}

func startTutorialServer(t *testing.T, work string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(work, "edge"), "serve", "-c", "edge-test.yaml")
	cmd.Dir = work
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	re := regexp.MustCompile(`url=https://[^ ]+:(\d+)/`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("edge serve did not start:\n%s", stderr.String())
	return ""
}
