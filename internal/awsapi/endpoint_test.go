package awsapi_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/cbor"

	"edge/internal/awsapi"
	edgests "edge/internal/sts"
)

// tagged answers with the name of the service a request reached.
func tagged(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name+" "+awsapi.CallerFrom(r.Context()).Region)
	})
}

func allServices() awsapi.Services {
	return awsapi.Services{S3: tagged("s3"), ELBv2: tagged("elbv2"), STS: tagged("sts"), APIGateway: tagged("apigateway"), ACM: tagged("acm"), Edge: tagged("edge")}
}

const sig = "AWS4-HMAC-SHA256 Credential=test/20261130/%s/%s/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=00"

func TestDispatch(t *testing.T) {
	h := awsapi.New(allServices(), awsapi.Options{})
	form := "application/x-www-form-urlencoded; charset=utf-8"
	for _, c := range []struct {
		name, method, target, body string
		header                     map[string]string
		want                       string
	}{
		{"signed elbv2", "POST", "/", "Action=DescribeTrustStores&Version=2015-12-01", map[string]string{"Authorization": strings.Replace(strings.Replace(sig, "%s", "eu-west-1", 1), "%s", "elasticloadbalancing", 1), "Content-Type": form}, "elbv2 eu-west-1"},
		{"signed sts", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", map[string]string{"Authorization": strings.Replace(strings.Replace(sig, "%s", "us-east-1", 1), "%s", "sts", 1)}, "sts us-east-1"},
		{"signed s3 wins over form shape", "POST", "/", "Action=X&Version=2015-12-01", map[string]string{"Authorization": strings.Replace(strings.Replace(sig, "%s", "us-east-1", 1), "%s", "s3", 1), "Content-Type": form}, "s3 us-east-1"},
		{"signed apigateway", "GET", "/domainnames", "", map[string]string{"Authorization": strings.Replace(strings.Replace(sig, "%s", "us-east-1", 1), "%s", "apigateway", 1)}, "apigateway us-east-1"},
		{"presigned s3", "GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261130%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Signature=00", "", nil, "s3 us-west-2"},
		{"unsigned elbv2 form", "POST", "/", "Action=DescribeTrustStores&Version=2015-12-01", map[string]string{"Content-Type": form}, "elbv2 "},
		{"unsigned elb classic", "POST", "/", "Action=DescribeLoadBalancers&Version=2012-06-01", map[string]string{"Content-Type": form}, "elbv2 "},
		{"unsigned sts form", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "sts "},
		{"unsigned GET query", "GET", "/?Action=DescribeLoadBalancers&Version=2015-12-01", "", nil, "elbv2 "},
		{"unsigned acm", "POST", "/", "{}", map[string]string{"X-Amz-Target": "CertificateManager.ListCertificates"}, "acm "},
		{"unsigned apigateway", "GET", "/restapis/abc/resources", "", nil, "apigateway "},
		{"edge artefact", "GET", "/_edge/truststores/x/bundle.pem", "", nil, "edge "},
		{"edge artefact even if signed", "GET", "/_edge/truststores/x/bundle.pem", "", map[string]string{"Authorization": strings.Replace(strings.Replace(sig, "%s", "us-east-1", 1), "%s", "s3", 1)}, "edge "},
		{"unsigned s3 path style", "PUT", "/bucket/key", "data", nil, "s3 "},
		{"form without Action is s3", "POST", "/bucket", "a=b", map[string]string{"Content-Type": form}, "s3 "},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Body.String(); got != c.want {
			t.Errorf("%s: reached %q, want %q", c.name, got, c.want)
		}
		if id := w.Header().Get("X-Amzn-Requestid"); len(id) != 36 {
			t.Errorf("%s: x-amzn-RequestId %q", c.name, id)
		}
	}
}

func TestUnservedServices(t *testing.T) {
	h := awsapi.New(awsapi.Services{}, awsapi.Options{})
	for _, c := range []struct {
		name, method, target, body, auth string
		status                           int
		want                             string
	}{
		{"elbv2", "POST", "/", "Action=DescribeTrustStores&Version=2015-12-01", "", 400, "<Code>InvalidAction</Code>"},
		{"unknown service", "POST", "/", "Action=DescribeInstances&Version=2016-11-15", strings.Replace(strings.Replace(sig, "%s", "us-east-1", 1), "%s", "ec2", 1), 400, `edge does not emulate the &#34;ec2&#34; service; it serves no service.`},
		{"s3", "GET", "/bucket", "", "", 501, "<Code>NotImplemented</Code>"},
		{"apigateway", "GET", "/domainnames", "", "", 404, `{"message":"API Gateway is not served by this edge endpoint yet."}`},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s: %d %s; want %d with %s", c.name, w.Code, w.Body, c.status, c.want)
		}
	}
}

// A service edge does not know is answered in its protocol family's error
// shape, which the CLI and SDKs parse generically, and the message lists
// only the services that have a handler (ACM has none in edge serve).
func TestUnknownServiceErrorShapes(t *testing.T) {
	h := awsapi.New(awsapi.Services{S3: tagged("s3"), ELBv2: tagged("elbv2"), STS: tagged("sts"), APIGateway: tagged("apigateway")}, awsapi.Options{})
	const served = "it serves s3, elasticloadbalancing (ELBv2), sts and apigateway."
	signed := func(service string) string {
		return strings.Replace(strings.Replace(sig, "%s", "us-east-1", 1), "%s", service, 1)
	}
	for _, c := range []struct {
		name, method, target, body string
		header                     map[string]string
		contentType, errorType     string
		check                      func(body []byte) (code, message string)
	}{
		{"iam (Query)", "POST", "/", "Action=ListUsers&Version=2010-05-08", map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, "text/xml", "", xmlError},
		{"route53 (REST-XML)", "GET", "/2013-04-01/hostedzone", "", nil, "text/xml", "", xmlError},
		{"dynamodb (JSON 1.0)", "POST", "/", "{}", map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"}, "application/x-amz-json-1.0", "", jsonError},
		{"lambda (REST-JSON)", "GET", "/2015-03-31/functions/", "", nil, "application/json", "UnknownOperationException", jsonError},
		{"monitoring (RPC v2 CBOR)", "POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", "\xa0", map[string]string{"Content-Type": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"}, "application/cbor", "", cborError},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		service := strings.Fields(c.name)[0]
		r.Header.Set("Authorization", signed(service))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 400 || !strings.HasPrefix(w.Header().Get("Content-Type"), c.contentType) || w.Header().Get("X-Amzn-Errortype") != c.errorType {
			t.Errorf("%s: %d Content-Type %q x-amzn-ErrorType %q; want 400 %s %q", c.name, w.Code, w.Header().Get("Content-Type"), w.Header().Get("X-Amzn-Errortype"), c.contentType, c.errorType)
		}
		code, msg := c.check(w.Body.Bytes())
		named := service
		if service == "monitoring" { // named as the aws CLI command too
			named = "monitoring (aws cloudwatch)"
		}
		want := `edge does not emulate the "` + named + `" service; ` + served
		if (code != "InvalidAction" && code != "UnknownOperationException") || msg != want {
			t.Errorf("%s: code %q message %q; want %q\n%s", c.name, code, msg, want, w.Body)
		}
		if strings.Contains(w.Body.String(), "elasticloadbalancing.amazonaws.com") {
			t.Errorf("%s: the answer has ELBv2's namespace: %s", c.name, w.Body)
		}
	}
}

// xmlError reads <ErrorResponse><Error><Code> and <Message>, as botocore's
// Query and REST-XML parsers do.
func xmlError(body []byte) (string, string) {
	var e struct {
		Error struct{ Type, Code, Message string }
	}
	if xml.Unmarshal(body, &e) != nil || e.Error.Type != "Sender" {
		return "", ""
	}
	return e.Error.Code, e.Error.Message
}

func jsonError(body []byte) (string, string) {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.Unmarshal(body, &e)
	return e.Type, e.Message
}

// cborError decodes the body with smithy-go's CBOR decoder, the one the
// Go SDK's RPC v2 CBOR clients use.
func cborError(body []byte) (string, string) {
	v, err := cbor.Decode(body)
	m, ok := v.(cbor.Map)
	if err != nil || !ok {
		return "", ""
	}
	code, _ := m["__type"].(cbor.String)
	msg, _ := m["message"].(cbor.String)
	return string(code), string(msg)
}

func stsClient(url, akid, secret string) *sts.Client {
	return sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// TestGetCallerIdentity drives STS through the endpoint with the Go SDK,
// unsigned-checking (default) and with credentials configured.
func TestGetCallerIdentity(t *testing.T) {
	srv := httptest.NewServer(awsapi.New(awsapi.Services{STS: edgests.New("123456789012")}, awsapi.Options{}))
	defer srv.Close()
	out, err := stsClient(srv.URL, "anything", "goes").GetCallerIdentity(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != "123456789012" || *out.Arn != "arn:aws:iam::123456789012:user/edge" || *out.UserId != "anything" {
		t.Errorf("got %s %s %s", *out.Account, *out.Arn, *out.UserId)
	}
}

func TestSignatureChecking(t *testing.T) {
	srv := httptest.NewServer(awsapi.New(awsapi.Services{STS: edgests.New("123456789012"), S3: tagged("s3")},
		awsapi.Options{Credentials: map[string]string{"AKIDEDGE": "s3cr3t"}}))
	defer srv.Close()
	ctx := context.Background()
	if _, err := stsClient(srv.URL, "AKIDEDGE", "s3cr3t").GetCallerIdentity(ctx, nil); err != nil {
		t.Fatalf("the right key: %v", err)
	}
	for _, c := range []struct{ akid, secret, code string }{
		{"AKIDEDGE", "wrong", "SignatureDoesNotMatch"},
		{"OTHER", "s3cr3t", "InvalidClientTokenId"},
	} {
		_, err := stsClient(srv.URL, c.akid, c.secret).GetCallerIdentity(ctx, nil)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
			t.Errorf("%s/%s: got %v, want %s", c.akid, c.secret, err, c.code)
		}
	}
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>MissingAuthenticationToken</Code>") {
		t.Errorf("unsigned: %d %s", resp.StatusCode, b)
	}
	// S3 verifies its own signatures: the endpoint passes it through.
	resp, err = http.Get(srv.URL + "/bucket")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "s3 " {
		t.Errorf("unsigned S3 with credentials configured: %s", b)
	}
}
