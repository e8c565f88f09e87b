package server

import (
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	"edge/internal/arn"
	"edge/internal/config"
	"edge/internal/pki"
)

// certInfo is what the configuration says of one listener certificate.
type certInfo struct {
	// arn is certificate_arn ("" when not given: the ARN is derived from
	// the certificate, certARN).
	arn string
	// dev: the dev CA issued it, for a certificate given only as an ARN
	// (ACM is not emulated).
	dev bool
}

// certificates loads a listener's server certificates, or issues one from
// the dev CA when it has none. A certificate given only by its
// certificate_arn is issued by the dev CA too (ACM is not emulated), for
// the names of a listener without certificates. It records in l.certs
// what each certificate is; nil means problems were reported (or
// CheckOnly with a dev certificate).
func (b *builder) certificates(l *Listener, lc *config.Listener, p string) []tls.Certificate {
	if len(lc.Certificates) == 0 {
		l.DevCertificate = true
		l.certs = []certInfo{{dev: true}}
		if b.opts.CheckOnly {
			return nil
		}
		if tc, ok := b.devCertificate(lc, p); ok {
			return []tls.Certificate{tc}
		}
		return nil
	}
	var out []tls.Certificate
	ok := true
	for j, c := range lc.Certificates {
		cp := fmt.Sprintf("%s.certificates[%d]", p, j)
		info := certInfo{arn: c.CertificateArn}
		if c.Certificate == "" && c.PrivateKey == "" && c.CertificateArn != "" {
			info.dev = true
			l.certs = append(l.certs, info)
			if j == 0 {
				l.DevCertificate = true // the default certificate names localhost
			}
			b.snap.acmDev = append(b.snap.acmDev, c.CertificateArn)
			if b.opts.CheckOnly {
				ok = false // nothing to serve; nothing wrong either
				continue
			}
			tc, issued := b.devCertificate(lc, cp)
			ok = ok && issued
			out = append(out, tc)
			continue
		}
		l.certs = append(l.certs, info)
		tc, err := b.loadCertificate(c, cp)
		if err != nil {
			ok = false
			continue
		}
		out = append(out, tc)
	}
	if !ok {
		return nil
	}
	return out
}

func (b *builder) loadCertificate(c config.Certificate, p string) (tls.Certificate, error) {
	fail := errors.New("failed")
	certPath, keyPath := b.cfg.Path(c.Certificate), b.cfg.Path(c.PrivateKey)
	b.track(certPath)
	b.track(keyPath)
	if c.CertificateChain != "" {
		b.track(b.cfg.Path(c.CertificateChain))
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		b.file(err, certPath, 0, p+".certificate", "cannot read the certificate: %v", unwrapPath(err))
		return tls.Certificate{}, fail
	}
	certs, err := pki.ReadCertsPEM(certPath, certPEM)
	if err != nil {
		b.file(err, certPath, 0, p+".certificate", "%v", err)
		return tls.Certificate{}, fail
	}
	if c.CertificateChain != "" {
		chainPath := b.cfg.Path(c.CertificateChain)
		chainPEM, err := os.ReadFile(chainPath)
		if err != nil {
			b.file(err, chainPath, 0, p+".certificate_chain", "cannot read the certificate chain: %v", unwrapPath(err))
			return tls.Certificate{}, fail
		}
		chain, err := pki.ReadCertsPEM(chainPath, chainPEM)
		if err != nil {
			b.file(err, chainPath, 0, p+".certificate_chain", "%v", err)
			return tls.Certificate{}, fail
		}
		certs = append(certs, chain...)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		b.file(err, keyPath, 0, p+".private_key", "cannot read the private key: %v", unwrapPath(err))
		return tls.Certificate{}, fail
	}
	key, err := pki.ParseKeyPEM(keyPEM)
	if err != nil {
		b.file(err, keyPath, 0, p+".private_key", "%v", err)
		return tls.Certificate{}, fail
	}
	leaf := certs[0]
	if pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
		b.file(nil, keyPath, 0, p+".private_key", "the private key does not match the certificate in %s", certPath)
		return tls.Certificate{}, fail
	}
	if time.Now().After(leaf.NotAfter) {
		b.snap.Notes = append(b.snap.Notes, fmt.Sprintf("%s: the server certificate expired at %s", certPath, leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range certs {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, nil
}

// devCertificate issues a certificate from the dev CA for localhost, the
// loopback addresses and the listener's address.
func (b *builder) devCertificate(lc *config.Listener, p string) (tls.Certificate, bool) {
	dev := b.snap.DevPKI
	if dev == nil {
		var err error
		if dev, err = pki.EnsureDev(b.opts.DevPKIDir); err != nil {
			b.atErr(err, p, "cannot prepare the dev CA for a listener certificate: %v", err)
			return tls.Certificate{}, false
		}
		b.snap.DevPKI = dev
	}
	var o pki.Options
	o.DNSNames, o.IPs = pki.DevServerNames(lc.Address)
	is, err := dev.Intermediate.IssueServer(o)
	if err != nil {
		b.atErr(err, p, "issuing a dev certificate: %v", err)
		return tls.Certificate{}, false
	}
	return is.TLSCertificate(), true
}

// certARN returns the ARN of a listener certificate, computed when the
// snapshot was built (hashing the certificate per request cost 5% of a
// keep-alive request).
func (s *Snapshot) certARN(der []byte) string {
	if len(der) == 0 {
		return ""
	}
	if a, ok := s.arns[&der[0]]; ok {
		return a
	}
	return certARN(s, der)
}

// certARN names a server certificate as ACM would: a stable id derived
// from the certificate, in the configured region and account.
func certARN(snap *Snapshot, der []byte) string {
	return arn.New(snap.Config.Region, snap.Config.AccountID).Certificate(arn.CertificateID(der))
}
