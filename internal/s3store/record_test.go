package s3store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestVersionIDShape(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := newVersionID()
		if len(id) != versionIDLen || !versionIDPattern.MatchString(id) || strings.HasPrefix(id, ".") {
			t.Fatalf("version id %q is not 32 characters of [A-Za-z0-9._] (not starting with '.')", id)
		}
		if seen[id] {
			t.Fatalf("version id %q made twice", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "3/abc", strings.Repeat("a", 31), strings.Repeat("a", 33), strings.Repeat("/", 32), "NULL"} {
		if validVersionID(bad) {
			t.Errorf("validVersionID(%q) = true", bad)
		}
	}
}

func TestParseRecords(t *testing.T) {
	goodVersion := `{"format":1,"key":"crl/a.pem","version_id":"null","seq":3,"size":5,"md5":"5d41402abc4b2a76b9719d911017c592","last_modified":"2026-11-30T00:00:00Z","data_file":"null.3.data"}`
	if m, err := parseVersionMeta([]byte(goodVersion)); err != nil || m.Key != "crl/a.pem" || m.Size != 5 {
		t.Fatalf("good version record: %+v, %v", m, err)
	}
	if m, err := parseBucketMeta([]byte(`{"format":1,"name":"edge-trust","created":"2026-11-30T00:00:00Z","versioning":"Suspended"}`)); err != nil || m.Versioning != "Suspended" {
		t.Fatalf("good bucket record: %+v, %v", m, err)
	}
	badVersions := map[string]string{
		"not JSON":            `{"format":1`,
		"trailing data":       goodVersion + `{}`,
		"newer format":        strings.Replace(goodVersion, `"format":1`, `"format":2`, 1),
		"empty key":           strings.Replace(goodVersion, `"crl/a.pem"`, `""`, 1),
		"version id with /":   strings.Replace(goodVersion, `"null"`, `"3/ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"`, 1),
		"seq 0":               strings.Replace(goodVersion, `"seq":3`, `"seq":0`, 1),
		"negative size":       strings.Replace(goodVersion, `"size":5`, `"size":-5`, 1),
		"short md5":           strings.Replace(goodVersion, `5d41402abc4b2a76b9719d911017c592`, `5d41`, 1),
		"data file with path": strings.Replace(goodVersion, `null.3.data`, `../../etc/passwd.data`, 1),
		"data file not .data": strings.Replace(goodVersion, `null.3.data`, `null.3.json`, 1),
		"marker with data":    strings.Replace(goodVersion, `"seq":3`, `"seq":3,"delete_marker":true`, 1),
	}
	for name, rec := range badVersions {
		if _, err := parseVersionMeta([]byte(rec)); !errors.Is(err, errRecord) {
			t.Errorf("%s: err = %v; want an invalid record error", name, err)
		}
	}
	badBuckets := map[string]string{
		"bad name":        `{"format":1,"name":"Edge_Trust"}`,
		"dot-dot name":    `{"format":1,"name":".."}`,
		"bad versioning":  `{"format":1,"name":"edge-trust","versioning":"enabled"}`,
		"no format":       `{"name":"edge-trust"}`,
		"not an object":   `[]`,
		"name with slash": `{"format":1,"name":"a/b/c"}`,
	}
	for name, rec := range badBuckets {
		if _, err := parseBucketMeta([]byte(rec)); !errors.Is(err, errRecord) {
			t.Errorf("%s: err = %v; want an invalid record error", name, err)
		}
	}
}

// FuzzParseRecords: the loaders of meta.json and version records never
// panic, and what they accept is safe to use as file names and re-encodes
// to a record they accept again.
func FuzzParseRecords(f *testing.F) {
	f.Add([]byte(`{"format":1,"key":"k","version_id":"null","seq":1,"size":0,"md5":"d41d8cd98f00b204e9800998ecf8427e","last_modified":"2026-11-30T00:00:00Z","data_file":"null.1.data"}`))
	f.Add([]byte(`{"format":1,"key":"k","version_id":"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef","seq":2,"delete_marker":true,"last_modified":"2026-11-30T00:00:00Z"}`))
	f.Add([]byte(`{"format":1,"name":"edge-trust","created":"2026-11-30T00:00:00Z","versioning":"Enabled"}`))
	f.Add([]byte(`{"format":1,"key":"k","version_id":"null","seq":1,"metadata":{"Content-Type":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := parseVersionMeta(data); err == nil {
			if strings.ContainsAny(m.DataFile, `/\`) || m.DataFile == "." || m.DataFile == ".." || strings.Contains(m.VersionID, "/") {
				t.Fatalf("accepted an unsafe file name: %+v", m)
			}
			again, _ := json.Marshal(m)
			if _, err := parseVersionMeta(again); err != nil {
				t.Fatalf("re-encoded record refused: %v\n%s", err, again)
			}
		}
		if m, err := parseBucketMeta(data); err == nil {
			if !validBucketName(m.Name) || strings.Contains(m.Name, "/") {
				t.Fatalf("accepted bucket name %q", m.Name)
			}
			again, _ := json.Marshal(m)
			if _, err := parseBucketMeta(again); err != nil {
				t.Fatalf("re-encoded record refused: %v\n%s", err, again)
			}
		}
	})
}
