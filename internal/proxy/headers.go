package proxy

import (
	"net/http"
	"strconv"
	"strings"

	"edge/internal/certfmt"
	"edge/internal/reqinfo"
	"edge/internal/tlsterm"
)

// The headers ALB adds for targets in the two mTLS modes.
const (
	HeaderClientCert       = "X-Amzn-Mtls-Clientcert"
	HeaderClientCertSerial = "X-Amzn-Mtls-Clientcert-Serial-Number"
	HeaderClientCertIssuer = "X-Amzn-Mtls-Clientcert-Issuer"
	HeaderClientCertSubj   = "X-Amzn-Mtls-Clientcert-Subject"
	HeaderClientCertValid  = "X-Amzn-Mtls-Clientcert-Validity"
	HeaderClientCertLeaf   = "X-Amzn-Mtls-Clientcert-Leaf"
	HeaderTraceID          = "X-Amzn-Trace-Id"
	mtlsPrefix             = "X-Amzn-Mtls-"
)

// setHeaders prepares the headers a target receives, as the listener's
// Forwarding says. Strip before add: every client-sent X-Amzn-Mtls-*
// header (and any header under a renamed mTLS/TLS name) goes first, in
// every mode, so a client can never forge its certificate identity
// (httputil has already removed hop-by-hop and X-Forwarded-* headers from
// out).
func setHeaders(out http.Header, in *http.Request, ri *reqinfo.Request, fw *Forwarding) {
	for k := range out {
		if strings.HasPrefix(k, mtlsPrefix) || strings.HasPrefix(http.CanonicalHeaderKey(k), mtlsPrefix) {
			delete(out, k)
		}
	}
	for _, k := range fw.strip {
		delete(out, k)
	}
	if fw.dropInvalid {
		dropInvalidFields(out)
	}
	res := ri.Conn
	n := &fw.names
	switch ri.Mode {
	case tlsterm.ModeVerify:
		if leaf := res.Leaf(); leaf != nil {
			out[n.ClientCertSerialNumber] = []string{certfmt.Serial(leaf)}
			out[n.ClientCertIssuer] = []string{certfmt.HeaderSafe(certfmt.DN(leaf.RawIssuer))}
			out[n.ClientCertSubject] = []string{certfmt.HeaderSafe(certfmt.DN(leaf.RawSubject))}
			out[n.ClientCertValidity] = []string{certfmt.Validity(leaf)}
			out[n.ClientCertLeaf] = []string{certfmt.URLEncodePEM(leaf)}
		}
	case tlsterm.ModePassthrough:
		// The chain as presented, leaf first; none when the client sent
		// no certificate.
		if certs := res.State.PeerCertificates; len(certs) > 0 {
			out[n.ClientCert] = []string{certfmt.URLEncodePEM(certs...)}
		}
	}
	fw.setTLSHeaders(out, res)
	fw.forwardedFor(out, in, res.Remote)
	proto := "http"
	if res.TLS {
		proto = "https"
	}
	out["X-Forwarded-Proto"] = []string{proto}
	out["X-Forwarded-Port"] = []string{strconv.Itoa(ri.ListenerPort)}
	out[HeaderTraceID] = []string{ri.TraceID}
}
