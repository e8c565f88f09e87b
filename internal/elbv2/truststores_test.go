package elbv2_test

import (
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"edge/internal/elbv2"
	"edge/internal/pki"
)

var trustStoreARN = regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/my-trust-store/[0-9a-f]{16}$`)

func (x *h) createStore(name, key string) types.TrustStore {
	x.t.Helper()
	out, err := x.c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String(name), CaCertificatesBundleS3Bucket: aws.String("edge-trust"), CaCertificatesBundleS3Key: aws.String(key)})
	if err != nil {
		x.t.Fatalf("CreateTrustStore %s: %v", name, err)
	}
	return out.TrustStores[0]
}

func TestTrustStoreLifecycle(t *testing.T) {
	x := newH(t)
	old := x.s3.put("edge-trust", "bundle.pem", bundlePEM(x.root))
	x.s3.put("edge-trust", "bundle.pem", bundlePEM(x.root, x.inter))
	out, err := x.c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("my-trust-store"), CaCertificatesBundleS3Bucket: aws.String("edge-trust"),
		CaCertificatesBundleS3Key: aws.String("bundle.pem"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	if err != nil {
		t.Fatal(err)
	}
	ts := out.TrustStores[0]
	if !trustStoreARN.MatchString(*ts.TrustStoreArn) || ts.Status != types.TrustStoreStatusActive || *ts.NumberOfCaCertificates != 2 || *ts.TotalRevokedEntries != 0 {
		t.Fatalf("created %+v", ts)
	}
	// The same name again.
	_, err = x.c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("my-trust-store"), CaCertificatesBundleS3Bucket: aws.String("edge-trust"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
	var dup *types.DuplicateTrustStoreNameException
	if !errors.As(err, &dup) {
		t.Errorf("duplicate name: %v", err)
	}
	// A pinned old version loads the old bytes; overwriting S3 later
	// changes nothing.
	pinned, err := x.c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("pinned"), CaCertificatesBundleS3Bucket: aws.String("edge-trust"),
		CaCertificatesBundleS3Key: aws.String("bundle.pem"), CaCertificatesBundleS3ObjectVersion: aws.String(old)})
	if err != nil || *pinned.TrustStores[0].NumberOfCaCertificates != 1 {
		t.Fatalf("pinned version: %v %+v", err, pinned)
	}
	x.s3.put("edge-trust", "bundle.pem", []byte("garbage"))
	d, err := x.c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{Names: []string{"my-trust-store"}})
	if err != nil || *d.TrustStores[0].NumberOfCaCertificates != 2 {
		t.Fatalf("after the S3 object changed: %v %+v", err, d)
	}
	// Tags.
	tags, err := x.c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{*ts.TrustStoreArn}})
	if err != nil || len(tags.TagDescriptions[0].Tags) != 1 || *tags.TagDescriptions[0].Tags[0].Value != "dev" {
		t.Fatalf("tags %v %+v", err, tags)
	}
	// The bundle's Location serves the bytes loaded.
	loc, err := x.c.GetTrustStoreCaCertificatesBundle(ctx, &elb.GetTrustStoreCaCertificatesBundleInput{TrustStoreArn: ts.TrustStoreArn})
	if err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, *loc.Location, 200); got != string(bundlePEM(x.root, x.inter)) {
		t.Errorf("bundle Location served %q", got)
	}
	fetch(t, strings.Replace(*loc.Location, "X-Amz-Signature=", "X-Amz-Signature=0", 1), 403)
	// Modify with a one-CA bundle.
	x.s3.put("edge-trust", "one.pem", bundlePEM(x.inter))
	m, err := x.c.ModifyTrustStore(ctx, &elb.ModifyTrustStoreInput{TrustStoreArn: ts.TrustStoreArn, CaCertificatesBundleS3Bucket: aws.String("edge-trust"), CaCertificatesBundleS3Key: aws.String("one.pem")})
	if err != nil || *m.TrustStores[0].NumberOfCaCertificates != 1 {
		t.Fatalf("modify: %v", err)
	}
	if cfg := x.app.last(); len(cfg.TrustStores) != 2 || cfg.TrustStores[0].Name != "my-trust-store" {
		t.Fatalf("derived trust stores %+v", cfg.TrustStores)
	} else if b, _ := os.ReadFile(cfg.TrustStores[0].CACertificatesBundle); string(b) != string(bundlePEM(x.inter)) {
		t.Errorf("the derived bundle file holds %q", b)
	}
	// Delete, then it is gone.
	if _, err := x.c.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: ts.TrustStoreArn}); err != nil {
		t.Fatal(err)
	}
	_, err = x.c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{TrustStoreArns: []string{*ts.TrustStoreArn}})
	var nf *types.TrustStoreNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("describe deleted: %v", err)
	}
}

func fetch(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Errorf("GET %s: %d %s, want %d", url, resp.StatusCode, b, status)
	}
	return string(b)
}

func TestTrustStoreBadBundles(t *testing.T) {
	x := newH(t)
	x.s3.put("edge-trust", "crl/a.pem", bundlePEM(x.root))
	client, err := x.inter.IssueClient(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	blank := strings.Replace(string(bundlePEM(x.root, x.inter)), "-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\n\n", 1)
	x.s3.put("edge-trust", "blank.pem", []byte(blank))
	x.s3.put("edge-trust", "leaf.pem", pki.CertPEM(client.Cert))
	var many []*pki.CA
	for i := 0; i < 26; i++ {
		many = append(many, x.root)
	}
	x.s3.put("edge-trust", "26.pem", bundlePEM(many...))
	x.s3.put("edge-trust", "der/root.cer", x.root.Cert.Raw)
	for _, c := range []struct {
		key, want string
		err       any
	}{
		{"/crl/a.pem", `s3://edge-trust//crl/a.pem does not exist (did you mean "crl/a.pem"?)`, new(*types.CaCertificatesBundleNotFoundException)},
		{"blank.pem", "blank line", new(*types.InvalidCaCertificatesBundleException)},
		{"leaf.pem", "not a CA", new(*types.InvalidCaCertificatesBundleException)},
		{"26.pem", "25", new(*types.InvalidCaCertificatesBundleException)},
		// The fix for an S3 object runs: download, convert, upload.
		{"der/root.cer", "s3://edge-trust/der/root.cer: the object is a DER certificate; ALB takes PEM only: convert it with `aws s3 cp s3://edge-trust/der/root.cer root.cer && openssl x509 -inform DER -in root.cer -out root.cer.pem && aws s3 cp root.cer.pem s3://edge-trust/der/root.cer.pem`, then use s3://edge-trust/der/root.cer.pem", new(*types.InvalidCaCertificatesBundleException)},
	} {
		_, err := x.c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("s"), CaCertificatesBundleS3Bucket: aws.String("edge-trust"), CaCertificatesBundleS3Key: aws.String(c.key)})
		if !errors.As(err, c.err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %T containing %q", c.key, err, c.err, c.want)
		}
	}
	if len(x.app.applied) != 0 {
		t.Errorf("failed creates were applied")
	}
}

func TestRevocations(t *testing.T) {
	x := newH(t)
	x.s3.put("edge-trust", "bundle.pem", bundlePEM(x.root, x.inter))
	ts := x.createStore("my-trust-store", "bundle.pem")
	x.s3.put("edge-trust", "crl/intermediate.crl.pem", crl(t, x.inter, 3))
	x.s3.put("edge-trust", "crl/root.crl.pem", crl(t, x.root, 2))
	add := func(key string) (*elb.AddTrustStoreRevocationsOutput, error) {
		return x.c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn,
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String(key), RevocationType: types.RevocationTypeCrl}}})
	}
	r1, err := add("crl/intermediate.crl.pem")
	if err != nil || *r1.TrustStoreRevocations[0].RevocationId != 1 || *r1.TrustStoreRevocations[0].NumberOfRevokedEntries != 3 {
		t.Fatalf("first revocation: %v %+v", err, r1)
	}
	if r2, err := add("crl/root.crl.pem"); err != nil || *r2.TrustStoreRevocations[0].RevocationId != 2 {
		t.Fatalf("second: %v", err)
	}
	if _, err := x.c.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn, RevocationIds: []int64{1}}); err != nil {
		t.Fatal(err)
	}
	if r3, err := add("crl/intermediate.crl.pem"); err != nil || *r3.TrustStoreRevocations[0].RevocationId != 3 {
		t.Fatalf("re-added: %v (ids are never reused)", err)
	}
	_, err = x.c.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn, RevocationIds: []int64{1}})
	var nf *types.RevocationIdNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("removed id: %v", err)
	}
	d, err := x.c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{TrustStoreArns: []string{*ts.TrustStoreArn}})
	if err != nil || *d.TrustStores[0].TotalRevokedEntries != 5 {
		t.Errorf("TotalRevokedEntries: %v %+v", err, d)
	}
	loc, err := x.c.GetTrustStoreRevocationContent(ctx, &elb.GetTrustStoreRevocationContentInput{TrustStoreArn: ts.TrustStoreArn, RevocationId: aws.Int64(2)})
	if err != nil {
		t.Fatalf("content: %v", err)
	}
	if got := fetch(t, *loc.Location, 200); !strings.HasPrefix(got, "-----BEGIN X509 CRL-----") {
		t.Errorf("revocation Location served %q", got)
	}
	// Persistence: the same ids after a restart, and the next one is 4.
	x.restart()
	r, err := x.c.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn})
	if err != nil || len(r.TrustStoreRevocations) != 2 || *r.TrustStoreRevocations[0].RevocationId != 2 || *r.TrustStoreRevocations[1].RevocationId != 3 {
		t.Fatalf("after restart: %v %+v", err, r)
	}
	if r4, err := add("crl/root.crl.pem"); err != nil || *r4.TrustStoreRevocations[0].RevocationId != 4 {
		t.Fatalf("after restart the next id: %v", err)
	}

	// Bad CRLs.
	foreign := crl(t, x.inter, 1)
	other := newH(t)
	x.s3.put("edge-trust", "foreign.pem", crl(t, other.root, 1))
	blk, _ := pem.Decode(foreign)
	x.s3.put("edge-trust", "der.crl", blk.Bytes)
	x.s3.put("edge-trust", "junk.pem", []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))
	for _, c := range []struct {
		key, want string
		err       any
	}{
		{"foreign.pem", "not signed by a CA certificate of trust store my-trust-store", new(*types.InvalidRevocationContentException)},
		{"der.crl", "s3://edge-trust/der.crl: the object is a DER CRL; ALB takes PEM only: convert it with `aws s3 cp s3://edge-trust/der.crl der.crl && openssl crl -inform DER -in der.crl -out der.crl.pem && aws s3 cp der.crl.pem s3://edge-trust/der.crl.pem`, then use s3://edge-trust/der.crl.pem", new(*types.InvalidRevocationContentException)},
		{"junk.pem", "s3://edge-trust/junk.pem", new(*types.InvalidRevocationContentException)},
		{"/crl/root.crl.pem", `did you mean "crl/root.crl.pem"?`, new(*types.RevocationContentNotFoundException)},
	} {
		_, err := add(c.key)
		if !errors.As(err, c.err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %T containing %q", c.key, err, c.err, c.want)
		}
	}
}

func TestRevocationQuota(t *testing.T) {
	x := newH(t, func(o *elbv2.Options) { o.Quotas.RevocationEntriesPerTrustStore = 4 })
	x.s3.put("edge-trust", "bundle.pem", bundlePEM(x.root, x.inter))
	ts := x.createStore("capped", "bundle.pem")
	x.s3.put("edge-trust", "c.pem", crl(t, x.inter, 5))
	_, err := x.c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn,
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String("c.pem")}}})
	var tm *types.TooManyTrustStoreRevocationEntriesException
	if !errors.As(err, &tm) {
		t.Errorf("over the quota: %v", err)
	}
}
