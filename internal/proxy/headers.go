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

// setHeaders prepares the headers a target receives. Strip before add:
// every client-sent header a target could take for an X-Amzn-Mtls-*
// header goes first, in every mode, so a client can never forge its
// certificate identity (httputil has already removed hop-by-hop and
// X-Forwarded-* headers from out). This is edge's choice: ALB's
// documentation does not say whether it strips them.
func setHeaders(out http.Header, in *http.Request, ri *reqinfo.Request) {
	for k := range out {
		if IsMTLSHeader(k) {
			delete(out, k)
		}
	}
	res := ri.Conn
	switch ri.Mode {
	case tlsterm.ModeVerify:
		if leaf := res.Leaf(); leaf != nil {
			out[HeaderClientCertSerial] = []string{certfmt.Serial(leaf)}
			out[HeaderClientCertIssuer] = []string{certfmt.HeaderSafe(certfmt.DN(leaf.RawIssuer))}
			out[HeaderClientCertSubj] = []string{certfmt.HeaderSafe(certfmt.DN(leaf.RawSubject))}
			out[HeaderClientCertValid] = []string{certfmt.Validity(leaf)}
			out[HeaderClientCertLeaf] = []string{certfmt.URLEncodePEM(leaf)}
		}
	case tlsterm.ModePassthrough:
		// The chain as presented, leaf first; none when the client sent
		// no certificate.
		if certs := res.State.PeerCertificates; len(certs) > 0 {
			out[HeaderClientCert] = []string{certfmt.URLEncodePEM(certs...)}
		}
	}
	// httputil's Rewrite mode drops these; ALB passes them through.
	for _, k := range [...]string{"Forwarded", "X-Forwarded-Host"} {
		if v, ok := in.Header[k]; ok {
			out[k] = v
		}
	}
	// X-Forwarded-For: ALB appends the client's address to what it sent.
	ip := res.Remote.Addr().Unmap().String()
	if prior := in.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		ip = strings.Join(prior, ", ") + ", " + ip
	}
	out["X-Forwarded-For"] = []string{ip}
	proto := "http"
	if res.TLS {
		proto = "https"
	}
	out["X-Forwarded-Proto"] = []string{proto}
	out["X-Forwarded-Port"] = []string{strconv.Itoa(ri.ListenerPort)}
	out[HeaderTraceID] = []string{ri.TraceID}
}

// TargetHost returns the Host header ALB sends a target for the client's
// host (the Host header, or the host of an absolute-form request target)
// on a listener port, when routing.http.preserve_host_header.enabled is
// false (ALB's default; "Edit attributes for your Application Load
// Balancer", Host header preservation): on ports 80 and 443 any port is
// removed; on other ports the listener port is appended unless the client
// sent one. An empty host stays empty.
func TargetHost(host string, listenerPort int) string {
	if host == "" {
		return host
	}
	name, hasPort := host, false
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		name, hasPort = host[:i], true
	}
	switch {
	case listenerPort == 80 || listenerPort == 443:
		return name
	case hasPort:
		return host
	default:
		return host + ":" + strconv.Itoa(listenerPort)
	}
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
