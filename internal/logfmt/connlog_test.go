package logfmt_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"edge/internal/logfmt"
	"edge/internal/testutil"
)

func sample() logfmt.ConnRecord {
	return logfmt.ConnRecord{
		Time:         time.Date(2023, 10, 4, 17, 5, 15, 514108000, time.UTC),
		ClientAddr:   netip.MustParseAddrPort("203.0.113.1:36280"),
		ListenerPort: 443,
		Protocol:     "TLSv1.2",
		Cipher:       "ECDHE-RSA-AES128-GCM-SHA256",
		Latency:      4036 * time.Millisecond,
		Subject:      "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US",
		Validity:     "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z",
		Serial:       "FEF257372D5C14D4",
		Status:       "Success",
		TraceID:      "TID_3180a73013c8ca4bac2f731159d4b0fe",
		KeyExchange:  "secp256r1",
		ELB:          "app/my-lb/50dc6c495c0c9188",
		ListenerIP:   netip.MustParseAddr("10.0.0.5"),
	}
}

// The first line of ALB's documented example, plus the two fields the
// current format appends.
const documented = `2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Success TID_3180a73013c8ca4bac2f731159d4b0fe secp256r1 app/my-lb/50dc6c495c0c9188 10.0.0.5` + "\n"

func TestAppendConnMatchesALBExample(t *testing.T) {
	r := sample()
	if got := string(logfmt.AppendConn(nil, &r)); got != documented {
		t.Fatalf("got  %q\nwant %q", got, documented)
	}
}

func TestAppendConnEmptyFields(t *testing.T) {
	r := logfmt.ConnRecord{
		Time:         time.Date(2026, 9, 23, 7, 11, 32, 882572000, time.UTC),
		ClientAddr:   netip.MustParseAddrPort("147.185.132.159:61814"),
		ListenerPort: 80,
		Latency:      -1,
		Status:       "-",
		TraceID:      "TID_14bdaac20df9aa4ca3139b3168e4e071",
		ELB:          "app/k8s-tileserver-617dd1df30/98e3a879de9d6b42",
		ListenerIP:   netip.MustParseAddr("3.228.177.57"),
	}
	// An observed line of a plain HTTP listener.
	want := `2026-09-23T07:11:32.882572Z 147.185.132.159 61814 80 - - - "-" - - - TID_14bdaac20df9aa4ca3139b3168e4e071 - app/k8s-tileserver-617dd1df30/98e3a879de9d6b42 3.228.177.57` + "\n"
	if got := string(logfmt.AppendConn(nil, &r)); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestAppendSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-1, "-"}, {0, "0.000"}, {337 * time.Millisecond, "0.337"}, {1499 * time.Microsecond, "0.001"},
		{1500 * time.Microsecond, "0.002"}, {4036 * time.Millisecond, "4.036"}, {61 * time.Second, "61.000"},
	} {
		if got := string(logfmt.AppendSeconds(nil, tc.d)); got != tc.want {
			t.Errorf("AppendSeconds(%v) = %q; want %q", tc.d, got, tc.want)
		}
	}
}

// Hostile subjects must stay inside their quoted field.
func TestAppendConnHostileSubject(t *testing.T) {
	for _, subj := range []string{
		`CN=a\"b,O=x`,
		"CN=line\nbreak",
		`CN=has spaces and "quotes"`,
		"CN=tab\there\x00\x7f",
	} {
		r := sample()
		r.Subject = subj
		line := string(logfmt.AppendConn(nil, &r))
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
			t.Fatalf("subject %q broke the line: %q", subj, line)
		}
		f := testutil.ParseConnLine(strings.TrimSuffix(line, "\n"))
		if f == nil {
			t.Fatalf("subject %q: line does not have 15 fields: %q", subj, line)
		}
		if strings.ContainsAny(f["leaf_client_cert_subject"], "\"\n\x00") {
			t.Errorf("subject field %q still holds a quote or control byte", f["leaf_client_cert_subject"])
		}
		if f["tls_verify_status"] != "Success" {
			t.Errorf("fields shifted: status = %q", f["tls_verify_status"])
		}
	}
	r := sample()
	r.Subject = `CN=a\"b`
	if got := testutil.ParseConnLine(strings.TrimSuffix(string(logfmt.AppendConn(nil, &r)), "\n"))["leaf_client_cert_subject"]; got != `CN=a\22b` {
		t.Errorf("escaped quote rendered as %q; want RFC 4514 hex escape CN=a\\22b", got)
	}
}

func TestAppendConnAthena(t *testing.T) {
	re := testutil.Athena(t, "connection")
	r := sample()
	m := re.Match(strings.TrimSuffix(string(logfmt.AppendConn(nil, &r)), "\n"))
	if m == nil {
		t.Fatal("line does not match the Athena regex")
	}
	if m["leaf_client_cert_subject"] != r.Subject || m["tls_verify_status"] != "Success" || m["conn_trace_id"] != r.TraceID {
		t.Errorf("columns = %v", m)
	}
}

func FuzzAppendConnSubject(f *testing.F) {
	f.Add(`CN=x,O=y`, "Failed:ClientCertUntrusted")
	f.Add("CN=\"\n\\", "")
	f.Fuzz(func(t *testing.T, subject, status string) {
		r := sample()
		r.Subject, r.Status = subject, status
		line := string(logfmt.AppendConn(nil, &r))
		if strings.Count(line, "\n") != 1 {
			t.Fatalf("line has %d newlines", strings.Count(line, "\n"))
		}
		f := testutil.ParseConnLine(strings.TrimSuffix(line, "\n"))
		if f == nil {
			t.Fatalf("line lost its shape: %q", line)
		}
		if f["conn_trace_id"] != r.TraceID {
			t.Fatalf("fields shifted: %q", line)
		}
	})
}

func TestAppendTimeMatchesLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2023, 10, 4, 17, 5, 15, 514108123, time.UTC),
		time.Date(999, 1, 2, 3, 4, 5, 6000, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", -3600)),
	} {
		want := tm.UTC().Format("2006-01-02T15:04:05.000000Z")
		if got := string(logfmt.AppendTime(nil, tm)); got != want {
			t.Errorf("AppendTime(%v) = %q; want %q", tm, got, want)
		}
	}
}
