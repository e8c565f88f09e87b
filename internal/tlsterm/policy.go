// Package tlsterm terminates client TLS the way an ALB HTTPS listener
// does: ELB security policies, server certificates chosen by SNI, the three
// mutual-authentication modes, and one handshake Result per connection
// attempt carrying ALB's tls_verify_status.
package tlsterm

import (
	"crypto/tls"
	"fmt"
	"sort"
	"strings"

	"edge/internal/suggest"
)

// Policy is an ELB security policy as Go can serve it.
type Policy struct {
	Name       string
	MinVersion uint16
	MaxVersion uint16
	// CipherSuites are the TLS 1.0-1.2 suites of the policy that Go
	// implements, in the policy's order. Go chooses TLS 1.3 suites itself.
	CipherSuites []uint16
	// Ciphers lists every OpenSSL cipher name of the policy, including
	// those Go lacks (see Unsupported), as `edge check` reports them.
	Ciphers []string
	// Curves are the key-exchange groups: classic ones on ordinary
	// policies, ML-KEM hybrids first on -PQ- policies.
	Curves []tls.CurveID
}

// Unsupported returns the policy's ciphers that Go cannot offer.
func (p Policy) Unsupported() []string {
	var out []string
	for _, name := range p.Ciphers {
		if _, ok := cipherIDs[name]; !ok && !strings.HasPrefix(name, "TLS_") {
			out = append(out, name)
		}
	}
	return out
}

// DefaultPolicy is what the ELBv2 API (CLI, CloudFormation, CDK) uses when
// a listener names no policy.
const DefaultPolicy = "ELBSecurityPolicy-2016-08"

// OpenSSL cipher groups of ALB's policies (reference §8).
var (
	t13     = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	t13FIPS = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}
	gcmE    = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}
	cbc2E   = []string{"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384"}
	sha1E   = []string{"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA"}
	rsaGCM  = []string{"AES128-GCM-SHA256", "AES128-SHA256", "AES256-GCM-SHA384", "AES256-SHA256"}
	rsaSHA1 = []string{"AES128-SHA", "AES256-SHA"}

	allE   = cat(gcmE, cbc2E, sha1E)
	allRSA = cat(rsaGCM, rsaSHA1)
)

// Key-exchange groups. ALB offers X25519, P-256 and P-384 on ordinary
// policies and adds the ML-KEM hybrids only on -PQ- policies; Go's own
// default would offer X25519MLKEM768 everywhere.
var (
	classicCurves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}
	pqCurves      = []tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024, tls.X25519, tls.CurveP256, tls.CurveP384}
	fipsCurves    = []tls.CurveID{tls.CurveP256, tls.CurveP384}
	fipsPQCurves  = []tls.CurveID{tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024, tls.CurveP256, tls.CurveP384}
	cnsaCurves    = []tls.CurveID{tls.CurveP384}
)

const (
	v10 = tls.VersionTLS10
	v11 = tls.VersionTLS11
	v12 = tls.VersionTLS12
	v13 = tls.VersionTLS13
)

var policies = map[string]Policy{}

func def(name string, min, max uint16, curves []tls.CurveID, ciphers ...[]string) {
	p := Policy{Name: name, MinVersion: min, MaxVersion: max, Curves: curves, Ciphers: cat(ciphers...)}
	for _, c := range p.Ciphers {
		if id, ok := cipherIDs[c]; ok {
			p.CipherSuites = append(p.CipherSuites, id)
		}
	}
	policies[name] = p
}

func init() {
	const pre = "ELBSecurityPolicy-"
	// TLS 1.3 policies, each also as a -PQ-2025-09 variant.
	for _, v := range []struct {
		mid     string
		min     uint16
		ciphers [][]string
	}{
		{"TLS13-1-3", v13, [][]string{t13}},
		{"TLS13-1-2", v12, [][]string{t13, gcmE, cbc2E}},
		{"TLS13-1-2-Res", v12, [][]string{t13, gcmE}},
		{"TLS13-1-2-Ext1", v12, [][]string{t13, gcmE, cbc2E, rsaGCM}},
		{"TLS13-1-2-Ext2", v12, [][]string{t13, allE, allRSA}},
		{"TLS13-1-1", v11, [][]string{t13, allE, allRSA}},
		{"TLS13-1-0", v10, [][]string{t13, allE, allRSA}},
	} {
		def(pre+v.mid+"-2021-06", v.min, v13, classicCurves, v.ciphers...)
		def(pre+v.mid+"-PQ-2025-09", v.min, v13, pqCurves, v.ciphers...)
	}
	// TLS 1.2 and older policies.
	def(pre+"TLS-1-2-Ext-2018-06", v12, v12, classicCurves, allE, allRSA)
	def(pre+"TLS-1-2-2017-01", v12, v12, classicCurves, gcmE, cbc2E, rsaGCM)
	def(pre+"TLS-1-1-2017-01", v11, v12, classicCurves, allE, allRSA)
	def(pre+"2016-08", v10, v12, classicCurves, allE, allRSA)
	// FIPS policies: no CHACHA20 (Go cannot drop it from TLS 1.3, see
	// docs/tls.md), NIST curves only.
	for _, v := range []struct {
		mid     string
		min     uint16
		ciphers [][]string
		pq      bool
	}{
		{"TLS13-1-3", v13, [][]string{t13FIPS}, true},
		{"TLS13-1-2", v12, [][]string{t13FIPS, gcmE, cbc2E}, true},
		{"TLS13-1-2-Res", v12, [][]string{t13FIPS, gcmE}, true},
		{"TLS13-1-2-Ext0", v12, [][]string{t13FIPS, allE}, true},
		{"TLS13-1-2-Ext1", v12, [][]string{t13FIPS, gcmE, cbc2E, rsaGCM}, true},
		{"TLS13-1-2-Ext2", v12, [][]string{t13FIPS, allE, allRSA}, true},
		{"TLS13-1-1", v11, [][]string{t13FIPS, allE, allRSA}, false},
		{"TLS13-1-0", v10, [][]string{t13FIPS, allE, allRSA}, true},
	} {
		def(pre+v.mid+"-FIPS-2023-04", v.min, v13, fipsCurves, v.ciphers...)
		if v.pq {
			def(pre+v.mid+"-FIPS-PQ-2025-09", v.min, v13, fipsPQCurves, v.ciphers...)
		}
	}
	// RFC 9151 (CNSA 1.0): AES-256 and P-384 only. The INTEROP variants
	// widen the list step by step; their exact lists are not in ALB's
	// published table, so these follow its pattern (docs/tls.md).
	aes256 := []string{"TLS_AES_256_GCM_SHA384"}
	e256 := []string{"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}
	def(pre+"TLS13-1-3-RFC9151-FIPS-2023-07", v13, v13, cnsaCurves, aes256)
	def(pre+"TLS13-1-2-RFC9151-FIPS-2023-07", v12, v13, cnsaCurves, aes256, e256)
	def(pre+"TLS13-1-2-Ext0-RFC9151-FIPS-2023-07", v12, v13, cnsaCurves, aes256, e256, []string{"AES256-GCM-SHA384"})
	def(pre+"TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07", v12, v13, fipsCurves, t13FIPS, e256)
	def(pre+"TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07", v12, v13, fipsCurves, t13FIPS, gcmE)
	def(pre+"TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07", v12, v13, fipsCurves, t13FIPS, gcmE, cbc2E)
	def(pre+"TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07", v12, v13, fipsCurves, t13FIPS, gcmE, cbc2E, rsaGCM)
}

// LookupPolicy returns the named policy. The empty name means
// DefaultPolicy. An unknown name is an error that names the nearest valid
// policy.
func LookupPolicy(name string) (Policy, error) {
	if name == "" {
		name = DefaultPolicy
	}
	if p, ok := policies[name]; ok {
		return p, nil
	}
	return Policy{}, fmt.Errorf("unknown security policy %q; did you mean %q?", name, suggest.Nearest(name, PolicyNames()))
}

// PolicyNames lists every policy name, sorted.
func PolicyNames() []string {
	names := make([]string, 0, len(policies))
	for n := range policies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
