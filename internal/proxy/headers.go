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
)

// IsMTLSHeader reports whether a target could read the header name k as
// one of the X-Amzn-Mtls-* headers edge adds: CGI and WSGI gateways (and
// the frameworks behind them) turn "X_Amzn_Mtls_Clientcert_Subject",
// "x-amzn-mtls_clientcert-subject" and "X-Amzn-Mtls-Clientcert-Subject"
// into the same HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT, so every spelling
// counts: ASCII case folded, '-' and '_' alike. It does not allocate.
func IsMTLSHeader(k string) bool {
	const prefix = "x_amzn_mtls" // folded: lower case, '-' as '_'
	if len(k) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if cgiFold(k[i]) != prefix[i] {
			return false
		}
	}
	return len(k) == len(prefix) || k[len(prefix)] == '-' || k[len(prefix)] == '_'
}

// SameCGIName reports whether a CGI or WSGI gateway reads header names a
// and b as the same variable (ASCII case folded, '-' and '_' alike): what
// stripping a header a target trusts must compare, e.g. for a renamed
// X-Amzn-Mtls-* header. It does not allocate.
func SameCGIName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if cgiFold(a[i]) != cgiFold(b[i]) {
			return false
		}
	}
	return true
}

// cgiFold folds one byte of a header name as CGI does.
func cgiFold(c byte) byte {
	switch {
	case c == '-':
		return '_'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}

// setHeaders prepares the headers a target receives, as the listener's
// Forwarding says. Strip before add: every client-sent X-Amzn-Mtls-*
// header (and any header under a renamed mTLS/TLS name) goes first, in
// every mode, so a client can never forge its certificate identity
// (httputil has already removed hop-by-hop and X-Forwarded-* headers from
// out).
func setHeaders(out http.Header, in *http.Request, ri *reqinfo.Request, fw *Forwarding) {
	for k := range out {
		if IsMTLSHeader(k) {
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
	// httputil's Rewrite mode drops these; ALB passes them through.
	for _, k := range [...]string{"Forwarded", "X-Forwarded-Host"} {
		if v, ok := in.Header[k]; ok {
			out[k] = v
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

// keepRequestTarget makes out carry the client's request target as sent:
// net/http would re-escape a path it decoded and httputil drops query
// parameters it cannot parse; ALB forwards both unchanged ("The path
// pattern is used to route requests but does not alter them").
func keepRequestTarget(out, in *http.Request) {
	raw := in.RequestURI
	if raw == "" || raw[0] != '/' {
		// Absolute form: net/http keeps the path as sent in RawPath.
		out.URL.RawQuery, out.URL.ForceQuery = in.URL.RawQuery, in.URL.ForceQuery
		return
	}
	path, query, hasQuery := strings.Cut(raw, "?")
	out.URL.RawQuery, out.URL.ForceQuery = query, hasQuery && query == ""
	// An Opaque starting with "//" would be written as scheme://...; such
	// paths keep net/http's (identical unless it re-escapes them) form.
	if path != out.URL.EscapedPath() && !strings.HasPrefix(path, "//") {
		out.URL.Opaque = path
	}
}
