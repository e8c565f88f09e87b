package tlsterm_test

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	"edge/internal/tlsterm"
)

// Every policy name of reference §8 resolves.
func TestPolicyNames(t *testing.T) {
	names := []string{
		"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
		"ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
		"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-TLS13-1-0-2021-06",
		"ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
		"ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09",
		"ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
		"ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
		"ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
		"ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
		"ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
		"ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09",
		"ELBSecurityPolicy-TLS13-1-3-RFC9151-FIPS-2023-07", "ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07", "ELBSecurityPolicy-TLS13-1-2-Ext0-RFC9151-FIPS-2023-07",
		"ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07", "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07",
		"ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07", "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07",
	}
	for _, n := range names {
		p, err := tlsterm.LookupPolicy(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if p.MinVersion > p.MaxVersion || len(p.Curves) == 0 {
			t.Errorf("%s: versions %x-%x, %d curves", n, p.MinVersion, p.MaxVersion, len(p.Curves))
		}
		if p.MaxVersion < tls.VersionTLS13 && len(p.CipherSuites) == 0 {
			t.Errorf("%s: no cipher suite Go can serve", n)
		}
	}
}

func TestPolicyDetails(t *testing.T) {
	def, err := tlsterm.LookupPolicy("")
	if err != nil || def.Name != "ELBSecurityPolicy-2016-08" {
		t.Fatalf("default policy = %q, %v; want ELBSecurityPolicy-2016-08 as the ELBv2 API", def.Name, err)
	}
	if def.MinVersion != tls.VersionTLS10 || def.MaxVersion != tls.VersionTLS12 {
		t.Errorf("2016-08 versions = %x-%x; want TLS 1.0-1.2", def.MinVersion, def.MaxVersion)
	}
	p, _ := tlsterm.LookupPolicy("ELBSecurityPolicy-TLS13-1-2-2021-06")
	if p.MinVersion != tls.VersionTLS12 || p.MaxVersion != tls.VersionTLS13 {
		t.Errorf("TLS13-1-2 versions = %x-%x", p.MinVersion, p.MaxVersion)
	}
	if slices.Contains(p.CipherSuites, tls.TLS_RSA_WITH_AES_128_GCM_SHA256) {
		t.Error("TLS13-1-2-2021-06 offers RSA key exchange; ALB's list has none")
	}
	if !slices.Equal(p.Curves, []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}) {
		t.Errorf("classic policy curves = %v; want X25519, P-256, P-384 and no ML-KEM", p.Curves)
	}
	pq, _ := tlsterm.LookupPolicy("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09")
	if pq.Curves[0] != tls.X25519MLKEM768 || !slices.Contains(pq.Curves, tls.SecP256r1MLKEM768) {
		t.Errorf("PQ policy curves = %v; want the ML-KEM hybrids first", pq.Curves)
	}
	if u := p.Unsupported(); !slices.Equal(u, []string{"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384"}) {
		t.Errorf("Unsupported = %v", u)
	}
}

func TestUnknownPolicyNamesNearest(t *testing.T) {
	_, err := tlsterm.LookupPolicy("ELBSecurityPolicy-TLS13-1-2-2021-6")
	if err == nil || !strings.Contains(err.Error(), `did you mean "ELBSecurityPolicy-TLS13-1-2-2021-06"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestNames(t *testing.T) {
	if got := tlsterm.CipherName(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); got != "ECDHE-RSA-AES128-GCM-SHA256" {
		t.Errorf("CipherName = %q", got)
	}
	if got := tlsterm.CurveName(tls.CurveP256); got != "secp256r1" {
		t.Errorf("CurveName(P-256) = %q; want secp256r1 as ALB logs it", got)
	}
	if got := tlsterm.VersionName(tls.VersionTLS10); got != "TLSv1" {
		t.Errorf("VersionName(1.0) = %q; want OpenSSL's TLSv1", got)
	}
}
