package truststore_test

import (
	"bytes"
	"crypto/x509/pkix"
	"strconv"
	"strings"
	"testing"

	"edge/internal/pemfile"
	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

func TestParseBundle(t *testing.T) {
	root := testutil.Root(t, "root")
	inter := testutil.Intermediate(t, root, "inter")
	leaf := testutil.Client(t, inter, pki.Options{Subject: pkix.Name{CommonName: "leaf"}})
	rootPEM, interPEM, leafPEM := string(pki.CertPEM(root.Cert)), string(pki.CertPEM(inter.Cert)), string(pki.CertPEM(leaf.Cert))
	key, _ := pki.KeyPEM(leaf.Key)

	var many strings.Builder
	for i := 0; i < 26; i++ {
		many.WriteString(rootPEM)
	}

	tests := []struct {
		name      string
		bundle    string
		wantCerts int
		// wantProblems are substrings, one per expected problem, in order.
		wantProblems []string
		wantLine     int
		wantIndex    int
	}{
		{name: "root and intermediate", bundle: rootPEM + interPEM, wantCerts: 2},
		{name: "comments without dashes", bundle: "# my CAs\n" + rootPEM + "# the intermediate\n" + interPEM, wantCerts: 2},
		{name: "CRLF line endings", bundle: strings.ReplaceAll(rootPEM, "\n", "\r\n"), wantCerts: 1},
		{name: "blank line between certificates", bundle: rootPEM + "\n" + interPEM, wantProblems: []string{"blank line"}, wantLine: strings.Count(rootPEM, "\n") + 1},
		{name: "comment with a dash", bundle: "# root - prod\n" + rootPEM, wantProblems: []string{"comment contains '-'"}, wantLine: 1},
		{name: "openssl text dump", bundle: "Certificate:\n    Data:\n" + rootPEM, wantProblems: []string{"lines 1-2: text outside a PEM block (`openssl x509 -text` output)"}, wantLine: 1},
		{name: "DER certificate", bundle: string(root.Cert.Raw), wantProblems: []string{"the file is a DER certificate; ALB takes PEM only: convert it with `openssl x509 -inform DER -in bundle.pem -out bundle.pem.pem`"}},
		{name: "byte-order mark", bundle: "\xEF\xBB\xBF" + rootPEM, wantProblems: []string{"byte-order mark"}, wantLine: 1},
		{name: "trailing spaces", bundle: strings.ReplaceAll(rootPEM+interPEM, "\n", " \n"), wantProblems: []string{"lines 1-" + strconv.Itoa(strings.Count(rootPEM+interPEM, "\n")) + ": trailing spaces or tabs on a PEM line"}, wantLine: 1},
		{name: "non-CA certificate", bundle: rootPEM + leafPEM, wantProblems: []string{"is not a CA certificate"}, wantIndex: 2},
		{name: "private key block", bundle: rootPEM + string(key), wantProblems: []string{`"BEGIN PRIVATE KEY" is not allowed`}},
		{name: "26 certificates", bundle: many.String(), wantProblems: []string{"at most 25"}},
		{name: "unterminated block", bundle: rootPEM[:len(rootPEM)-len("-----END CERTIFICATE-----\n")], wantProblems: []string{"has no"}, wantIndex: 1},
		{name: "empty", bundle: "", wantProblems: []string{"empty"}},
		{name: "only comments", bundle: "# nothing here\n", wantProblems: []string{"no certificate"}},
		{name: "corrupt base64", bundle: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", wantProblems: []string{"invalid base64"}, wantIndex: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := truststore.ParseBundle(pemfile.File("bundle.pem"), []byte(tc.bundle))
			if len(tc.wantProblems) == 0 {
				if err != nil {
					t.Fatalf("ParseBundle: %v", err)
				}
				if len(certs) != tc.wantCerts {
					t.Fatalf("got %d certificates; want %d", len(certs), tc.wantCerts)
				}
				return
			}
			be, ok := err.(*truststore.BundleError)
			if !ok {
				t.Fatalf("err = %v; want *BundleError", err)
			}
			if len(be.Problems) != len(tc.wantProblems) {
				t.Fatalf("got %d problems (%v); want %d", len(be.Problems), be, len(tc.wantProblems))
			}
			for i, want := range tc.wantProblems {
				if !strings.Contains(be.Problems[i].Reason, want) {
					t.Errorf("problem %d = %q; want it to contain %q", i, be.Problems[i].Reason, want)
				}
			}
			if tc.wantLine != 0 && be.Problems[0].Line != tc.wantLine {
				t.Errorf("line = %d; want %d", be.Problems[0].Line, tc.wantLine)
			}
			if tc.wantIndex != 0 && be.Problems[0].Index != tc.wantIndex {
				t.Errorf("index = %d; want %d", be.Problems[0].Index, tc.wantIndex)
			}
			if !strings.HasPrefix(err.Error(), "InvalidCaCertificatesBundle: ") {
				t.Errorf("error %q lacks ALB's error code", err)
			}
		})
	}
}

func TestParseBundleOversizeCertificate(t *testing.T) {
	root, err := pki.NewRoot(pki.Options{Subject: pkix.Name{CommonName: "big", OrganizationalUnit: []string{strings.Repeat("y", 17000)}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = truststore.ParseBundle(pemfile.File("bundle.pem"), pki.CertPEM(root.Cert))
	if err == nil || !strings.Contains(err.Error(), "certificate #1") || !strings.Contains(err.Error(), "at most 16384") {
		t.Fatalf("err = %v; want certificate #1 over 16384 bytes", err)
	}
}

func FuzzParseBundle(f *testing.F) {
	root, _ := pki.NewRoot(pki.Options{})
	rootPEM := pki.CertPEM(root.Cert)
	f.Add(rootPEM)
	f.Add(append([]byte("# c\n"), rootPEM...))
	f.Add(append(append([]byte{}, rootPEM...), '\n'))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("\r\n#\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := truststore.ParseBundle(pemfile.File("bundle.pem"), data)
		if err == nil {
			if len(certs) == 0 || len(certs) > truststore.MaxBundleCertificates {
				t.Fatalf("accepted a bundle of %d certificates", len(certs))
			}
			for _, c := range certs {
				if !c.IsCA {
					t.Fatal("accepted a non-CA certificate")
				}
			}
			if bytes.Contains(data, []byte("\n\n")) {
				t.Fatal("accepted a bundle with a blank line")
			}
			return
		}
		if err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
