package tlsterm

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// Certificates chooses a listener's server certificate the way ALB does:
// the first certificate is the default, used when the client sends no SNI
// or an SNI that no certificate covers; other certificates are chosen by
// SNI, exact names before wildcards. Matching is certmagic's, so edge
// agrees with Caddy on what "*.example.com" covers.
type Certificates struct {
	cache *certmagic.Cache
	cm    *certmagic.Config
	def   *tls.Certificate
	all   []*tls.Certificate
	stop  sync.Once
}

// NewCertificates indexes certs; certs[0] is the default. Close releases
// the index's maintenance goroutine.
func NewCertificates(certs []tls.Certificate) (*Certificates, error) {
	if len(certs) == 0 {
		return nil, errors.New("a listener needs at least one certificate")
	}
	c := &Certificates{}
	c.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return c.cm, nil },
		Logger:           zap.NewNop(),
	})
	c.cm = certmagic.New(c.cache, certmagic.Config{
		Logger: zap.NewNop(),
		// edge is offline: never fetch OCSP responses for stapling.
		OCSP: certmagic.OCSPConfig{DisableStapling: true},
		// Unmanaged certificates never touch storage; name a private
		// directory anyway so certmagic never defaults to the home dir.
		Storage: &certmagic.FileStorage{Path: filepath.Join(os.TempDir(), "edge-certmagic")},
	})
	for i := range certs {
		tc := certs[i]
		if _, err := c.cm.CacheUnmanagedTLSCertificate(context.Background(), tc, nil); err != nil {
			c.Close()
			return nil, err
		}
		c.all = append(c.all, &tc)
	}
	c.def = c.all[0]
	return c, nil
}

// GetCertificate has the tls.Config.GetCertificate signature. When the
// connection is a *Conn it records the choice in its Result.
func (c *Certificates) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	cert, matched := c.choose(hello)
	if conn, ok := hello.Conn.(*Conn); ok {
		conn.Result.ServerCert, conn.Result.SNIMatched = cert, matched
	}
	return cert, nil
}

// choose returns the certificate for hello and whether the client's SNI
// selected it (false when the default was used).
func (c *Certificates) choose(hello *tls.ClientHelloInfo) (*tls.Certificate, bool) {
	if hello.ServerName == "" {
		return c.def, false
	}
	if lower := strings.ToLower(hello.ServerName); lower != hello.ServerName {
		// Host names compare without case (RFC 4343), as crypto/tls's own
		// certificate choice does; certmagic's index is lower case.
		h := *hello
		h.ServerName = lower
		hello = &h
	}
	cert, err := c.cm.GetCertificate(hello)
	if err != nil || cert == nil || cert.Certificate == nil {
		return c.def, false
	}
	return cert, true
}

// All returns the certificates in configuration order; All()[0] is the
// default.
func (c *Certificates) All() []*tls.Certificate {
	if c == nil {
		return nil
	}
	return c.all
}

// Default returns the default certificate.
func (c *Certificates) Default() *tls.Certificate { return c.def }

// Close stops the certificate cache; closing again does nothing.
func (c *Certificates) Close() {
	c.stop.Do(func() {
		if c.cache != nil {
			c.cache.Stop()
		}
	})
}
