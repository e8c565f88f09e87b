package elbv2_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"edge/internal/awsapi"
	"edge/internal/awsquery"
	"edge/internal/elbv2"
	edgests "edge/internal/sts"
)

// readCapture parses a raw request captured from the AWS CLI, the Go SDK
// or Terraform (testdata/wire, copied from the conformance captures).
func readCapture(t *testing.T, path string) (*http.Request, url.Values) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	body, _ := io.ReadAll(req.Body)
	// The recorder kept the body whatever Content-Length says.
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i < 0 {
		body = raw[bytes.Index(raw, []byte("\n\n"))+2:]
	} else {
		body = raw[i+4:]
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	return req, form
}

func ptr[T any](v T) *T { return &v }

// TestCapturedRequestsDecode decodes every captured ELBv2 and STS request
// into the operation's input struct and checks the members that matter.
func TestCapturedRequestsDecode(t *testing.T) {
	tsArn := "arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/my-trust-store/73e2d6bc24d8a067"
	lArn := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
	tgArn := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"
	want := map[string]any{
		"006": &elbv2.CreateTrustStoreInput{Name: "my-trust-store", CaCertificatesBundleS3Bucket: "edge-trust", CaCertificatesBundleS3Key: "bundle.pem",
			CaCertificatesBundleS3ObjectVersion: "0151e0fcab22c205d0edb08d048796ac", Tags: awsquery.List[elbv2.Tag]{{Key: "env", Value: "dev"}}},
		"007": &elbv2.AddTrustStoreRevocationsInput{TrustStoreArn: tsArn, RevocationContents: awsquery.List[elbv2.RevocationContent]{{S3Bucket: "edge-trust", S3Key: "crl/intermediate.crl.pem", RevocationType: "CRL"}}},
		"008": &elbv2.DescribeTrustStoreRevocationsInput{TrustStoreArn: tsArn, RevocationIds: awsquery.List[int64]{1, 2}},
		"009": &elbv2.CreateLoadBalancerInput{Name: "my-alb", Subnets: awsquery.List[string]{"subnet-8360a9e7", "subnet-b7d581c0"}, SecurityGroups: awsquery.List[string]{"sg-5943793c"}},
		"011": &elbv2.TargetsInput{TargetGroupArn: tgArn, Targets: awsquery.List[elbv2.TargetDescription]{{Id: "127.0.0.1", Port: ptr(int32(9000))}}},
		"013": &elbv2.ModifyListenerInput{ListenerArn: lArn, ListenerSpec: elbv2.ListenerSpec{MutualAuthentication: &elbv2.MutualAuthentication{Mode: "passthrough"}}},
		"014": &elbv2.ModifyListenerInput{ListenerArn: lArn, ListenerSpec: elbv2.ListenerSpec{MutualAuthentication: &elbv2.MutualAuthentication{Mode: "verify", TrustStoreArn: tsArn,
			IgnoreClientCertificateExpiry: ptr(true), AdvertiseTrustStoreCaNames: "on"}}},
		"015": &elbv2.DescribeTrustStoresInput{Names: awsquery.List[string]{"missing"}},
		"051": &elbv2.RemoveTrustStoreRevocationsInput{TrustStoreArn: tsArn, RevocationIds: awsquery.List[int64]{1}},
		"086": &elbv2.TargetGroupAttributesInput{TargetGroupArn: tgArn, Attributes: awsquery.List[elbv2.Attribute]{{Key: "deregistration_delay.timeout_seconds", Value: "300"}}},
	}
	inputs := map[string]func() any{
		"CreateTrustStore": func() any { return new(elbv2.CreateTrustStoreInput) }, "AddTrustStoreRevocations": func() any { return new(elbv2.AddTrustStoreRevocationsInput) },
		"DescribeTrustStoreRevocations": func() any { return new(elbv2.DescribeTrustStoreRevocationsInput) }, "CreateLoadBalancer": func() any { return new(elbv2.CreateLoadBalancerInput) },
		"CreateTargetGroup": func() any { return new(elbv2.CreateTargetGroupInput) }, "RegisterTargets": func() any { return new(elbv2.TargetsInput) },
		"CreateListener": func() any { return new(elbv2.CreateListenerInput) }, "ModifyListener": func() any { return new(elbv2.ModifyListenerInput) },
		"DescribeTrustStores": func() any { return new(elbv2.DescribeTrustStoresInput) }, "DeleteTrustStore": func() any { return new(elbv2.TrustStoreArnInput) },
		"GetTrustStoreCaCertificatesBundle": func() any { return new(elbv2.TrustStoreArnInput) }, "DescribeTags": func() any { return new(elbv2.DescribeTagsInput) },
		"RemoveTrustStoreRevocations": func() any { return new(elbv2.RemoveTrustStoreRevocationsInput) }, "DescribeTrustStoreAssociations": func() any { return new(elbv2.DescribeTrustStoreAssociationsInput) },
		"DescribeLoadBalancers": func() any { return new(elbv2.DescribeLoadBalancersInput) }, "DescribeTargetGroups": func() any { return new(elbv2.DescribeTargetGroupsInput) },
		"ModifyTargetGroupAttributes": func() any { return new(elbv2.TargetGroupAttributesInput) }, "DescribeTargetGroupAttributes": func() any { return new(elbv2.TargetGroupAttributesInput) },
		"ModifyLoadBalancerAttributes": func() any { return new(elbv2.LoadBalancerAttributesInput) }, "DescribeLoadBalancerAttributes": func() any { return new(elbv2.LoadBalancerAttributesInput) },
		"DescribeCapacityReservation": func() any { return new(elbv2.LoadBalancerArnInput) }, "DescribeListeners": func() any { return new(elbv2.DescribeListenersInput) },
		"DescribeListenerAttributes": func() any { return new(elbv2.ListenerAttributesInput) }, "DeleteListener": func() any { return new(elbv2.ListenerArnInput) },
		"DeleteLoadBalancer": func() any { return new(elbv2.LoadBalancerArnInput) }, "DeleteTargetGroup": func() any { return new(elbv2.TargetGroupArnInput) },
		"GetCallerIdentity": func() any { return new(struct{}) },
	}
	files, _ := filepath.Glob("testdata/wire/*.txt")
	if len(files) < 40 {
		t.Fatalf("only %d captures", len(files))
	}
	for _, f := range files {
		_, form := readCapture(t, f)
		mk, ok := inputs[form.Get("Action")]
		if !ok {
			t.Errorf("%s: no input for %s", f, form.Get("Action"))
			continue
		}
		in := mk()
		if err := awsquery.Decode(form, in); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if w, ok := want[filepath.Base(f)[:3]]; ok && !reflect.DeepEqual(in, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", f, in, w)
		}
		switch filepath.Base(f)[:3] {
		case "012", "100":
			cl := in.(*elbv2.CreateListenerInput)
			if *cl.Port != 443 || *cl.Protocol != "HTTPS" || cl.MutualAuthentication.Mode != "verify" || *cl.MutualAuthentication.IgnoreClientCertificateExpiry ||
				cl.DefaultActions[0].TargetGroupArn != tgArn || cl.Certificates[0].CertificateArn != acmARN || *cl.SslPolicy != "ELBSecurityPolicy-TLS13-1-2-2021-06" {
				t.Errorf("%s: %+v", f, cl)
			}
			if f[len(f)-25:len(f)-22] == "100" && *cl.DefaultActions[0].Order != 1 {
				t.Errorf("%s: Order", f)
			}
		case "084":
			tg := in.(*elbv2.CreateTargetGroupInput)
			if tg.ProtocolVersion != "" || *tg.Port != 80 || tg.TargetType != "ip" {
				t.Errorf("%s: %+v", f, tg)
			}
		case "093":
			if a := in.(*elbv2.LoadBalancerAttributesInput).Attributes; len(a) != 14 || a[9].Key != "routing.http.drop_invalid_header_fields.enabled" {
				t.Errorf("%s: %d attributes, 10th %+v", f, len(a), a)
			}
		}
	}
}

// TestCapturedRequestsServed replays every capture through the endpoint:
// each reaches its service and is answered, never with InvalidAction or a
// ValidationError (the state is empty, so NotFound errors are expected).
func TestCapturedRequestsServed(t *testing.T) {
	x := newH(t)
	h := awsapi.New(awsapi.Services{ELBv2: x.svc.Handler(), STS: edgests.New("123456789012")}, awsapi.Options{})
	files, _ := filepath.Glob("testdata/wire/*.txt")
	for _, f := range files {
		req, _ := readCapture(t, f)
		req.RequestURI = ""
		r := httptest.NewRequest(req.Method, "/", req.Body)
		r.Header = req.Header.Clone()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.String()
		if !strings.Contains(body, `xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"`) && !strings.Contains(body, "<GetCallerIdentityResult>") {
			t.Errorf("%s: not answered by ELBv2 or STS: %d %s", filepath.Base(f), w.Code, body)
		}
		for _, bad := range []string{"<Code>InvalidAction</Code>", "<Code>ValidationError</Code>", "<Code>MissingAction</Code>", "InternalFailure"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: %s", filepath.Base(f), body)
			}
		}
	}
}
