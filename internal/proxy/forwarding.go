package proxy

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"edge/internal/attributes"
	"edge/internal/tlsterm"
)

// Forwarding is how one listener rewrites requests it forwards and the
// responses it sends, from the load balancer and listener attributes. It
// is built once per snapshot, so a request only reads it: header names and
// values are prepared here, not per request.
type Forwarding struct {
	names attributes.RequestHeaders
	// strip holds the canonical forms of renamed headers: a client's own
	// copy never reaches the target, as with X-Amzn-Mtls-*.
	strip []string

	tlsHeaders, xffClientPort, preserveHost, dropInvalid bool
	xff                                                  attributes.XFFMode

	// Responses.
	respond      bool // anything below to do
	serverHeader bool
	respHeaders  []respHeader
}

type respHeader struct {
	name  string
	value []string // shared by every response; net/http only reads it
	size  int64    // "Name: value\r\n"
}

// NewForwarding prepares a listener's rewriting.
func NewForwarding(lb attributes.LoadBalancerValues, l attributes.ListenerValues) *Forwarding {
	f := &Forwarding{
		names: l.Names, tlsHeaders: lb.TLSHeaders, xff: lb.XFFMode, xffClientPort: lb.XFFClientPort,
		preserveHost: lb.PreserveHostHeader, dropInvalid: lb.DropInvalidHeaderFields, serverHeader: l.ServerHeader,
	}
	for _, n := range l.Renamed {
		f.strip = append(f.strip, http.CanonicalHeaderKey(n))
	}
	for _, h := range l.ResponseHeaders {
		f.respHeaders = append(f.respHeaders, respHeader{name: http.CanonicalHeaderKey(h.Name), value: []string{h.Value}, size: int64(len(h.Name) + 2 + len(h.Value) + 2)})
	}
	f.respond = len(f.respHeaders) > 0 || !f.serverHeader
	return f
}

// defaultForwarding is ALB's behaviour with every attribute at its default.
var defaultForwarding = NewForwarding(
	attributes.MustResolve(attributes.LoadBalancer, "", nil).LoadBalancer(),
	attributes.MustResolve(attributes.Listener, "HTTPS", nil).Listener())

// RewritesResponses reports whether RewriteResponse has anything to do.
func (f *Forwarding) RewritesResponses() bool { return f != nil && f.respond }

// RewriteResponse applies the listener's response attributes to a final
// response's header before it is written: the response-header values
// replace the target's or are added, and with the Server header disabled a
// response edge generated (generated: no target answered) loses
// "Server: awselb/2.0". It returns how many bytes the header block grew
// (negative when it shrank), as HTTP/1.1 would write it.
func (f *Forwarding) RewriteResponse(h http.Header, generated bool) (delta int64) {
	if !f.serverHeader && generated {
		for _, v := range h["Server"] {
			delta -= int64(len("Server: \r\n") + len(v))
		}
		delete(h, "Server")
	}
	for _, rh := range f.respHeaders {
		for _, v := range h[rh.name] {
			delta -= int64(len(rh.name) + 4 + len(v))
		}
		h[rh.name] = rh.value
		delta += rh.size
	}
	return delta
}

// targetHost is the Host a target receives (ALB guide, "Host header
// preservation"): with preserve, the client's; otherwise ALB appends the
// listener port to a Host without one, and on ports 80 and 443 removes a
// port the client gave.
func targetHost(host string, port int, preserve bool) string {
	if preserve || host == "" {
		return host
	}
	name, hasPort := splitPort(host)
	switch {
	case port == 80 || port == 443:
		return name
	case hasPort:
		return host
	}
	return host + ":" + strconv.Itoa(port)
}

// splitPort returns host without its port and whether it had one; "[::1]"
// and a bare IPv6 address have none.
func splitPort(host string) (string, bool) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || i < strings.LastIndexByte(host, ']') || host[0] != '[' && strings.IndexByte(host, ':') != i {
		return host, false
	}
	return host[:i], true
}

// dropInvalidFields removes request header fields whose names do not
// match ^[-A-Za-z0-9]+$ (ALB: "Elastic Load Balancing requires that
// message header names conform to the regular expression [-A-Za-z0-9]+").
func dropInvalidFields(h http.Header) {
	for k := range h {
		for i := 0; i < len(k); i++ {
			if c := k[i]; !(c == '-' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
				delete(h, k)
				break
			}
		}
	}
}

// forwardedFor sets X-Forwarded-For by routing.http.xff_header_processing.mode.
func (f *Forwarding) forwardedFor(out http.Header, in *http.Request, remote netip.AddrPort) {
	prior := in.Header["X-Forwarded-For"]
	switch f.xff {
	case attributes.XFFRemove:
		return
	case attributes.XFFPreserve:
		if len(prior) > 0 {
			out["X-Forwarded-For"] = prior
		}
		return
	}
	// Append: the client's address, with its port when asked
	// (IPv6 then in brackets), after what the client sent.
	addr := remote.Addr().Unmap()
	ip := addr.String()
	if f.xffClientPort {
		ip = netip.AddrPortFrom(addr, remote.Port()).String()
	}
	if len(prior) > 0 {
		ip = strings.Join(prior, ", ") + ", " + ip
	}
	out["X-Forwarded-For"] = []string{ip}
}

// setTLSHeaders adds X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite (OpenSSL
// names) when routing.http.x_amzn_tls_version_and_cipher_suite.enabled.
func (f *Forwarding) setTLSHeaders(out http.Header, res *tlsterm.Result) {
	if !f.tlsHeaders || !res.TLS {
		return
	}
	out[f.names.TLSVersion] = []string{tlsterm.VersionName(res.State.Version)}
	out[f.names.TLSCipherSuite] = []string{tlsterm.CipherName(res.State.CipherSuite)}
}
