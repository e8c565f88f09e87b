package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"edge/internal/certfmt"
	"edge/internal/config"
	"edge/internal/pki"
)

// certificateProblems finds listener certificates that load but cannot
// work for TLS clients, for edge check: a chain that stops below the root
// (an intermediate the client must be sent), a chain file out of order, a
// leaf without the serverAuth extended key usage, and names clients use
// (host-header rules, a host-name address) that no certificate of the
// listener covers. What edge cannot decide becomes a note. Files that do
// not load are left to the build, which reports them.
func certificateProblems(cfg *config.Config) (ps config.Problems, notes []string) {
	known := knownCAs(cfg)
	roots, _ := x509.SystemCertPool()
	for i, l := range cfg.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		var leaves []*x509.Certificate
		for j, c := range l.Certificates {
			cp := fmt.Sprintf("%s.certificates[%d]", p, j)
			certs, chainStart := readCertAndChain(cfg, c)
			if len(certs) == 0 {
				continue
			}
			leaf := certs[0]
			leaves = append(leaves, leaf)
			if !serverAuth(leaf) {
				ps = append(ps, cfg.Problem(cp+".certificate", "%q lacks the serverAuth extended key usage (it has %s): TLS clients refuse it as a server certificate; issue a server certificate (edge pki server)", certfmt.DN(leaf.RawSubject), ekuNames(leaf)))
			}
			if prob, note := chainProblem(cfg, cp, c, certs, chainStart, known, roots); prob != nil {
				ps = append(ps, *prob)
			} else if note != "" {
				notes = append(notes, note)
			}
		}
		if len(leaves) == 0 {
			continue // the dev certificate names what the listener needs
		}
		covered := func(name string) bool {
			for _, leaf := range leaves {
				if leaf.VerifyHostname(name) == nil {
					return true
				}
			}
			return false
		}
		have := strings.Join(certNames(leaves[0]), ", ")
		for k, r := range l.Rules {
			for m, cond := range r.Conditions {
				if cond.Field != "host-header" {
					continue
				}
				for _, v := range cond.ConditionValues() {
					// A sample of what a wildcard value matches.
					sample := strings.NewReplacer("*", "x", "?", "x").Replace(strings.ToLower(v))
					if !covered(sample) {
						ps = append(ps, cfg.Problem(fmt.Sprintf("%s.rules[%d].conditions[%d]", p, k, m), "no certificate of %s covers %q (the default certificate has %s): clients sending that host cannot complete the handshake; add a certificate for it", p, v, have))
					}
				}
			}
		}
		ip := net.ParseIP(l.Address)
		switch {
		case ip == nil && !covered(l.Address):
			ps = append(ps, cfg.Problem(p+".address", "no certificate of %s covers %q (the default certificate has %s): clients connecting by that name cannot complete the handshake", p, l.Address, have))
		case ip != nil && ip.IsLoopback() && !covered("localhost") && !covered(ip.String()):
			notes = append(notes, fmt.Sprintf("%s: no certificate of %s covers localhost or %s (the default certificate has %s); clients must connect by one of its names (curl --resolve NAME:PORT:%s)", cfg.File, p, ip, have, ip))
		}
	}
	return ps, notes
}

// readCertAndChain reads a certificates entry as the build does: the
// certificate file (which may hold the chain) then certificate_chain.
// chainStart is the index of the first certificate from certificate_chain.
func readCertAndChain(cfg *config.Config, c config.Certificate) (certs []*x509.Certificate, chainStart int) {
	data, err := os.ReadFile(cfg.Path(c.Certificate))
	if err != nil {
		return nil, 0
	}
	if certs, err = pki.ParseCertsPEM(data); err != nil {
		return nil, 0
	}
	chainStart = len(certs)
	if c.CertificateChain != "" {
		data, err := os.ReadFile(cfg.Path(c.CertificateChain))
		if err != nil {
			return nil, 0
		}
		chain, err := pki.ParseCertsPEM(data)
		if err != nil {
			return nil, 0
		}
		certs = append(certs, chain...)
	}
	return certs, chainStart
}

// knownCA is a CA certificate edge can see, and where it saw it.
type knownCA struct {
	cert   *x509.Certificate
	source string
}

// knownCAs collects the CA certificates a configuration makes visible:
// its trust-store bundles, the dev PKI beside it, and the PEM files beside
// each listener certificate (an edge pki directory).
func knownCAs(cfg *config.Config) []knownCA {
	var out []knownCA
	seen := map[string]bool{}
	add := func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		data, err := os.ReadFile(path)
		if err != nil {
			return
		}
		certs, err := pki.ParseCertsPEM(data)
		if err != nil {
			return
		}
		for _, c := range certs {
			if c.IsCA {
				out = append(out, knownCA{c, path})
			}
		}
	}
	for _, ts := range cfg.TrustStores {
		add(cfg.Path(ts.CACertificatesBundle))
	}
	dirs := []string{cfg.Path(".edge")}
	for _, l := range cfg.Listeners {
		for _, c := range l.Certificates {
			dirs = append(dirs, filepath.Dir(cfg.Path(c.Certificate)))
		}
	}
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(d, "*.pem"))
		for _, m := range matches {
			add(m)
		}
	}
	return out
}

// chainProblem checks that the presented chain is in order and reaches a
// root a client can know: one the chain ends with, a system root, or a
// self-signed root issuing its last certificate.
func chainProblem(cfg *config.Config, cp string, c config.Certificate, certs []*x509.Certificate, chainStart int, known []knownCA, roots *x509.CertPool) (*config.Problem, string) {
	for i := 0; i+1 < len(certs); i++ {
		if certs[i].CheckSignatureFrom(certs[i+1]) != nil {
			key := cp + ".certificate"
			if i+1 >= chainStart {
				key = cp + ".certificate_chain"
			}
			p := cfg.Problem(key, "certificate #%d %q did not issue #%d %q: the chain must go from the leaf up, each certificate followed by its issuer (wrong order or wrong file)", i+2, certfmt.DN(certs[i+1].RawSubject), i+1, certfmt.DN(certs[i].RawSubject))
			return &p, ""
		}
	}
	last := certs[len(certs)-1]
	if selfSigned(last) {
		return nil, ""
	}
	if roots != nil {
		inter := x509.NewCertPool()
		for _, x := range certs[1:] {
			inter.AddCert(x)
		}
		if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
			return nil, ""
		}
	}
	for _, k := range known {
		if string(k.cert.RawSubject) != string(last.RawIssuer) || last.CheckSignatureFrom(k.cert) != nil {
			continue
		}
		if selfSigned(k.cert) {
			return nil, "" // a root: the client's trust anchor
		}
		hint := "certificate_chain: FILE (its issuers up to the root, nearest first)"
		if c.CertificateChain == "" {
			base := strings.TrimSuffix(cfg.Path(c.Certificate), ".pem")
			if _, err := os.Stat(base + "-chain.pem"); err == nil && !strings.HasSuffix(base, "-fullchain") {
				hint = "certificate_chain: " + strings.TrimSuffix(c.Certificate, ".pem") + "-chain.pem"
			}
		}
		p := cfg.Problem(cp, "the chain of %q stops below the root: its issuer %q is an intermediate CA that is not sent (found in %s), so clients that trust only the root cannot verify it; add %s", certfmt.DN(certs[0].RawSubject), certfmt.DN(last.RawIssuer), k.source, hint)
		return &p, ""
	}
	return nil, fmt.Sprintf("%s (%s): the chain ends at %q, issued by %q, which edge cannot find: clients need that issuer as a trusted root, or certificate_chain must include it", cfg.Path(c.Certificate), cp, certfmt.DN(last.RawSubject), certfmt.DN(last.RawIssuer))
}

// selfSigned tells whether c signed itself; unlike CheckSignatureFrom it
// accepts a self-signed leaf (openssl req -x509), which is not a CA.
func selfSigned(c *x509.Certificate) bool {
	return string(c.RawSubject) == string(c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// serverAuth tells whether a leaf may serve TLS: no extended key usage
// (any use), serverAuth, or anyExtendedKeyUsage.
func serverAuth(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

func ekuNames(c *x509.Certificate) string {
	names := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageClientAuth: "clientAuth", x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
		x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
	}
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := names[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("usage %d", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return strings.Join(out, ", ")
}

func certNames(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		out = []string{"no subjectAltName"}
	}
	return out
}
