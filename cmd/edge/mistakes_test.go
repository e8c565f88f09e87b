package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"edge/internal/testutil"
)

// Common file mistakes get one clear line each: what the file is, where,
// and what to do.
func TestCommonFileMistakes(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		args   []string
		want   []string // regexps, one per stderr line
	}{
		{"tab indenting a key", func(t *testing.T, dir string) {
			edit(t, dir, "    ssl_policy:", "\tssl_policy:")
		}, nil, []string{`^edge\.yaml:9: a tab in the indentation: YAML does not allow tabs; indent with spaces$`}},
		{"tab after spaces", func(t *testing.T, dir string) {
			edit(t, dir, "        private_key: server.key", "      \tprivate_key: server.key")
		}, nil, []string{`^edge\.yaml:12: a tab in the indentation: YAML does not allow tabs`}},
		{"tab before a list item", func(t *testing.T, dir string) {
			edit(t, dir, "  - port: 18443", "\t- port: 18443")
		}, nil, []string{`^edge\.yaml:8: a tab in the indentation: YAML does not allow tabs`}},
		{"tab on a blank line", func(t *testing.T, dir string) {
			edit(t, dir, "listeners:\n", "listeners:\n\t\n")
		}, nil, []string{`^edge\.yaml:8: a tab in the indentation: YAML does not allow tabs`}},
		{"certificate passed as -c", nil, []string{"check", "-c", "server.pem"},
			[]string{`^server\.pem: this is a PEM file \("CERTIFICATE"\), not a YAML configuration: -c takes the edge\.yaml that names it \(listeners\[\]\.certificates`}},
		{"key passed as -c", nil, []string{"check", "-c", "server.key"},
			[]string{`^server\.key: this is a PEM file \("PRIVATE KEY"\), not a YAML configuration`}},
		{"encrypted private key (legacy PEM)", func(t *testing.T, dir string) {
			encryptKeyLegacy(t, filepath.Join(dir, "server.key"))
		}, nil, []string{`^.*server\.key: the private key is encrypted \(PEM "EC PRIVATE KEY"\): edge, like ACM, needs it unencrypted; decrypt it with: openssl pkey -in key\.pem -out key-decrypted\.pem .*\(listeners\[0\]\.certificates\[0\]\.private_key at edge\.yaml:12\)$`}},
		{"encrypted private key (PKCS#8)", func(t *testing.T, dir string) {
			encryptKeyPKCS8(t, dir, "server.key")
		}, nil, []string{`^.*server\.key: the private key is encrypted \(PEM "ENCRYPTED PRIVATE KEY"\).*openssl pkey -in key\.pem -out key-decrypted\.pem`}},
		{"unwritable log path", func(t *testing.T, dir string) {
			edit(t, dir, "connection: file:logs/conn.log", "connection: file:edge.yaml/conn.log")
		}, nil, []string{`^edge\.yaml:3: logs\.connection: .*edge\.yaml/conn\.log cannot be written: .*edge\.yaml is a file, not a directory$`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			checkFixture(t, dir)
			if tc.break_ != nil {
				tc.break_(t, dir)
			}
			args := tc.args
			if args == nil {
				args = []string{"check", "-c", "edge.yaml"}
			}
			out, errOut, code := runEdge(t, dir, args...)
			if code != 1 {
				t.Fatalf("exit %d; want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d lines; want %d:\n%s", len(lines), len(tc.want), errOut)
			}
			for i, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(lines[i]) {
					t.Errorf("line %d = %q; want it to match %s", i, lines[i], w)
				}
			}
		})
	}
}

func encryptKeyLegacy(t *testing.T, path string) {
	t.Helper()
	data, _ := os.ReadFile(path)
	b, _ := pem.Decode(data)
	// The legacy form openssl ec -aes256 writes ("Proc-Type: 4,ENCRYPTED").
	//lint:ignore SA1019 making the deprecated format on purpose
	enc, err := x509.EncryptPEMBlock(bytes.NewReader(make([]byte, 64)), "EC PRIVATE KEY", b.Bytes, []byte("pw"), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, path, pem.EncodeToMemory(enc))
}

func encryptKeyPKCS8(t *testing.T, dir, name string) {
	t.Helper()
	if out, err := openssl(t, "pkey", "-in", filepath.Join(dir, name), "-aes256", "-passout", "pass:pw", "-out", filepath.Join(dir, name+".enc")); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(dir, name+".enc"), filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// edge serve names the listener (file:line) whose port is taken and
// what to do, and the log destination it cannot write.
func TestServeStartMistakes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	dir := t.TempDir()
	checkFixture(t, dir)
	edit(t, dir, "port: 18443", "port: "+port)
	cmd := exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("port in use: exit %d (%v)\n%s", code, err, out)
	}
	want := regexp.MustCompile(`(?m)^edge\.yaml:8: listeners\[0\]\.port: 127\.0\.0\.1:` + port + ` is already in use .*--port`)
	if !want.Match(out) {
		t.Errorf("port in use: want a line matching %s\n%s", want, out)
	}

	dir = t.TempDir()
	checkFixture(t, dir)
	edit(t, dir, "port: 18443", "port: 0")
	edit(t, dir, "connection: file:logs/conn.log", "connection: file:edge.yaml/conn.log")
	cmd = exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !regexp.MustCompile(`(?m)^edge\.yaml:3: logs\.connection: .*conn\.log cannot be written`).Match(out) {
		t.Errorf("unwritable log: exit %d (%v)\n%s", code, err, out)
	}
}
