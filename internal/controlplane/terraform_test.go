package controlplane_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"edge/internal/testutil"
)

// tfMirror is where this machine keeps the hashicorp/aws provider 5.100.0
// (the optional Terraform tier).
const tfMirror = "/opt/tf-plugins"

// TestTerraformALBWithMTLS applies a trust store with a revocation, an
// ALB, a target group with an echo target and an mTLS verify listener
// (testdata/terraform/main.tf, from the captured configurations) against
// edge; a trusted client gets 200 through the listener and the revoked one
// is refused; a second plan shows no drift; destroy leaves nothing, the
// port closed. It runs with EDGE_TERRAFORM=1, as .ci/run sets it (a few minutes: the
// provider's own waits) and skips, visibly, without terraform or the
// provider mirror.
func TestTerraformALBWithMTLS(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if _, serr := os.Stat(filepath.Join(tfMirror, "registry.terraform.io/hashicorp/aws/5.100.0")); err != nil || serr != nil {
		msg := fmt.Sprintf("SKIP %s: terraform or the hashicorp/aws 5.100.0 provider mirror (%s) is absent; the Terraform tier is optional", t.Name(), tfMirror)
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	if os.Getenv("EDGE_TERRAFORM") == "" {
		t.Skip("the Terraform tier is optional and slow; set EDGE_TERRAFORM=1 to run it (.ci/run does)")
	}
	p := newPKI(t)
	ec := newEcho(t)
	e := startEdge(t, t.TempDir(), t.TempDir(), baseYAML)
	e.upload("edge-trust", "bundle.pem", p.bundle())
	e.upload("edge-trust", "crl/intermediate.crl.pem", p.crl(t, 0, p.revoked.Cert))
	port := freePort(t)
	dir := t.TempDir()
	main, err := os.ReadFile(filepath.Join("testdata", "terraform", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	tfText := strings.NewReplacer("ENDPOINT", e.url, "LISTENER_PORT", itoa(port), "TARGET_PORT", itoa(ec.port())).Replace(string(main))
	testutil.WriteFile(t, filepath.Join(dir, "main.tf"), []byte(tfText))
	rc := filepath.Join(dir, "terraformrc")
	testutil.WriteFile(t, rc, []byte(fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\ndisable_checkpoint = true\n", tfMirror)))
	run := func(args ...string) (string, int) {
		start := time.Now()
		cmd := exec.Command(tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("terraform %s: exit %d in %v", args[0], code, time.Since(start).Round(time.Second))
		return string(out), code
	}
	if out, code := run("init", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("terraform init: %d\n%s", code, out)
	}
	if out, code := run("apply", "-auto-approve", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("terraform apply: %d\n%s\n%s", code, out, e.log.String())
	}
	if code, body, err := get(port, e.devRoot(), p.good); err != nil || code != 200 || body != "echo" {
		t.Errorf("trusted client through the Terraform listener: %d %q %v", code, body, err)
	}
	if _, _, err := get(port, e.devRoot(), p.revoked); err == nil {
		t.Errorf("the revoked client got through the Terraform listener")
	}
	e.waitConnLog(port, "Failed:ClientCertCrlHit", p.revoked)
	if out, code := run("plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Errorf("terraform plan after apply: exit %d (2 = drift)\n%s", code, out)
	}
	if out, code := run("destroy", "-auto-approve", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("terraform destroy: %d\n%s", code, out)
	}
	ts, err1 := e.elb.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{})
	lbs, err2 := e.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	tgs, err3 := e.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err1 != nil || err2 != nil || err3 != nil || len(ts.TrustStores)+len(lbs.LoadBalancers)+len(tgs.TargetGroups) != 0 {
		t.Errorf("left after destroy: %v %v %v %+v %+v %+v", err1, err2, err3, ts, lbs, tgs)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(port)), time.Second); err == nil {
		c.Close()
		t.Errorf("the listener's port accepts after destroy")
	}
}
