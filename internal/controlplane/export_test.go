package controlplane_test

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"edge/internal/config"
	"edge/internal/controlplane"
	"edge/internal/server"
	"edge/internal/testutil"
)

// edge export writes the file layer and the API state as one edge.yaml
// with the bundles and CRLs beside it; served without the AWS endpoint it
// gives the same verdicts on the same listeners, and the revocation ids
// and load balancer ids are the API's.
func TestExportServesTheSameVerdicts(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	dir, state := t.TempDir(), t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), p.bundle())
	e := startEdge(t, dir, state, fileYAML("file"))
	a := e.alb(p, ec)
	e.upload("edge-trust", "one.pem", p.crl(t, 5))
	e.upload("edge-trust", "two.pem", p.crl(t, 0, p.revoked.Cert))
	for _, key := range []string{"one.pem", "two.pem"} {
		if _, err := e.elb.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: &a.ts,
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String(key)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.elb.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: &a.ts, RevocationIds: []int64{1}}); err != nil {
		t.Fatal(err)
	}
	_, _, errGood := get(a.port, e.devRoot(), p.good)
	_, _, errRevoked := get(a.port, e.devRoot(), p.revoked)
	if errGood != nil || errRevoked == nil {
		t.Fatalf("before export: good %v, revoked %v", errGood, errRevoked)
	}
	e.stop()

	file, err := config.Load(e.file)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "exported")
	res, err := controlplane.Export(state, file, out)
	if err != nil {
		t.Fatal(err)
	}
	yaml, _ := os.ReadFile(filepath.Join(out, "edge.yaml"))
	for _, want := range []string{"name: my-alb", "load_balancer: my-alb", "revocation_id: 2", "my-trust-store.bundle.pem", "file-store.bundle.pem"} {
		if !strings.Contains(string(yaml), want) {
			t.Errorf("exported edge.yaml lacks %q:\n%s", want, yaml)
		}
	}
	if strings.Contains(string(yaml), "\naws:") || strings.Contains(string(yaml), state) && !strings.HasPrefix(string(yaml), "# Written") {
		t.Errorf("exported edge.yaml names the endpoint or the state directory:\n%s", yaml)
	}
	lb := res.Config.LoadBalancers[len(res.Config.LoadBalancers)-1]
	if !strings.HasSuffix(a.lb, "/"+lb.ID) {
		t.Errorf("exported load balancer id %s; ARN %s", lb.ID, a.lb)
	}
	if _, err := controlplane.Export(state, file, out); err == nil {
		t.Errorf("a second export into the same directory overwrote it")
	}

	// The dev CA that served the listener (named only by its certificate
	// ARN) is copied beside the export.
	if _, err := os.Stat(filepath.Join(out, ".edge", "root.key")); err != nil {
		t.Errorf("the dev CA was not copied beside the export: %v (files %v, notes %q)", err, res.Files, res.Notes)
	}

	// Serve the export alone, as edge serve -c out/edge.yaml does (its
	// dev CA beside it): the same verdicts on the same port, with a
	// server certificate the original dev root verifies.
	conn := &syncBuffer{}
	snap, err := server.Build(res.Config, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(snap, conn, io.Discard, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	x := &edge{t: t, dir: dir, conn: conn}
	if code, body, err := get(a.port, x.devRoot(), p.good); err != nil || code != 200 || body != "echo" {
		t.Errorf("good client on the exported configuration: %d %q %v", code, body, err)
	}
	if _, _, err := get(a.port, x.devRoot(), p.revoked); err == nil {
		t.Errorf("revoked client got through the exported configuration")
	}
	x.waitConnLog(a.port, "Success", p.good)
	x.waitConnLog(a.port, "Failed:ClientCertCrlHit", p.revoked)
}

// A configuration without load balancer listeners — the API Gateway
// walkthrough: aws and api_gateway blocks, domains created through the
// API — holds nothing export can write as an edge.yaml that loads. The
// error says what export covers and writes nothing, so a rerun says the
// same rather than "exists".
func TestExportWithoutListenersIsAUserError(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "edge.yaml")
	testutil.WriteFile(t, file, []byte("aws: {listen: \"127.0.0.1:0\"}\napi_gateway: {listen: \"127.0.0.1:0\"}\n"))
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "exported")
	for run := 1; run <= 2; run++ {
		_, err := controlplane.Export(state, cfg, out)
		if !errors.Is(err, controlplane.ErrNoListeners) {
			t.Fatalf("run %d: Export = %v; want ErrNoListeners", run, err)
		}
		for _, want := range []string{"no load balancer listeners", "ELBv2", "api_gateway", `docs/aws-endpoint.md "edge export"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("run %d: the error lacks %q: %v", run, want, err)
			}
		}
		if strings.Contains(err.Error(), "a bug") {
			t.Errorf("run %d: a user's configuration reported as a bug: %v", run, err)
		}
		if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("run %d: the failed export left %s behind (%v)", run, out, err)
		}
	}
}

// An export that fails half way — a file the configuration names cannot
// be read after the bundle was copied — leaves no partial output: neither
// a new directory nor files in an existing one.
func TestExportLeavesNothingOnFailure(t *testing.T) {
	p := newPKI(t)
	dir, state := t.TempDir(), t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), p.bundle())
	file := filepath.Join(dir, "edge.yaml")
	testutil.WriteFile(t, file, []byte(fileYAML("file")+`  - port: 0
    protocol: HTTPS
    certificates: [{certificate: gone.pem, private_key: gone.key}]
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]
`))
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "exported")
	existing := t.TempDir()
	testutil.WriteFile(t, filepath.Join(existing, "README"), []byte("mine\n"))
	for _, out := range []string{fresh, existing} {
		if _, err := controlplane.Export(state, cfg, out); err == nil || !strings.Contains(err.Error(), "gone.pem") {
			t.Fatalf("Export into %s = %v; want the unreadable gone.pem", out, err)
		}
	}
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed export left %s behind (%v)", fresh, err)
	}
	if names := dirNames(t, existing); strings.Join(names, " ") != "README" {
		t.Errorf("the failed export left files in the existing directory: %v", names)
	}
	for _, d := range []string{filepath.Dir(fresh), filepath.Dir(existing)} {
		for _, n := range dirNames(t, d) {
			if strings.HasPrefix(n, ".") {
				t.Errorf("the failed export left its work directory %s in %s", n, d)
			}
		}
	}

	// The same export without the missing certificate goes into the
	// existing directory beside what it holds; a name it would overwrite
	// is refused.
	testutil.WriteFile(t, file, []byte(fileYAML("file")))
	if cfg, err = config.Load(file); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(existing, "file-store.bundle.pem"), []byte("mine\n"))
	if _, err := controlplane.Export(state, cfg, existing); err == nil || !strings.Contains(err.Error(), "file-store.bundle.pem exists") {
		t.Errorf("Export over an existing file-store.bundle.pem = %v; want it refused", err)
	}
	if names := dirNames(t, existing); strings.Join(names, " ") != "README file-store.bundle.pem" {
		t.Errorf("the refused export changed the directory: %v", names)
	}
	os.Remove(filepath.Join(existing, "file-store.bundle.pem"))
	res, err := controlplane.Export(state, cfg, existing)
	if err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, existing); strings.Join(names, " ") != "README edge.yaml file-store.bundle.pem" {
		t.Errorf("export into an existing directory: %v", names)
	}
	if res.Config.File != filepath.Join(existing, "edge.yaml") {
		t.Errorf("the returned configuration is %s; want the written file", res.Config.File)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
