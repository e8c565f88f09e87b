package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"edge/internal/truststore"
)

// Mode is a listener's mutual-authentication mode.
type Mode uint8

// The modes of ALB's MutualAuthenticationAttributes.
const (
	// ModeOff requests no client certificate.
	ModeOff Mode = iota
	// ModePassthrough requests a certificate but does not verify it; the
	// chain goes to targets as presented.
	ModePassthrough
	// ModeVerify requires a certificate that verifies against the trust
	// store; any failure ends the handshake.
	ModeVerify
)

func (m Mode) String() string {
	switch m {
	case ModePassthrough:
		return "passthrough"
	case ModeVerify:
		return "verify"
	}
	return "off"
}

// ParseMode parses "off", "passthrough" or "verify"; empty means off.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "off":
		return ModeOff, nil
	case "passthrough":
		return ModePassthrough, nil
	case "verify":
		return ModeVerify, nil
	}
	return ModeOff, fmt.Errorf("unknown mutual authentication mode %q (want off, passthrough or verify)", s)
}

// Rejection is how a verify-mode listener ends a handshake in which it
// refuses the client (any failure after it has asked for the client's
// certificate: no certificate, a failed verdict, a bad signature).
type Rejection uint8

const (
	// RejectReset sends no TLS alert: edge reads what the client still
	// sends until it falls silent for 100 ms (at most 1 s), then resets
	// the connection (TCP RST). Clients report a reset
	// (Firefox PR_CONNECT_RESET_ERROR, curl "Connection reset by peer"),
	// as seen at ALB and API Gateway. The default.
	RejectReset Rejection = iota
	// RejectAlert sends the alert crypto/tls chose (certificate_required,
	// handshake_failure, bad_certificate, ...), then closes gracefully:
	// FIN, then edge reads until the client closes, falls silent for
	// 100 ms or 1 s passes, so the client can read the alert.
	RejectAlert
)

func (r Rejection) String() string {
	if r == RejectAlert {
		return "alert"
	}
	return "reset"
}

// ParseRejection parses "reset" or "alert"; empty means reset.
func ParseRejection(s string) (Rejection, error) {
	switch s {
	case "", "reset":
		return RejectReset, nil
	case "alert":
		return RejectAlert, nil
	}
	return RejectReset, fmt.Errorf("unknown TLS rejection %q (want reset or alert)", s)
}

// Termination is everything a listener needs to terminate TLS. It is
// immutable once Config has been called.
type Termination struct {
	Policy       Policy
	Certificates *Certificates
	Mode         Mode
	// TrustStore is required in ModeVerify and ignored otherwise.
	TrustStore *truststore.Store
	// IgnoreExpiry is ignore_client_certificate_expiry.
	IgnoreExpiry bool
	// AdvertiseCANames sends the trust store's CA subjects in the
	// CertificateRequest (advertise_trust_store_ca_names: on).
	AdvertiseCANames bool
	// Rejection is how a refused client's handshake ends (verify mode).
	Rejection Rejection
	// Now returns the verification time; nil means time.Now. Tests pin it.
	Now func() time.Time
}

// Config builds the tls.Config for the listener.
func (t *Termination) Config() (*tls.Config, error) {
	if t.Certificates == nil {
		return nil, errors.New("no server certificate")
	}
	cfg := &tls.Config{
		MinVersion:       t.Policy.MinVersion,
		MaxVersion:       t.Policy.MaxVersion,
		CipherSuites:     t.Policy.CipherSuites,
		CurvePreferences: t.Policy.Curves,
		GetCertificate:   t.Certificates.GetCertificate,
		NextProtos:       []string{"h2", "http/1.1"},
	}
	if t.Now != nil {
		cfg.Time = t.Now
	}
	switch t.Mode {
	case ModeOff:
		cfg.ClientAuth = tls.NoClientCert
	case ModePassthrough:
		cfg.ClientAuth = tls.RequestClientCert
		// ALB does not support session resumption in passthrough or
		// verify mode.
		cfg.SessionTicketsDisabled = true
	case ModeVerify:
		if t.TrustStore == nil {
			return nil, errors.New("verify mode needs a trust store")
		}
		// RequireAnyClientCert makes Go send certificate_required to a
		// client without a certificate, but leaves verification to edge:
		// Go's own verification cannot waive expiry and its errors are
		// coarser than ALB's statuses. With resumption disabled,
		// VerifyConnection runs on every connection.
		cfg.ClientAuth = tls.RequireAnyClientCert
		cfg.SessionTicketsDisabled = true
		cfg.VerifyConnection = t.verifyConnection
		// Mark the connection so that what crypto/tls writes after it
		// asked for the client's certificate is held until the
		// handshake's outcome is known (see Conn.Write).
		cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c, ok := hello.Conn.(*Conn); ok {
				c.armRefusal(t.Rejection)
			}
			return t.Certificates.GetCertificate(hello)
		}
		if t.AdvertiseCANames {
			// With ClientAuth below VerifyClientCertIfGiven Go uses
			// ClientCAs only for the certificate_authorities list.
			cfg.ClientCAs = t.TrustStore.Pool()
		}
	}
	return cfg, nil
}

func (t *Termination) verifyConnection(cs tls.ConnectionState) error {
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	v := t.TrustStore.Verify(cs.PeerCertificates, truststore.VerifyOptions{Now: now, IgnoreExpiry: t.IgnoreExpiry})
	if v.Status != truststore.Success {
		return &VerdictError{Verdict: v}
	}
	return nil
}

// VerdictError ends a handshake whose client chain failed verification.
type VerdictError struct {
	Verdict truststore.Verdict
}

func (e *VerdictError) Error() string {
	return e.Verdict.Status.String() + ": " + e.Verdict.Detail
}

// Classify returns the tls_verify_status for a handshake that ended with
// err (nil means Success).
func Classify(err error) truststore.Status {
	if err == nil {
		return truststore.Success
	}
	if ve, ok := errors.AsType[*VerdictError](err); ok {
		return ve.Verdict.Status
	}
	// Go rejects a few client certificates before VerifyConnection runs
	// (crypto/tls processCertsFromClient) and reports them only as text;
	// these prefixes are the messages of Go 1.26. Everything else is a
	// protocol-level failure.
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "tls: failed to parse client certificate"):
		return truststore.ClientCertInvalid
	case strings.HasPrefix(msg, "tls: client sent certificate containing RSA key larger"),
		strings.HasPrefix(msg, "tls: client certificate contains an unsupported public key"):
		return truststore.ClientCertTypeUnsupported
	}
	return truststore.UnmappedConnectionError
}

// leafOf returns the leaf a client presented, if any.
func leafOf(cs *tls.ConnectionState) *x509.Certificate {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	return cs.PeerCertificates[0]
}
