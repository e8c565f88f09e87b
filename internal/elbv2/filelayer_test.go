package elbv2_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/testutil"
)

func TestFileLayerReadOnlyExceptRevocations(t *testing.T) {
	x := newH(t)
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), bundlePEM(x.root, x.inter))
	cfg, err := config.Parse([]byte("trust_stores:\n  - name: file-store\n    ca_certificates_bundle: bundle.pem\nlisteners:\n  - port: 0\n    mutual_authentication: {mode: verify, trust_store: file-store}\n    default_actions: [{type: fixed-response, fixed_response_config: {status_code: \"200\"}}]\n"), filepath.Join(dir, "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	x.app.file = cfg
	arn := elbv2.FileTrustStoreARN("us-east-1", "123456789012", "file-store")
	d, err := x.c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{Names: []string{"file-store"}})
	if err != nil || *d.TrustStores[0].TrustStoreArn != arn || *d.TrustStores[0].NumberOfCaCertificates != 2 {
		t.Fatalf("file-layer store: %v %+v", err, d)
	}
	_, err = x.c.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: &arn})
	var onp *types.OperationNotPermittedException
	if !errors.As(err, &onp) {
		t.Errorf("delete a file-layer store: %v", err)
	}
	x.s3.put("edge-trust", "c.pem", crl(t, x.inter, 2))
	r, err := x.c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: &arn,
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String("c.pem")}}})
	if err != nil || *r.TrustStoreRevocations[0].RevocationId != 1 {
		t.Fatalf("revocation on a file-layer store: %v", err)
	}
	if derived := x.app.last(); len(derived.TrustStores) != 1 || len(derived.TrustStores[0].Revocations) != 1 {
		t.Errorf("derived %+v", derived.TrustStores)
	}
	_, err = x.c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("file-store"), CaCertificatesBundleS3Bucket: aws.String("edge-trust"), CaCertificatesBundleS3Key: aws.String("c.pem")})
	var dup *types.DuplicateTrustStoreNameException
	if !errors.As(err, &dup) {
		t.Errorf("API create of a file-layer name: %v", err)
	}
}
