package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"edge/internal/logfmt"
	"edge/internal/proxy"
	"edge/internal/reqinfo"
	"edge/internal/tlsterm"
)

type connKey struct{}

// connContext attaches the connection's handshake Result to every request
// context of that connection (http.Server.ConnContext).
func connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	if ec, ok := c.(*tlsterm.Conn); ok {
		return context.WithValue(ctx, connKey{}, ec.Result)
	}
	return ctx
}

// serveLogged runs a listener's router for one request: it creates the
// request's reqinfo, counts bytes both ways and writes one access-log line
// when the response is done.
func (s *Server) serveLogged(snap *Snapshot, l *Listener, port int, next http.Handler, w http.ResponseWriter, r *http.Request) {
	mode := tlsterm.ModeOff
	if l.Term != nil {
		mode = l.Term.Mode
	}
	res, _ := r.Context().Value(connKey{}).(*tlsterm.Result)
	if res == nil {
		res = &tlsterm.Result{}
	}
	// One allocation for the request's state, its counters and its
	// context.
	st := &requestState{}
	st.ri = reqinfo.Request{Conn: res, ListenerPort: port, Mode: mode, Received: time.Now()}
	st.body.ReadCloser = r.Body
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &st.body
	}
	st.cw.ResponseWriter, st.cw.ri, st.cw.fw = w, &st.ri, l.Forwarding
	if ka := snap.keepAlive; ka > 0 && !res.Start.IsZero() && st.ri.Received.Sub(res.Start) > ka {
		// client_keep_alive.seconds: ALB answers one more request and
		// closes (HTTP/1.1: Connection: close; h2: net/http turns the
		// header into GOAWAY).
		w.Header()["Connection"] = connectionClose
	}
	// Handlers find st.ri through the writer (reqinfo.Of): a request
	// copy with a new context would cost an allocation per request.
	next.ServeHTTP(&st.cw, r)
	s.writeAccess(snap, l, r, &st.ri, &st.cw, st.body.n, port)
}

func (s *Server) writeAccess(snap *Snapshot, l *Listener, r *http.Request, ri *reqinfo.Request, cw *countingWriter, bodyIn int64, port int) {
	end := time.Now()
	res := ri.Conn
	rec := logfmt.AccessRecord{
		Time:                end,
		ELB:                 snap.ELB,
		Client:              res.Remote,
		Target:              ri.Target,
		RequestProcessing:   -1,
		TargetProcessing:    -1,
		ResponseProcessing:  -1,
		ELBStatus:           cw.status,
		TargetStatus:        ri.TargetStatus,
		ReceivedBytes:       requestSize(r) + bodyIn,
		SentBytes:           cw.headerBytes + cw.n,
		UserAgent:           r.UserAgent(),
		TargetGroupARN:      ri.TargetGroupARN,
		TraceID:             ri.TraceID,
		MatchedRulePriority: ri.Priority,
		RequestCreation:     ri.Received,
		ActionsExecuted:     ri.Actions,
		RedirectURL:         ri.RedirectURL,
		ErrorReason:         ri.ErrorReason,
		ConnTraceID:         res.TraceID,
	}
	if rec.ELBStatus == 0 {
		// An upgraded connection is hijacked: ReverseProxy writes the 101
		// itself, past this writer.
		rec.ELBStatus = http.StatusOK
		if ri.TargetStatus == http.StatusSwitchingProtocols {
			rec.ELBStatus = http.StatusSwitchingProtocols
		}
	}
	websocket := rec.ELBStatus == http.StatusSwitchingProtocols
	scheme := "http"
	switch {
	case res.TLS && websocket:
		rec.Type = "wss"
	case res.TLS && r.ProtoMajor == 2:
		rec.Type = "h2"
	case res.TLS:
		rec.Type = "https"
	case websocket:
		rec.Type = "ws"
	default:
		rec.Type = "http"
	}
	if res.TLS {
		scheme = "https"
		rec.Cipher = tlsterm.CipherName(res.State.CipherSuite)
		rec.Protocol = tlsterm.VersionName(res.State.Version)
		if res.SNIMatched {
			rec.DomainName = res.State.ServerName
		}
		if res.ServerCert != nil && len(res.ServerCert.Certificate) > 0 {
			rec.ChosenCertARN = snap.certARN(res.ServerCert.Certificate[0])
		}
	}
	if !ri.Dispatched.IsZero() {
		rec.RequestProcessing = ri.Dispatched.Sub(ri.Received)
		if !ri.Responded.IsZero() {
			rec.TargetProcessing = ri.Responded.Sub(ri.Dispatched)
			if !cw.wroteAt.IsZero() {
				rec.ResponseProcessing = max(cw.wroteAt.Sub(ri.Responded), 0)
			} else {
				rec.ResponseProcessing = 0
			}
		}
	}
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' { // h2 and absolute-form requests
		uri = r.URL.RequestURI()
	}
	rec.Method, rec.Scheme, rec.Host, rec.Port, rec.URI, rec.Proto = r.Method, scheme, host, port, uri, r.Proto
	elbGenerated := ri.TargetStatus == 0 || ri.Actions != "forward"
	s.metrics.Response(l.Index, elbGenerated, rec.ELBStatus, ri.TargetStatus, ri.Actions, rec.ReceivedBytes+rec.SentBytes)
	if !ri.Responded.IsZero() {
		s.metrics.TargetResponseTime.Observe(ri.Responded.Sub(ri.Dispatched).Seconds())
	} else if !ri.Dispatched.IsZero() && rec.ELBStatus >= 502 {
		s.metrics.TargetConnectionErrors.Inc()
	}
	s.observeRequest(&rec)
	bp := s.bufs.Get().(*[]byte)
	*bp = logfmt.AppendAccess((*bp)[:0], &rec)
	s.logs.Load().access.Write(*bp)
	s.bufs.Put(bp)
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
	sum := sha256.Sum256(der)
	h := hex.EncodeToString(sum[:16])
	cfg := snap.Config
	return "arn:aws:acm:" + cfg.Region + ":" + cfg.AccountID + ":certificate/" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// requestSize approximates the request line and headers on the wire.
func requestSize(r *http.Request) int64 {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n + 2)
}

type requestState struct {
	ri   reqinfo.Request
	body countingBody
	cw   countingWriter
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// countingWriter records the status, when headers were written and how
// many bytes went out. Unwrap lets http.ResponseController reach Flush and
// Hijack (streaming, WebSocket upgrades).
type countingWriter struct {
	http.ResponseWriter
	ri          *reqinfo.Request
	fw          *proxy.Forwarding // the listener's response attributes
	status      int
	wroteAt     time.Time
	headerBytes int64
	n           int64
}

var connectionClose = []string{"close"}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 && code >= 200 {
		if code >= 200 && w.fw.RewritesResponses() {
			delta := w.fw.RewriteResponse(w.Header(), w.ri.TargetStatus == 0)
			if w.ri.HeaderBytes > 0 {
				w.ri.HeaderBytes += delta
			}
		}
		w.status = code
		if !w.ri.Responded.IsZero() { // only a target's response has a response_processing_time
			w.wroteAt = time.Now()
		}
		if w.ri.HeaderBytes > 0 {
			w.headerBytes = w.ri.HeaderBytes
		} else {
			n := len("HTTP/1.1 200 OK\r\n") + 2
			for k, vs := range w.Header() {
				for _, v := range vs {
					n += len(k) + 2 + len(v) + 2
				}
			}
			w.headerBytes = int64(n)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) ReqInfo() *reqinfo.Request { return w.ri }

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *countingWriter) Flush() {
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack is reached by ReverseProxy's upgrade handling through Unwrap;
// this method keeps older callers working too.
func (w *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
