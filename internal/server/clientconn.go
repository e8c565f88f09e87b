package server

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"edge/internal/idle"
	"edge/internal/proxy"
	"edge/internal/tlsterm"
)

// ALB's request limits (troubleshooting guide, HTTP 400 and 414): "16 K
// per request line, 16 K per single header, or 64 K for the entire request
// header".
const (
	maxRequestLine = 16 << 10
	maxHeaderField = 16 << 10
	maxRequestHead = 64 << 10
	// headSlack allows for the body bytes net/http's 4 KiB reads may take
	// in with a request head; heads just over 64 KiB are refused once
	// parsed, with their request line in the log.
	headSlack = 4 << 10
	// maxHeaderBytes is net/http's own limit. It sits well above ALB's so
	// that edge, not net/http, answers: net/http's 431 would otherwise win.
	maxHeaderBytes = 1 << 20
	// maxConcurrentStreams bounds the requests, and so the target
	// connections, one HTTP/2 connection can hold: nginx's default, which
	// ALB (whose error pages are nginx's) is taken to share; ALB does not
	// publish its value.
	maxConcurrentStreams = 128
)

// clientConn is what net/http serves for an HTTP/1 client connection (an
// HTTP/2 connection keeps its *tls.Conn: net/http's HTTP/2 server needs
// it). It lets edge answer as ALB does where net/http would answer itself,
// and lets the watchdog see a client that stopped sending or reading:
//
//   - while a request head arrives it enforces ALB's size limits, answering
//     414 or 400 without waiting for net/http to buffer the rest;
//   - a response net/http writes on its own (400 for a malformed request,
//     501 for an unknown Transfer-Encoding, 505, 417) is replaced with
//     ALB's page, and the request gets its access-log line;
//   - every read and write that moves bytes counts as progress (Progress).
//
// Reads come from net/http's reading goroutine (one at a time); the flags
// the handler and the ConnState hook set are atomic.
type clientConn struct {
	net.Conn // the *tls.Conn, or the raw connection of an HTTP listener
	raw      *tlsterm.Conn
	srv      *Server
	so       *socket // the socket it arrived on

	progress idle.Progress
	// watch is what the idle.Watchdog watches of the connection.
	watch idle.Conn
	// inHandler is set while edge serves a request (from the handler's
	// start until net/http has finished the response): a response
	// written outside it is net/http's own.
	inHandler atomic.Bool
	// answered: edge has refused the request and sent ALB's answer; the
	// connection only drains and closes.
	answered atomic.Bool

	// The request head being read: the reading goroutine's, and the
	// ConnState hook's at StateIdle (when net/http reads nothing).
	headBytes int
	lineDone  bool
}

// tlsClientConn is a clientConn over TLS; net/http takes the request's TLS
// state from ConnectionState.
type tlsClientConn struct{ *clientConn }

func (c tlsClientConn) ConnectionState() tls.ConnectionState {
	return c.Conn.(*tls.Conn).ConnectionState()
}

// binding is what the connection serves: the snapshot and listener it
// was accepted with.
func (c *clientConn) binding() *binding {
	if c.raw != nil {
		if bd := bindingOf(c.raw.Result); bd != nil {
			return bd
		}
	}
	return c.so.cur.Load()
}

// clientOf returns the clientConn net/http serves as c, or nil.
func clientOf(c net.Conn) *clientConn {
	switch cc := c.(type) {
	case *clientConn:
		return cc
	case tlsClientConn:
		return cc.clientConn
	}
	return nil
}

// clientListener hands net/http wrapped HTTP/1 connections.
type clientListener struct {
	net.Listener
	srv *Server
	so  *socket
}

func (l clientListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &clientConn{Conn: c, srv: l.srv, so: l.so}
	if tc, ok := c.(*tls.Conn); ok {
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return c, nil
		}
		cc.raw, _ = tc.NetConn().(*tlsterm.Conn)
		return tlsClientConn{cc}, nil
	}
	cc.raw, _ = c.(*tlsterm.Conn)
	return cc, nil
}

func (c *clientConn) Read(p []byte) (int, error) {
	if c.answered.Load() {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(p)
	if c.inHandler.Load() {
		// A body, or net/http's read-ahead while the handler runs: the
		// next head is counted from the next read outside the handler.
		c.headBytes, c.lineDone = 0, false
	} else if n > 0 {
		if status := c.checkHead(p[:n]); status != 0 {
			c.answer(status)
			return 0, io.EOF
		}
	}
	if n > 0 {
		c.progress.Op()
	}
	return n, err
}

// checkHead counts the bytes of a request head as they arrive and returns
// ALB's status for one that breaks its limits, or 0.
func (c *clientConn) checkHead(b []byte) int {
	if !c.lineDone {
		i := bytes.IndexByte(b, '\n')
		if i >= 0 {
			c.lineDone = true
		} else {
			i = len(b)
		}
		if c.headBytes+i > maxRequestLine+1 { // +1: the line's '\r'
			return http.StatusRequestURITooLong
		}
	}
	c.headBytes += len(b)
	if c.headBytes > maxRequestHead+headSlack {
		return http.StatusBadRequest
	}
	return 0
}

func (c *clientConn) Write(p []byte) (int, error) {
	if !c.inHandler.Load() {
		if c.answered.Load() {
			return len(p), nil // the rest of net/http's own answer
		}
		if status, ok := ownAnswer(p); ok {
			// net/http refused a request it could not read.
			c.answer(status)
			return len(p), nil
		}
	}
	c.progress.BeginWrite()
	n, err := c.Conn.Write(p)
	c.progress.EndWrite()
	if n > 0 {
		c.progress.Op()
	}
	return n, err
}

// ownAnswer recognizes the answers net/http writes without a handler: one
// write, starting with the status line. 431 (its header limit, above
// ALB's) is ALB's 400.
func ownAnswer(p []byte) (status int, ok bool) {
	if len(p) < len("HTTP/1.1 400") || !bytes.HasPrefix(p, []byte("HTTP/1.")) || p[8] != ' ' {
		return 0, false
	}
	status, err := strconv.Atoi(string(p[9:12]))
	if err != nil || status < 400 {
		return 0, false
	}
	if status == http.StatusRequestHeaderFieldsTooLarge {
		status = http.StatusBadRequest
	}
	return status, true
}

// answer sends ALB's answer to a request edge refused before net/http
// parsed it, logs it, and lets the client read the answer: the writing
// side is closed and what the client still sends is read and dropped for
// a moment (closing with unread data would reset the connection and lose
// the answer).
func (c *clientConn) answer(status int) {
	c.answered.Store(true)
	body := proxy.ErrorPage(status)
	head := "HTTP/1.1 " + proxy.StatusLine(status) + "\r\nServer: " + proxy.ServerHeader +
		"\r\nDate: " + time.Now().UTC().Format(http.TimeFormat) +
		"\r\nContent-Type: text/html\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n"
	out := append([]byte(head), body...)
	// Logged first, so the line is written when the client sees the answer.
	c.srv.logRefused(c, status, int64(len(out)))
	c.Conn.Write(out)
	c.CloseWrite()
	c.Conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.CopyN(io.Discard, c.Conn, 4<<20)
}

// CloseWrite lets net/http half-close the connection (its
// closeWriteAndWait).
func (c *clientConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	if c.raw != nil {
		if cw, ok := c.raw.Conn.(interface{ CloseWrite() error }); ok {
			return cw.CloseWrite()
		}
	}
	return nil
}

// NetConn returns the connection under the wrapper.
func (c *clientConn) NetConn() net.Conn { return c.Conn }
