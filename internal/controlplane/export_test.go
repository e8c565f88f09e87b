package controlplane_test

import (
	"io"
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

	// Serve the export alone: the same verdicts on the same port.
	conn := &syncBuffer{}
	snap, err := server.Build(res.Config, server.Options{DevPKIDir: filepath.Join(dir, ".edge")})
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
