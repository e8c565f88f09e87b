package admin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/server"
)

// Limits of the admin listener. The admin API is small and local: its
// limits keep a flood of connections (or slow clients) from holding file
// descriptors the listeners need.
const (
	// MaxConns is the most admin connections open at once. A connection
	// past it first evicts the connection that has been idle (or waiting
	// for its first request) the longest; when every one is busy with a
	// request, the new connection is closed at once.
	MaxConns = 32
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request, a 50 MB CRL upload
	// included.
	ReadTimeout = 60 * time.Second
	// WriteTimeout bounds a response from the end of the request headers;
	// a reload of a configuration with large CRLs takes seconds.
	WriteTimeout = 120 * time.Second
	// IdleTimeout closes keep-alive connections without a request.
	IdleTimeout = 30 * time.Second
)

// Listener is the running admin listener.
type Listener struct {
	srv    *http.Server
	ln     *limitListener
	listen string // admin.listen it was started with ("" when none)
	token  atomic.Pointer[string]
	log    *slog.Logger
}

// limits are the admin listener's timeouts and connection cap; tests
// shorten them.
type limits struct {
	maxConns                      int
	readHeader, read, write, idle time.Duration
}

var defaultLimits = limits{MaxConns, ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout}

// Start serves the admin API of srv on the admin.listen of srv's current
// configuration; when that is empty it binds nothing (Addr returns nil).
// Either way it follows reloads: a changed admin.token applies to the next
// request, and a changed admin.listen (which needs a restart) is logged
// as not applied, the listener keeping its address and token.
//
// wrap, when not nil, wraps the admin API's handler (the web console is
// served this way: it answers its own paths and passes the rest on);
// token returns the admin token in force, which reloads may change.
func Start(srv *server.Server, log *slog.Logger, wrap func(api http.Handler, token func() string) http.Handler) (*Listener, error) {
	return start(srv, log, defaultLimits, nil, wrap)
}

// StartWith is Start with the revocation endpoints acting through model
// (see Model); a nil model is Start.
func StartWith(srv *server.Server, log *slog.Logger, model Model, wrap func(api http.Handler, token func() string) http.Handler) (*Listener, error) {
	return start(srv, log, defaultLimits, model, wrap)
}

func start(srv *server.Server, log *slog.Logger, lim limits, model Model, wrap func(http.Handler, func() string) http.Handler) (*Listener, error) {
	a := &Listener{log: log}
	tok := ""
	if c := srv.Snapshot().Config.Admin; c != nil {
		a.listen, tok = c.Listen, c.Token
	}
	a.token.Store(&tok)
	srv.OnReload(a.reloaded)
	if a.listen == "" {
		return a, nil
	}
	inner, err := net.Listen("tcp", a.listen)
	if err != nil {
		return nil, err
	}
	a.ln = &limitListener{Listener: inner, max: lim.maxConns, conns: map[net.Conn]*connInfo{}, log: log}
	token := func() string { return *a.token.Load() }
	h := handler(srv, token, model)
	if wrap != nil {
		h = wrap(h, token)
	}
	a.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    64 << 10,
		ConnState:         a.ln.connState,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go a.srv.Serve(a.ln)
	srv.SetAdminURL(a.URL())
	return a, nil
}

// reloaded applies what a reload changed in the admin section.
func (a *Listener) reloaded(_, cur *server.Snapshot) {
	listen, tok := "", ""
	if c := cur.Config.Admin; c != nil {
		listen, tok = c.Listen, c.Token
	}
	if listen != a.listen {
		running := a.listen
		if running == "" {
			running = "(none)"
		}
		a.log.Warn("admin.listen changed; restart edge to apply it: the admin API keeps its address and token", "running", running, "configured", listen)
		return
	}
	if tok != *a.token.Load() {
		a.token.Store(&tok)
		a.log.Info("admin.token changed; applied to the next admin request")
	}
}

// Addr is the bound address, or nil when admin.listen is empty.
func (a *Listener) Addr() net.Addr {
	if a.ln == nil {
		return nil
	}
	return a.ln.Addr()
}

// URL is http://ADDR/, or "" when admin.listen is empty.
func (a *Listener) URL() string {
	if a.ln == nil {
		return ""
	}
	return "http://" + a.ln.Addr().String() + "/"
}

// Shutdown stops the admin listener, letting requests finish until ctx
// ends.
func (a *Listener) Shutdown(ctx context.Context) error {
	if a.srv == nil {
		return nil
	}
	err := a.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		a.srv.Close()
	}
	return err
}

// limitListener caps the open connections of an http.Server (see
// MaxConns); the server's ConnState hook tells it which are idle.
type limitListener struct {
	net.Listener
	max int
	log *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]*connInfo
}

type connInfo struct {
	busy  bool      // a request is being served
	since time.Time // when it last became idle (or was accepted)
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit(c) {
			return c, nil
		}
		c.Close()
	}
}

// admit registers c, evicting the longest-idle connection when at the cap;
// false when every connection is busy.
func (l *limitListener) admit(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.max {
		var victim net.Conn
		var oldest time.Time
		for vc, in := range l.conns {
			if !in.busy && (victim == nil || in.since.Before(oldest)) {
				victim, oldest = vc, in.since
			}
		}
		if victim == nil {
			l.log.Debug("admin connection refused: every admin connection is busy", "client", c.RemoteAddr(), "max", l.max)
			return false
		}
		victim.Close()
		delete(l.conns, victim)
	}
	l.conns[c] = &connInfo{since: time.Now()}
	return true
}

// busy counts the connections serving a request.
func (l *limitListener) busy() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, in := range l.conns {
		if in.busy {
			n++
		}
	}
	return n
}

func (l *limitListener) connState(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	in := l.conns[c]
	if in == nil {
		return // evicted
	}
	switch st {
	case http.StateActive:
		in.busy = true
	case http.StateIdle:
		in.busy, in.since = false, time.Now()
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	}
}
