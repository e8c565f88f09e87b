package server

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"edge/internal/logfmt"
	"edge/internal/reqinfo"
	"edge/internal/route"
	"edge/internal/tlsterm"
)

// maxForwardedFor is ALB's limit on the addresses of a request's
// X-Forwarded-For ("The upper limit for IP addresses is 30"; more is
// HTTP 463).
const maxForwardedFor = 30

// refusal returns ALB's status for a parsed request it refuses before
// routing, or 0. head is the request line and headers in bytes and xff
// whether it has an X-Forwarded-For header (requestSize): the size checks
// run only past 16 KiB, so an ordinary request pays for a few comparisons.
//
// Order, where ALB documents none: the size limits (a request ALB cannot
// hold), then the request target, then the method and X-Forwarded-For.
func refusal(r *http.Request, head int64, xff bool) int {
	if head > maxRequestLine {
		if len(r.Method)+1+len(r.RequestURI)+1+len(r.Proto) > maxRequestLine {
			return http.StatusRequestURITooLong
		}
		if head > maxRequestHead {
			return http.StatusBadRequest
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if len(k)+2+len(v) > maxHeaderField {
					return http.StatusBadRequest
				}
			}
		}
	}
	// The asterisk form (OPTIONS *) has no path for the rules and nothing a
	// target could serve; nginx, whose error pages ALB serves, answers it
	// with 400.
	if r.RequestURI == "*" || r.URL.Path == "*" {
		return http.StatusBadRequest
	}
	if p := r.URL.Path; strings.Contains(p, "/..") {
		if _, above := route.NormalizePath(p); above {
			return http.StatusBadRequest
		}
	}
	if r.Method == http.MethodTrace {
		return http.StatusMethodNotAllowed
	}
	if xff && forwardedFor(r.Header["X-Forwarded-For"]) > maxForwardedFor {
		return 463
	}
	return 0
}

// forwardedFor counts the addresses of X-Forwarded-For header lines.
func forwardedFor(values []string) int {
	n := 0
	for _, v := range values {
		for _, a := range strings.Split(v, ",") {
			if strings.TrimSpace(a) != "" {
				n++
			}
		}
	}
	return n
}

// logRefused writes the access-log line of a request refused before
// net/http could read it, as ALB logs a malformed request: no target, -1
// processing times, 0 received bytes, the request line
// "- https://<address>:<port>- -" (ALB writes its own DNS name where edge
// writes the address the client connected to), priority and actions "-".
func (s *Server) logRefused(c *clientConn, status int, sent int64) {
	bd := c.binding()
	snap, l := bd.snap, bd.l
	res := &tlsterm.Result{}
	if c.raw != nil {
		res = c.raw.Result
	}
	now := time.Now()
	rec := logfmt.AccessRecord{
		Time:                now,
		ELB:                 l.LoadBalancer.ELB,
		Client:              res.Remote,
		RequestProcessing:   -1,
		TargetProcessing:    -1,
		ResponseProcessing:  -1,
		ELBStatus:           status,
		SentBytes:           sent,
		MatchedRulePriority: reqinfo.NoRule,
		RequestCreation:     now,
		ConnTraceID:         res.TraceID,
		Type:                "http",
	}
	scheme := "http"
	if res.TLS {
		rec.Type, scheme = "https", "https"
		tlsFields(&rec, res, snap)
	}
	rec.RequestLine = "- " + scheme + "://" + netip.AddrPortFrom(res.Local.Addr().Unmap(), uint16(c.so.port)).String() + "- -"
	s.metrics.Response(l.Index, true, status, 0, "", sent)
	bp := s.bufs.Get().(*[]byte)
	*bp = logfmt.AppendAccess((*bp)[:0], &rec)
	bd.log.cur.Load().access.Write(*bp)
	s.bufs.Put(bp)
}
