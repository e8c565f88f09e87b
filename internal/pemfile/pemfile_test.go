package pemfile_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"edge/internal/pemfile"
	"edge/internal/pki"
	"edge/internal/testutil"
)

func TestScan(t *testing.T) {
	ca := testutil.Root(t, "pemfile")
	certPEM := string(pki.CertPEM(ca.Cert))
	lines := strings.Count(certPEM, "\n")
	dump := "Certificate:\n    Data:\n        Version: 3 (0x2)\n"
	crlDER := []byte{0x30, 0x1c, 0x30, 0x17, 0x02, 0x01, 0x01, 0x30, 0x00, 0x30, 0x00, 0x17, 0x0d, '2', '4', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z', 0x30, 0x00, 0x03, 0x01, 0x00}
	for _, tc := range []struct {
		name  string
		data  string
		want  pemfile.Kind
		lines string
		holds pemfile.Content
	}{
		{name: "clean", data: certPEM},
		{name: "comments and blank lines", data: "# CAs\n\n" + certPEM},
		{name: "DER certificate", data: string(ca.Cert.Raw), want: pemfile.DER, holds: pemfile.Certificate},
		{name: "DER CRL", data: string(crlDER), want: pemfile.DER, holds: pemfile.CRL},
		{name: "truncated DER", data: string(ca.Cert.Raw[:40]), want: pemfile.DER},
		{name: "UTF-8 BOM", data: "\xEF\xBB\xBF" + certPEM, want: pemfile.ByteOrderMark},
		{name: "UTF-16 BOM", data: "\xFF\xFE-\x00", want: pemfile.ByteOrderMark},
		{name: "openssl text dump", data: dump + certPEM, want: pemfile.TextOutsideBlocks, lines: "lines 1-3"},
		{name: "two dumps", data: dump + certPEM + dump + certPEM, want: pemfile.TextOutsideBlocks, lines: "lines 1-3, " + strconv.Itoa(lines+4) + "-" + strconv.Itoa(lines+6)},
		{name: "trailing spaces", data: strings.Replace(certPEM, "\n", "  \n", 2), want: pemfile.TrailingWhitespace, lines: "lines 1-2"},
		{name: "trailing tab on END", data: strings.Replace(certPEM, "-----END CERTIFICATE-----", "-----END CERTIFICATE-----\t", 1), want: pemfile.TrailingWhitespace, lines: "line " + strconv.Itoa(lines)},
		{name: "CRLF", data: strings.ReplaceAll(certPEM, "\n", "\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := pemfile.Scan([]byte(tc.data))
			if tc.want == 0 {
				if len(ms) != 0 {
					t.Fatalf("Scan = %+v; want nothing", ms)
				}
				return
			}
			if len(ms) != 1 || ms[0].Kind != tc.want {
				t.Fatalf("Scan = %+v; want one mistake of kind %d", ms, tc.want)
			}
			if tc.lines != "" && ms[0].LineText() != tc.lines {
				t.Errorf("lines %q; want %q", ms[0].LineText(), tc.lines)
			}
			if ms[0].Holds != tc.holds {
				t.Errorf("holds %v; want %v", ms[0].Holds, tc.holds)
			}
		})
	}
}

// The messages name the file and give a command that fixes it.
func TestErrorMessages(t *testing.T) {
	ca := testutil.Root(t, "pemfile")
	for _, tc := range []struct {
		file string
		want pemfile.Content
		data []byte
		msg  string
	}{
		{"client.der", pemfile.Certificate, ca.Cert.Raw, "the file is a DER certificate; ALB takes PEM only: convert it with `openssl x509 -inform DER -in client.der -out client.der.pem`"},
		{"my ca.crt", pemfile.Certificate, ca.Cert.Raw, "`openssl x509 -inform DER -in 'my ca.crt' -out 'my ca.crt.pem'`"},
		{"", pemfile.CRL, []byte{0x30, 0x03, 0x02, 0x01, 0x01}, "`openssl crl -inform DER -in FILE -out FILE.pem`"},
		{"ca.crl", pemfile.CRL, ca.Cert.Raw, "the file is a DER certificate, not a CRL in PEM form"},
		{"b.pem", pemfile.Certificate, append([]byte("\xEF\xBB\xBF"), pki.CertPEM(ca.Cert)...), `sed -i '1s/^\xEF\xBB\xBF//' b.pem`},
		{"b.pem", pemfile.Certificate, append([]byte("Certificate:\n  Data:\n"), pki.CertPEM(ca.Cert)...), "lines 1-2: text outside a PEM block (`openssl x509 -text` output)"},
	} {
		err := pemfile.Check(pemfile.File(tc.file), tc.data, tc.want, pemfile.DER, pemfile.ByteOrderMark, pemfile.TextOutsideBlocks)
		var pe *pemfile.Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v; want an *Error containing %q", tc.file, err, tc.msg)
		}
	}
	if err := pemfile.Check(pemfile.File("ok.pem"), pki.CertPEM(ca.Cert), pemfile.Certificate, pemfile.DER); err != nil {
		t.Errorf("clean file: %v", err)
	}
}

// For an S3 object the commands download it, fix the copy and upload the
// result: a local command naming s3://… as a file cannot run.
func TestErrorMessagesForObjects(t *testing.T) {
	ca := testutil.Root(t, "pemfile")
	for _, tc := range []struct {
		key  string
		want pemfile.Content
		data []byte
		msg  string
	}{
		{"crl/intermediate.crl.der", pemfile.CRL, []byte{0x30, 0x03, 0x02, 0x01, 0x01},
			"the object is binary DER; ALB takes PEM only: convert it with `aws s3 cp s3://my-trust-bucket/crl/intermediate.crl.der intermediate.crl.der && openssl crl -inform DER -in intermediate.crl.der -out intermediate.crl.der.pem && aws s3 cp intermediate.crl.der.pem s3://my-trust-bucket/crl/intermediate.crl.der.pem`, then use s3://my-trust-bucket/crl/intermediate.crl.der.pem"},
		{"bundle.der", pemfile.Certificate, ca.Cert.Raw,
			"the object is a DER certificate; ALB takes PEM only: convert it with `aws s3 cp s3://my-trust-bucket/bundle.der bundle.der && openssl x509 -inform DER -in bundle.der -out bundle.der.pem && aws s3 cp bundle.der.pem s3://my-trust-bucket/bundle.der.pem`, then use s3://my-trust-bucket/bundle.der.pem"},
		{"my ca.pem", pemfile.Certificate, append([]byte("\xEF\xBB\xBF"), pki.CertPEM(ca.Cert)...),
			"remove it with `aws s3 cp 's3://my-trust-bucket/my ca.pem' 'my ca.pem' && sed -i '1s/^\\xEF\\xBB\\xBF//' 'my ca.pem' && aws s3 cp 'my ca.pem' 's3://my-trust-bucket/my ca.pem'`"},
		{"b.pem", pemfile.Certificate, append([]byte("Certificate:\n  Data:\n"), pki.CertPEM(ca.Cert)...),
			"keep the PEM blocks with `aws s3 cp s3://my-trust-bucket/b.pem b.pem && sed -n '/^-----BEGIN/,/^-----END/p' b.pem > b.pem.pem && aws s3 cp b.pem.pem s3://my-trust-bucket/b.pem.pem`, then use s3://my-trust-bucket/b.pem.pem"},
	} {
		err := pemfile.Check(pemfile.Object("my-trust-bucket", tc.key), tc.data, tc.want, pemfile.DER, pemfile.ByteOrderMark, pemfile.TextOutsideBlocks)
		var pe *pemfile.Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v\nwant an *Error containing\n%s", tc.key, err, tc.msg)
		}
		if strings.Contains(err.Error(), "-in s3://") {
			t.Errorf("%s: a local command names the object: %v", tc.key, err)
		}
	}
}

// FuzzScan: any input gives mistakes with ordered, non-empty line ranges,
// and every message renders.
func FuzzScan(f *testing.F) {
	ca, _ := pki.NewRoot(pki.Options{})
	f.Add(pki.CertPEM(ca.Cert))
	f.Add(ca.Cert.Raw)
	f.Add([]byte("\xEF\xBB\xBF-----BEGIN X509 CRL-----\nAA== \n-----END X509 CRL-----\n"))
	f.Add([]byte("Certificate:\n  Data:\n-----BEGIN CERTIFICATE-----\r\nAA==\r\n"))
	f.Add([]byte{0x30, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range pemfile.Scan(data) {
			last := 0
			for _, r := range m.Lines {
				if r.First <= last || r.Last < r.First {
					t.Fatalf("bad ranges %v", m.Lines)
				}
				last = r.Last
			}
			for _, want := range []pemfile.Content{pemfile.Unknown, pemfile.Certificate, pemfile.CRL} {
				for _, src := range []pemfile.Source{pemfile.File("f"), pemfile.Object("b", "k/f")} {
					if (&pemfile.Error{Source: src, Want: want, Mistake: m}).Error() == "" {
						t.Fatal("empty message")
					}
				}
			}
		}
	})
}
