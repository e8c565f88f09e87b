package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"edge/internal/idle"
	"edge/internal/tlsterm"
)

// socket is one bound listening socket and the HTTP server on it. A
// socket outlives snapshots: a reload points it at the new snapshot's
// listener of the same identity (see matchSockets) and leaves it open.
type socket struct {
	// addr is the configured host with the bound port: what a listener
	// with a fixed port must name to keep this socket.
	addr string
	port int // the bound port (differs from the config for port 0)
	tl   *tlsterm.Listener
	srv  *http.Server
	// cur is what new connections get; each connection keeps the
	// binding it started with (in its tlsterm.Result.Value).
	cur atomic.Pointer[binding]
	// limits are the idle and header timeouts of the socket's
	// connections: those of the listener it serves now, so a reload
	// applies them to connections already open.
	limits idle.Limits
}

// binding is what a socket serves: one listener of one snapshot.
// Connections take their socket's binding when they arrive and use it for
// the handshake, every request and every log line, whatever reloads
// happen meanwhile.
type binding struct {
	snap   *Snapshot
	l      *Listener
	active prometheus.Gauge // edge_active_connections of l
	// log is where l's load balancer writes its lines.
	log *lbLog
}

// binding is what a socket serves for l; under reloadMu (or before
// serving).
func (s *Server) binding(snap *Snapshot, l *Listener) *binding {
	return &binding{snap: snap, l: l, active: s.metrics.ActiveConnections.WithLabelValues(strconv.Itoa(l.Index)), log: s.lbLog(l.LoadBalancer.Name)}
}

// bindingOf returns the binding a connection started with.
func bindingOf(r *tlsterm.Result) *binding {
	if r == nil {
		return nil
	}
	bd, _ := r.Value.(*binding)
	return bd
}

// kind is what pairs a port-0 listener with a socket across a reload:
// its protocol, bind address, mutual-authentication mode and trust store.
func (l *Listener) kind() string {
	return l.Protocol + "|" + l.Address + "|" + l.Mode() + "|" + l.TrustStoreName
}

// matchSockets decides which sockets of old the listeners ls keep; nil
// entries need a new socket. The rules (docs/behaviour.md, Reloads):
//   - a listener with a fixed port keeps the socket bound to its address
//     and port, whatever else changed (protocol, mode, certificates,
//     rules), as ModifyListener keeps a port on ALB;
//   - a port-0 listener keeps a socket of a port-0 listener of the same
//     kind (protocol, address, mode, trust store); listeners of one kind
//     are paired in configuration order, so adding or removing a
//     listener of another kind moves nothing, and a socket never changes
//     its mode because listeners were reordered.
//
// Everything else is closed (old) or bound anew (ls).
func matchSockets(old *Snapshot, ls []*Listener) []*socket {
	out := make([]*socket, len(ls))
	if old == nil {
		return out
	}
	claimed := map[*socket]bool{}
	byAddr := map[string]*socket{}
	for _, so := range old.sockets {
		byAddr[so.addr] = so
	}
	for i, l := range ls {
		if l.Port == 0 {
			continue
		}
		if so := byAddr[l.Addr()]; so != nil {
			out[i], claimed[so] = so, true
		}
	}
	free := map[string][]*socket{}
	for _, so := range old.sockets {
		if l := so.cur.Load().l; l.Port == 0 && !claimed[so] {
			free[l.kind()] = append(free[l.kind()], so)
		}
	}
	for i, l := range ls {
		if l.Port != 0 {
			continue
		}
		if q := free[l.kind()]; len(q) > 0 {
			out[i], free[l.kind()] = q[0], q[1:]
		}
	}
	return out
}

// listen binds the sockets that ls lacks (nil entries of socks); on any
// failure it closes what it bound and returns the error.
func listen(ls []*Listener, socks []*socket) ([]net.Listener, error) {
	raw := make([]net.Listener, len(ls))
	for i, l := range ls {
		if l.Protocol == "HTTPS" && l.TLS == nil {
			closeAll(raw)
			return nil, fmt.Errorf("listeners[%d]: HTTPS listener has no TLS configuration", l.Index)
		}
		if socks[i] != nil {
			continue
		}
		ln, err := net.Listen("tcp", l.Addr())
		if err != nil {
			closeAll(raw)
			return nil, &ListenError{Listener: l.Index, Addr: l.Addr(), Err: err}
		}
		raw[i] = ln
	}
	return raw, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		if l != nil {
			l.Close()
		}
	}
}

// serveSocket starts serving inner with bd as its first binding.
func (s *Server) serveSocket(inner net.Listener, bd *binding) *socket {
	port := inner.Addr().(*net.TCPAddr).Port
	so := &socket{addr: net.JoinHostPort(bd.l.Address, strconv.Itoa(port)), port: port}
	so.cur.Store(bd)
	so.limits = func() (idle, header time.Duration) {
		bd := so.cur.Load()
		return bd.l.LoadBalancer.idleTimeout, time.Duration(bd.snap.Config.ClientHeaderTimeoutSeconds) * time.Second
	}
	// The binding is taken once per connection, before its handshake.
	bindConn := func(c *tlsterm.Conn) *tls.Config {
		bd := so.cur.Load()
		c.Result.Value = bd
		return bd.l.TLS // nil on HTTP listeners: a plain connection
	}
	// Asked per connection, so a reload applies to a kept socket too.
	hsTimeout := func() time.Duration {
		return time.Duration(s.current.Load().Config.ClientHandshakeTimeoutSeconds) * time.Second
	}
	so.tl = tlsterm.NewListener(inner, tlsterm.Hooks{
		TLSConfig:        bindConn,
		HandshakeTimeout: hsTimeout,
		OnResult:         func(r *tlsterm.Result) { s.logConn(r, so) },
	})
	so.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var bd *binding
			if cv, _ := r.Context().Value(connKey{}).(*connValue); cv != nil {
				bd = bindingOf(cv.res)
			}
			if bd == nil {
				bd = so.cur.Load()
			}
			s.serveLogged(bd, so, w, r)
		}),
		ConnContext: connContext,
		ConnState: func(c net.Conn, st http.ConnState) {
			if ec, _ := rawConn(c); ec != nil {
				if bd := bindingOf(ec.Result); bd != nil {
					switch st {
					case http.StateNew:
						bd.active.Inc()
					case http.StateClosed, http.StateHijacked:
						bd.active.Dec()
					}
				}
			}
			s.connState(so, c, st)
		},
		// No ReadHeaderTimeout or IdleTimeout: s.watch enforces both
		// without moving a read deadline per request.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// Above ALB's limits, which edge enforces itself (clientconn.go).
		MaxHeaderBytes: maxHeaderBytes,
		// OPTIONS * reaches edge's handler, which answers it as ALB.
		DisableGeneralOptionsHandler: true,
		HTTP2:                        &http.HTTP2Config{MaxConcurrentStreams: maxConcurrentStreams},
		// Serve enables HTTP/2 only when TLSConfig offers h2; the
		// handshake itself is done by tlsterm. Plain connections (an
		// HTTP listener) are unaffected.
		TLSConfig: &tls.Config{NextProtos: []string{"h2", "http/1.1"}},
	}
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := so.srv.Serve(clientListener{Listener: so.tl, srv: s, so: so}); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("listener stopped", "address", so.addr, "err", err)
		}
	}()
	return so
}

// drain stops a socket that a reload removed: it stops accepting now,
// lets its requests finish within grace in the background, then closes
// what is left. Shutdown waits for it.
func (s *Server) drain(so *socket, grace time.Duration) {
	s.drainWG.Add(1)
	s.drainMu.Lock()
	s.draining[so] = struct{}{}
	s.drainMu.Unlock()
	go func() {
		defer s.drainWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := so.srv.Shutdown(ctx); err != nil {
			so.srv.Close()
		}
		so.tl.Close()
		so.tl.Wait()
		s.drainMu.Lock()
		delete(s.draining, so)
		s.drainMu.Unlock()
	}()
}

// URL is the address a client uses for l bound on port: https:// or
// http://, with "localhost" for a loopback or wildcard address when the
// dev CA issued the certificate (it names localhost).
func (l *Listener) URL(port int) string {
	scheme := "https"
	if l.Protocol == "HTTP" {
		scheme = "http"
	}
	host := l.Address
	if l.DevCertificate && (host == "127.0.0.1" || host == "0.0.0.0" || host == "::") {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
}

// Mode is the listener's mutual-authentication mode (off, passthrough,
// verify), or "-" on an HTTP listener.
func (l *Listener) Mode() string {
	if l.Term == nil {
		return "-"
	}
	return l.Term.Mode.String()
}
