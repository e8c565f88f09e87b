package awsquery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

type store struct {
	Name    string
	Created *Time `xml:",omitempty"`
	Count   int
	Enabled bool
}

type describeOut struct {
	TrustStores List[store]
	NextMarker  *string `xml:",omitempty"`
}

func TestMarshalResult(t *testing.T) {
	ts := Time{time.Date(2026, 11, 30, 1, 0, 0, 0, time.FixedZone("x", 3600))}
	b, err := MarshalResult("urn:ns", "DescribeTrustStores", "rid", &describeOut{TrustStores: List[store]{{Name: "a", Created: &ts, Count: 2, Enabled: true}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `<DescribeTrustStoresResponse xmlns="urn:ns"><DescribeTrustStoresResult><TrustStores><member><Name>a</Name><Created>2026-11-30T00:00:00.000Z</Created><Count>2</Count><Enabled>true</Enabled></member></TrustStores></DescribeTrustStoresResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DescribeTrustStoresResponse>`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	// An empty output still has its Result element (botocore KeyError /
	// Go SDK EOF otherwise), and an empty list is written empty.
	for _, v := range []any{nil, &struct{}{}, &describeOut{}} {
		b, _ = MarshalResult("urn:ns", "DeleteTrustStore", "rid", v)
		if !strings.Contains(string(b), "<DeleteTrustStoreResult>") || !strings.Contains(string(b), "</DeleteTrustStoreResult>") {
			t.Errorf("%T: no result element: %s", v, b)
		}
	}
	b, _ = MarshalResult("urn:ns", "D", "rid", &describeOut{})
	if !strings.Contains(string(b), "<TrustStores></TrustStores>") || strings.Contains(string(b), "NextMarker") {
		t.Errorf("empty list / absent marker: %s", b)
	}
}

func TestMarshalError(t *testing.T) {
	b := MarshalError("urn:ns", "rid", &Error{Code: "TrustStoreNotFound", Message: "The specified trust store does not exist."})
	want := `<ErrorResponse xmlns="urn:ns"><Error><Type>Sender</Type><Code>TrustStoreNotFound</Code><Message>The specified trust store does not exist.</Message></Error><RequestId>rid</RequestId></ErrorResponse>`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	if (&Error{Code: "HealthUnavailable", Status: 500}).Type() != "Receiver" {
		t.Error("a 500 error is the Receiver's fault")
	}
}

type echoIn struct {
	Name string `aws:"required"`
}
type echoOut struct{ Name string }

func TestService(t *testing.T) {
	s := &Service{Namespace: "urn:ns", Version: "2015-12-01", OtherVersions: map[string]string{"2012-06-01": "ELB classic is not emulated."},
		Ops: map[string]Op{
			"Echo":  Operation(func(_ context.Context, in *echoIn) (*echoOut, error) { return &echoOut{in.Name}, nil }),
			"Empty": Operation(func(_ context.Context, in *struct{}) (*struct{}, error) { return nil, nil }),
		}}
	do := func(method, target, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
		w := httptest.NewRecorder()
		w.Header().Set(RequestIDHeader, "rid")
		s.ServeHTTP(w, r)
		return w
	}
	for _, c := range []struct {
		method, target, body string
		status               int
		want                 string
	}{
		{"POST", "/", "Action=Echo&Version=2015-12-01&Name=x", 200, "<EchoResult><Name>x</Name></EchoResult>"},
		{"GET", "/?" + url.Values{"Action": {"Echo"}, "Version": {"2015-12-01"}, "Name": {"q"}}.Encode(), "", 200, "<Name>q</Name>"},
		{"POST", "/", "Action=Empty&Version=2015-12-01", 200, "<EmptyResult></EmptyResult><ResponseMetadata><RequestId>rid</RequestId>"},
		{"POST", "/", "Action=Nope&Version=2015-12-01", 400, "<Code>InvalidAction</Code>"},
		{"POST", "/", "Action=Echo&Version=2012-06-01", 400, "<Code>InvalidAction</Code><Message>ELB classic is not emulated.</Message>"},
		{"POST", "/", "Action=Echo&Version=2015-12-01", 400, "<Code>ValidationError</Code>"},
		{"POST", "/", "Version=2015-12-01", 400, "<Code>MissingAction</Code>"},
		{"POST", "/", "Action=Echo&Version=2015-12-01&Name=" + strings.Repeat("x", DefaultMaxBody), 413, "<Code>RequestEntityTooLarge</Code>"},
	} {
		w := do(c.method, c.target, c.body)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) || w.Header().Get("Content-Type") != "text/xml" {
			t.Errorf("%s %s %.60s: %d %s; want %d containing %s", c.method, c.target, c.body, w.Code, w.Body, c.status, c.want)
		}
	}
	r := httptest.NewRequest("POST", "/", strings.NewReader("Action=Echo&Version=2015-12-01&Name=x"))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if id := w.Header().Get(RequestIDHeader); len(id) != 36 || !strings.Contains(w.Body.String(), id) {
		t.Errorf("request id %q not set or not in the body", id)
	}
	_ = http.StatusOK
}
