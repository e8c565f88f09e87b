package server

import (
	"crypto/tls"
	"net"
	"net/http"

	"edge/internal/idle"
	"edge/internal/tlsterm"
)

// The idle timeout (idle_timeout.timeout_seconds) and the header timeout
// (client_header_timeout_seconds) of served connections are enforced by an
// idle.Watchdog: this file feeds it what net/http reports of each
// connection (http.Server.ConnState). HTTP/2 requests are watched per
// stream (serveLogged).

// rawConn returns the tlsterm.Conn under c (a clientConn, a *tls.Conn or
// the raw connection of a plain HTTP listener), or nil, and the
// clientConn.
func rawConn(c net.Conn) (*tlsterm.Conn, *clientConn) {
	if cc := clientOf(c); cc != nil {
		return cc.raw, cc
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	ec, _ := c.(*tlsterm.Conn)
	return ec, nil
}

// connState is the http.Server.ConnState hook's part for the timeouts of
// connections accepted on so (its listener's load balancer's).
func (s *Server) connState(so *socket, c net.Conn, st http.ConnState) {
	ec, cc := rawConn(c)
	if ec == nil {
		return
	}
	w := s.watch
	switch st {
	case http.StateNew:
		// Until its first request, a connection is waiting for headers.
		ec.Activity.Set(idle.Headers, w.Now())
		if cc != nil {
			// HTTP/1: the request's progress is the connection's.
			cc.watch.Activity, cc.watch.Conn, cc.watch.Progress, cc.watch.Limits = &ec.Activity, c, &cc.progress, so.limits
			w.Add(&cc.watch)
		} else {
			w.Add(&idle.Conn{Activity: &ec.Activity, Conn: c, Limits: so.limits})
		}
	case http.StateActive:
		// HTTP/1: a request's headers were read and its handler runs
		// next. HTTP/2: a stream opened.
		ec.Activity.Set(idle.Busy, w.Now())
	case http.StateIdle:
		if cc != nil {
			if cc.watch.Stalled() {
				// Its body stalled: net/http would keep it for another
				// request, with the body's rest still to come.
				c.Close()
				return
			}
			// net/http has finished the response (and stopped reading):
			// the next head is counted from zero.
			cc.headBytes, cc.lineDone = 0, false
			cc.inHandler.Store(false)
		}
		ec.Activity.Set(idle.Idle, w.Now())
	case http.StateClosed, http.StateHijacked:
		w.Remove(&ec.Activity)
	}
}
