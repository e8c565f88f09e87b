package awsquery

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

type tag struct {
	Key   string `aws:"required"`
	Value *string
}

type mtls struct {
	Mode                          *string
	TrustStoreArn                 *string
	IgnoreClientCertificateExpiry *bool
}

type sample struct {
	Name     string `aws:"required"`
	Port     *int32
	PageSize int
	Weight   float64
	Tags     List[tag]
	IDs      List[int64] `xml:"RevocationIds"`
	Empty    List[string]
	Absent   List[string]
	MTLS     *mtls `xml:"MutualAuthentication"`
	Other    *mtls
	Attrs    map[string]string
}

func TestDecode(t *testing.T) {
	form, _ := url.ParseQuery("Action=X&Version=1&Name=n&Port=443&Weight=1.5&Tags.member.2.Key=b&Tags.member.1.Key=a&Tags.member.1.Value=v" +
		"&RevocationIds.member.1=3&RevocationIds.member.2=7&Empty=&MutualAuthentication.Mode=passthrough" +
		"&MutualAuthentication.IgnoreClientCertificateExpiry=false&Attrs.entry.1.key=k&Attrs.entry.1.value=v1&Unknown=1")
	var s sample
	if err := Decode(form, &s); err != nil {
		t.Fatal(err)
	}
	v := "v"
	mode := "passthrough"
	f := false
	port := int32(443)
	want := sample{Name: "n", Port: &port, Weight: 1.5, Tags: List[tag]{{Key: "a", Value: &v}, {Key: "b"}}, IDs: List[int64]{3, 7},
		Empty: List[string]{}, MTLS: &mtls{Mode: &mode, IgnoreClientCertificateExpiry: &f}, Attrs: map[string]string{"k": "v1"}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	if s.Empty == nil || s.Absent != nil {
		t.Error("Name= must decode to an empty non-nil list and an absent list to nil")
	}
}

func TestDecodeErrors(t *testing.T) {
	for q, want := range map[string]string{
		"":                              "Value null at 'name' failed to satisfy constraint: Member must not be null",
		"Name=n&Port=x":                 "Value 'x' at 'port' failed to satisfy constraint: Member must be an integer",
		"Name=n&Port=70000000000":       "Value '70000000000' at 'port'",
		"Name=n&Tags.member.1.Value=v":  "Value null at 'tags.member.1.Key'",
		"Name=n&Tags.member.0.Key=k":    "Value '0' at 'tags.member'",
		"Name=n&Tags.member.1001.Key=k": "Member index must be an integer from 1 to 1000",
		"Name=n&Tags.member.x.Key=k":    "Value 'x' at 'tags.member'",
		"Name=n&MutualAuthentication.IgnoreClientCertificateExpiry=yes": "Member must be true or false",
		"Name=n&Tags=abc":              "Member must be a list",
		"Name=n&Attrs.entry.1.value=v": "Value null at 'attrs.entry.1.key'",
		"Name=n&Port.x=1":              "Member must be a scalar value",
	} {
		form, _ := url.ParseQuery(q)
		var s sample
		err := Decode(form, &s)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != "ValidationError" || !strings.Contains(ae.Message, want) {
			t.Errorf("%q: got %v, want ValidationError containing %q", q, err, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"Name=n&Tags.member.1.Key=a&Tags.member.1.Value=v&RevocationIds.member.1=3",
		"Name=n&MutualAuthentication.Mode=verify&Attrs.entry.1.key=k&Attrs.entry.1.value=v",
		"Name=&Empty=&Port=1&Weight=1e3",
		"Name=n&Tags.member.999.Key=x&Tags.member.1000.Key=y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		form, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		var s sample
		if err := Decode(form, &s); err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != "ValidationError" {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			return
		}
		if len(s.Tags) > MaxListLen || len(s.IDs) > MaxListLen {
			t.Fatalf("list longer than MaxListLen")
		}
	})
}
