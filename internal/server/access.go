package server

import (
	"context"
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

// connValue is what a connection's requests find in their context.
type connValue struct {
	res    *tlsterm.Result
	client *clientConn // nil for HTTP/2
}

// connContext attaches the connection's handshake Result (and, for
// HTTP/1, its clientConn) to every request context of that connection
// (http.Server.ConnContext).
func connContext(ctx context.Context, c net.Conn) context.Context {
	v := &connValue{client: clientOf(c)}
	if v.client != nil {
		if v.client.raw != nil {
			v.res = v.client.raw.Result
		}
		return context.WithValue(ctx, connKey{}, v)
	}
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	if ec, ok := c.(*tlsterm.Conn); ok {
		v.res = ec.Result
		return context.WithValue(ctx, connKey{}, v)
	}
	return ctx
}

// serveLogged runs a listener's router for one request: it creates the
// request's reqinfo, counts bytes both ways and writes one access-log line
// when the response is done.
func (s *Server) serveLogged(bd *binding, so *socket, w http.ResponseWriter, r *http.Request) {
	l, port := bd.l, so.port
	mode := tlsterm.ModeOff
	if l.Term != nil {
		mode = l.Term.Mode
	}
	cv, _ := r.Context().Value(connKey{}).(*connValue)
	res := noResult
	if cv != nil && cv.res != nil {
		res = cv.res
	}
	// One allocation for the request's state, its counters and its
	// context.
	st := &requestState{}
	st.ri = reqinfo.Request{Conn: res, ListenerPort: port, Mode: mode, Received: time.Now()}
	switch {
	case cv != nil && cv.client != nil:
		// HTTP/1: the connection's reads and writes are the progress;
		// the response is edge's until net/http has finished it (the
		// ConnState hook clears this at StateIdle).
		cv.client.inHandler.Store(true)
		st.ri.Progress = &cv.client.progress
	case r.ProtoMajor == 2 && cv != nil:
		// HTTP/2: the stream's reads and writes, watched per stream (an
		// allocation HTTP/1 requests do not pay).
		sm := s.watch.AddStream(w, so.limits)
		st.ri.Progress = &sm.Progress
		st.cw.count = &sm.Progress
		defer s.watch.RemoveStream(sm)
	}
	st.body.ReadCloser, st.body.ri = r.Body, &st.ri
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &st.body
	}
	st.cw.ResponseWriter, st.cw.ri, st.cw.fw = w, &st.ri, l.Forwarding
	head, xff := requestSize(r)
	logged := false
	defer func() {
		// A forward whose client went away mid-response aborts the
		// handler (http.ErrAbortHandler); it still gets its line.
		if !logged {
			s.writeAccess(bd, r, &st.ri, &st.cw, head+st.body.n, port)
		}
	}()
	if status := refusal(r, head, xff); status != 0 {
		st.ri.Priority = reqinfo.NoRule
		if status == http.StatusBadRequest || status == http.StatusRequestURITooLong {
			st.cw.Header()["Connection"] = connectionClose // HTTP/2 drops it
		}
		proxy.WriteError(&st.cw, r, status)
	} else {
		if ka := l.LoadBalancer.keepAlive; ka > 0 && !res.Start.IsZero() && st.ri.Received.Sub(res.Start) > ka {
			// client_keep_alive.seconds: ALB answers one more request and
			// closes (HTTP/1.1: Connection: close; h2: net/http turns the
			// header into GOAWAY).
			w.Header()["Connection"] = connectionClose
		}
		// Handlers find st.ri through the writer (reqinfo.Of): a request
		// copy with a new context would cost an allocation per request.
		l.Handler.ServeHTTP(&st.cw, r)
	}
	logged = true
	s.writeAccess(bd, r, &st.ri, &st.cw, head+st.body.n, port)
}

// noResult stands for the handshake of a connection edge did not accept
// itself (handler tests).
var noResult = &tlsterm.Result{}

// tlsFields fills the access record's TLS fields from the handshake.
func tlsFields(rec *logfmt.AccessRecord, res *tlsterm.Result, snap *Snapshot) {
	rec.Cipher = tlsterm.CipherName(res.State.CipherSuite)
	rec.Protocol = tlsterm.VersionName(res.State.Version)
	if res.SNIMatched {
		rec.DomainName = res.State.ServerName
	}
	if res.ServerCert != nil && len(res.ServerCert.Certificate) > 0 {
		rec.ChosenCertARN = snap.certARN(res.ServerCert.Certificate[0])
	}
}

func (s *Server) writeAccess(bd *binding, r *http.Request, ri *reqinfo.Request, cw *countingWriter, received int64, port int) {
	end := time.Now()
	res := ri.Conn
	l := bd.l
	rec := logfmt.AccessRecord{
		Time:                end,
		ELB:                 l.LoadBalancer.ELB,
		Client:              res.Remote,
		Target:              ri.Target,
		RequestProcessing:   -1,
		TargetProcessing:    -1,
		ResponseProcessing:  -1,
		ELBStatus:           cw.status,
		TargetStatus:        ri.TargetStatus,
		ReceivedBytes:       received,
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
		tlsFields(&rec, res, bd.snap)
	}
	if !ri.Dispatched.IsZero() {
		rec.RequestProcessing = ri.Dispatched.Sub(ri.Received)
		if !ri.Responded.IsZero() {
			rec.TargetProcessing = ri.Responded.Sub(ri.Dispatched)
			rec.ResponseProcessing = cw.responseProcessing
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
	bd.log.cur.Load().access.Write(*bp)
	s.bufs.Put(bp)
}
