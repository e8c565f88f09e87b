package tlsterm

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"net"
	"testing"

	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

func TestParseModeAndRejection(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeOff, "off": ModeOff, "passthrough": ModePassthrough, "verify": ModeVerify} {
		if m, err := ParseMode(in); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, m, err)
		}
	}
	if _, err := ParseMode("strict"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
	for m, want := range map[Mode]string{ModeOff: "off", ModePassthrough: "passthrough", ModeVerify: "verify"} {
		if m.String() != want {
			t.Errorf("%d.String() = %q", m, m.String())
		}
	}
	for in, want := range map[string]Rejection{"": RejectReset, "reset": RejectReset, "alert": RejectAlert} {
		if r, err := ParseRejection(in); err != nil || r != want || (in != "" && r.String() != in) {
			t.Errorf("ParseRejection(%q) = %v, %v", in, r, err)
		}
	}
	if _, err := ParseRejection("drop"); err == nil {
		t.Error("ParseRejection accepted an unknown rejection")
	}
}

func TestNames(t *testing.T) {
	for v, want := range map[uint16]string{tls.VersionTLS10: "TLSv1", tls.VersionTLS11: "TLSv1.1", tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3", 0: ""} {
		if got := VersionName(v); got != want {
			t.Errorf("VersionName(%x) = %q; want %q", v, got, want)
		}
	}
	for id, want := range map[tls.CurveID]string{0: "", tls.X25519: "x25519", tls.CurveP256: "secp256r1", tls.CurveP384: "secp384r1",
		tls.CurveP521: "secp521r1", tls.X25519MLKEM768: "X25519MLKEM768", tls.SecP256r1MLKEM768: "SecP256r1MLKEM768", tls.SecP384r1MLKEM1024: "SecP384r1MLKEM1024", 0x9999: tls.CurveID(0x9999).String()} {
		if got := CurveName(id); got != want {
			t.Errorf("CurveName(%v) = %q; want %q", id, got, want)
		}
	}
	for id, want := range map[uint16]string{0: "", tls.TLS_AES_128_GCM_SHA256: "TLS_AES_128_GCM_SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305", 0x1301 + 0x100: tls.CipherSuiteName(0x1401)} {
		if got := CipherName(id); got != want {
			t.Errorf("CipherName(%x) = %q; want %q", id, got, want)
		}
	}
}

// Certificates chooses as ALB does: the first is the default (no SNI, or
// an SNI nothing covers); others by SNI, exact names before wildcards.
func TestCertificatesChooseBySNI(t *testing.T) {
	root := testutil.Root(t, "root")
	issue := func(names ...string) tls.Certificate {
		is, err := root.IssueServer(pki.Options{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names})
		if err != nil {
			t.Fatal(err)
		}
		return is.TLSCertificate()
	}
	def, wild, exact := issue("default.example"), issue("*.example.com"), issue("api.example.com")
	certs, err := NewCertificates([]tls.Certificate{def, wild, exact})
	if err != nil {
		t.Fatal(err)
	}
	defer certs.Close()
	if len(certs.All()) != 3 || certs.Default().Leaf.Subject.CommonName != "default.example" {
		t.Fatalf("All %d, Default %v", len(certs.All()), certs.Default().Leaf.Subject)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	for sni, want := range map[string]struct {
		cn      string
		matched bool
	}{
		"":                {"default.example", false},
		"api.example.com": {"api.example.com", true},
		"www.example.com": {"*.example.com", true},
		"example.com":     {"default.example", false},
		"other.test":      {"default.example", false},
		"API.Example.com": {"api.example.com", true},
	} {
		c := &Conn{Conn: a, Result: &Result{}}
		got, err := certs.GetCertificate(&tls.ClientHelloInfo{ServerName: sni, Conn: c})
		if err != nil {
			t.Fatal(err)
		}
		if got.Leaf.Subject.CommonName != want.cn || c.Result.ServerCert != got || c.Result.SNIMatched != want.matched {
			t.Errorf("SNI %q: %s (matched %v); want %s (matched %v)", sni, got.Leaf.Subject.CommonName, c.Result.SNIMatched, want.cn, want.matched)
		}
	}
	certs.Close() // twice is fine
	if _, err := NewCertificates(nil); err == nil {
		t.Error("NewCertificates accepted no certificate")
	}
	var none *Certificates
	if none.All() != nil {
		t.Error("All of a nil Certificates is not nil")
	}
}

// Config turns each mode into the tls.Config ALB's behaviour needs.
func TestTerminationConfig(t *testing.T) {
	p := newPKI(t)
	if _, err := (&Termination{}).Config(); err == nil {
		t.Error("a termination without certificates has a configuration")
	}
	v := p.termination(t, ModeVerify, RejectReset)
	v.TrustStore = nil
	if _, err := v.Config(); err == nil {
		t.Error("verify mode without a trust store has a configuration")
	}
	for _, tc := range []struct {
		mode      Mode
		advertise bool
		auth      tls.ClientAuthType
		tickets   bool
		cas       bool
	}{
		{ModeOff, false, tls.NoClientCert, false, false},
		{ModePassthrough, false, tls.RequestClientCert, true, false},
		{ModeVerify, false, tls.RequireAnyClientCert, true, false},
		{ModeVerify, true, tls.RequireAnyClientCert, true, true},
	} {
		term := p.termination(t, tc.mode, RejectReset)
		term.AdvertiseCANames = tc.advertise
		cfg, err := term.Config()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ClientAuth != tc.auth || cfg.SessionTicketsDisabled != tc.tickets || (cfg.ClientCAs != nil) != tc.cas || (cfg.VerifyConnection != nil) != (tc.mode == ModeVerify) {
			t.Errorf("%v advertise %v: ClientAuth %v tickets off %v ClientCAs %v", tc.mode, tc.advertise, cfg.ClientAuth, cfg.SessionTicketsDisabled, cfg.ClientCAs != nil)
		}
		if cfg.MinVersion != term.Policy.MinVersion || len(cfg.NextProtos) != 2 {
			t.Errorf("%v: MinVersion %x NextProtos %v", tc.mode, cfg.MinVersion, cfg.NextProtos)
		}
	}
}

// Classify maps a handshake error to the tls_verify_status ALB logs.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want truststore.Status
	}{
		{nil, truststore.Success},
		{&VerdictError{Verdict: truststore.Verdict{Status: truststore.ClientCertCrlHit, Detail: "revoked"}}, truststore.ClientCertCrlHit},
		{errors.New("tls: failed to parse client certificate: x509: malformed"), truststore.ClientCertInvalid},
		{errors.New("tls: client sent certificate containing RSA key larger than 8192 bits"), truststore.ClientCertTypeUnsupported},
		{errors.New("tls: client certificate contains an unsupported public key of type foo"), truststore.ClientCertTypeUnsupported},
		{errors.New("EOF"), truststore.UnmappedConnectionError},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %v; want %v", tc.err, got, tc.want)
		}
	}
	e := &VerdictError{Verdict: truststore.Verdict{Status: truststore.ClientCertUntrusted, Detail: "no path"}}
	if e.Error() != "Failed:ClientCertUntrusted: no path" {
		t.Errorf("VerdictError.Error() = %q", e.Error())
	}
}
