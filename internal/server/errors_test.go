package server_test

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

// Build's problems keep the type of their cause: a caller (the admin API,
// the AWS endpoint) tells them apart with errors.Is/As, never by text.
func TestBuildProblemsKeepTheirCause(t *testing.T) {
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		testutil.WriteFile(t, p, []byte(data))
		return p
	}
	bundle, _ := readFileString(seed.BundlePath)
	blank := write("blank.pem", strings.Replace(bundle, "-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\n\n", 1))
	garbage := write("garbage.crl", "not a CRL\n")
	two := write("two.crl", string(crlPEMFor(t, seed.B, seed.C, testutil.Client(t, seed.B, pki.Options{}))))
	foreign := write("foreign.crl", string(crlPEMFor(t, seed.G, seed.H)))
	build := func(store string) error {
		yaml := "logs: {connection: \"off\", access: \"off\"}\ntrust_stores:\n  - " + store + `
listeners:
  - port: 0
    mutual_authentication: {mode: verify, trust_store: ts}
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]
`
		cfg, err := config.Parse([]byte(yaml), filepath.Join(dir, "edge.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = server.Build(cfg, server.Options{DevPKIDir: filepath.Join(dir, ".edge")})
		if err == nil {
			t.Fatalf("Build of %s succeeded", store)
		}
		var ps config.Problems
		if !errors.As(err, &ps) {
			t.Errorf("Build's error %T is not config.Problems", err)
		}
		return err
	}

	var be *truststore.BundleError
	if err := build("{name: ts, ca_certificates_bundle: " + blank + "}"); !errors.As(err, &be) || len(be.Problems) == 0 {
		t.Errorf("a bundle with a blank line: %v; want a *truststore.BundleError", err)
	}
	if err := build("{name: ts, ca_certificates_bundle: " + filepath.Join(dir, "missing.pem") + "}"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing bundle: %v; want fs.ErrNotExist", err)
	}
	for name, crl := range map[string]string{"not a CRL": garbage, "a CRL of a CA outside the store": foreign} {
		if err := build("{name: ts, ca_certificates_bundle: " + seed.BundlePath + ", revocations: [" + crl + "]}"); !errors.Is(err, truststore.ErrInvalidRevocationContent) {
			t.Errorf("%s: %v; want truststore.ErrInvalidRevocationContent", name, err)
		}
	}
	err := build("{name: ts, ca_certificates_bundle: " + seed.BundlePath + ", max_revocation_entries: 1, revocations: [" + two + "]}")
	if !errors.Is(err, truststore.ErrTooManyRevocationEntries) || errors.Is(err, truststore.ErrInvalidRevocationContent) {
		t.Errorf("past max_revocation_entries: %v; want truststore.ErrTooManyRevocationEntries only", err)
	}
}

// A port in use is a *server.ListenError wrapping EADDRINUSE, and stays
// one inside config.Problems (as `edge serve` reports it).
func TestListenErrorIsAddrInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	cfg, err := config.Parse([]byte(`logs: {connection: "off", access: "off"}
listeners:
  - {port: `+itoa(port)+`, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]}
`), filepath.Join(t.TempDir(), "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := server.Build(cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.Start(snap, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var le *server.ListenError
	if !errors.As(err, &le) || le.Listener != 0 || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Start on a taken port: %v; want a *server.ListenError wrapping EADDRINUSE", err)
	}
	ps := config.Problems{cfg.ProblemErr(err, "listeners[0].port", "in use")}
	if !errors.Is(ps, syscall.EADDRINUSE) || !errors.As(ps, &le) {
		t.Errorf("the problem made of it lost its cause: %v", ps)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func readFileString(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
