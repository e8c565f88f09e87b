package s3store

import "testing"

func TestHostBucket(t *testing.T) {
	domains := []string{"s3.localhost", "localhost"}
	for host, want := range map[string]string{
		"edge-trust.localhost:4566":    "edge-trust",
		"edge-trust.s3.localhost:4566": "edge-trust",
		"my.dotted.bucket.localhost":   "my.dotted.bucket",
		"Edge-Trust.LOCALHOST.":        "edge-trust",
		"localhost:4566":               "",
		"s3.localhost:4566":            "",
		"127.0.0.1:4566":               "",
		"[::1]:4566":                   "",
		"example.com":                  "",
		"notlocalhost:1":               "",
	} {
		if got := hostBucket(host, domains); got != want {
			t.Errorf("hostBucket(%q) = %q; want %q", host, got, want)
		}
	}
}

func TestParseCopySource(t *testing.T) {
	for src, want := range map[string][3]string{
		"/edge-trust/crl/a.pem?versionId=abc": {"edge-trust", "crl/a.pem", "abc"},
		"edge-trust/dir%2Fa%20b.pem":          {"edge-trust", "dir/a b.pem", ""},
		"edge-trust/k":                        {"edge-trust", "k", ""},
	} {
		b, k, v := parseCopySource(src)
		if [3]string{b, k, v} != want {
			t.Errorf("parseCopySource(%q) = %q %q %q; want %q", src, b, k, v, want)
		}
	}
}
