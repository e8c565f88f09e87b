package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/certfmt"
	"edge/internal/config"
	"edge/internal/logfmt"
	"edge/internal/metrics"
	"edge/internal/tlsterm"
	"edge/internal/truststore"
)

// Server serves the current Snapshot. Reload builds a new snapshot and
// swaps it in atomically: new connections get the new state, open
// connections keep the snapshot they started with, and a failed reload
// changes nothing.
type Server struct {
	log            *slog.Logger
	stdout, stderr io.Writer
	metrics        *metrics.Metrics

	current  atomic.Pointer[Snapshot]
	reloadMu sync.Mutex // serializes Reload, AddRevocation, RemoveRevocation
	bound    map[string]*bound
	logs     atomic.Pointer[sinks]
	serveWG  sync.WaitGroup
	bufs     sync.Pool
	recent   recentVerdicts
	observer atomic.Pointer[observerBox] // observe.go
	ready    atomic.Bool

	// Admin-made revocation changes survive reloads from the file.
	extraCRLs   map[string][]truststore.RevocationInput
	removedCRLs map[string]map[string]bool

	loader func() (*config.Config, error)
	watch  *watchdog
}

// bound is one bound socket and its HTTP server.
type bound struct {
	key  string
	port int // the actual port (differs from the config for port 0)
	tl   *tlsterm.Listener
	srv  *http.Server
}

type sinks struct {
	connDst, accessDst logfmt.Destination
	conn, access       logfmt.Sink
}

type snapKey struct{}

// ListenError is a listener that could not bind its address (a port in
// use, an address not on this machine, a port below 1024 without the
// right). Err is net.Listen's error: errors.Is(err, syscall.EADDRINUSE)
// tells a port in use.
type ListenError struct {
	// Listener is the index in the configuration's listeners.
	Listener int
	Addr     string
	Err      error
}

func (e *ListenError) Error() string { return fmt.Sprintf("listeners[%d]: %v", e.Listener, e.Err) }
func (e *ListenError) Unwrap() error { return e.Err }

// Start opens the log destinations, binds every listener and starts
// serving. On error nothing is left running.
func Start(snap *Snapshot, stdout, stderr io.Writer, log *slog.Logger) (*Server, error) {
	s := &Server{log: log, stdout: stdout, stderr: stderr, metrics: metrics.New(), bound: map[string]*bound{},
		extraCRLs: map[string][]truststore.RevocationInput{}, removedCRLs: map[string]map[string]bool{}}
	s.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	lg, err := s.openLogs(snap, nil)
	if err != nil {
		return nil, err
	}
	s.logs.Store(lg)
	s.current.Store(snap)
	s.watch = newWatchdog(func() (idle, header time.Duration) {
		c := s.current.Load().Config
		return time.Duration(c.IdleTimeoutSeconds) * time.Second, time.Duration(c.ClientHeaderTimeoutSeconds) * time.Second
	})
	for _, l := range snap.Listeners {
		if err := s.bind(snap, l); err != nil {
			s.Shutdown(context.Background())
			return nil, err
		}
	}
	s.observe(snap)
	s.ready.Store(true)
	return s, nil
}

// openLogs opens the snapshot's destinations, reusing prev's sinks for
// destinations that did not change.
func (s *Server) openLogs(snap *Snapshot, prev *sinks) (*sinks, error) {
	lg := &sinks{connDst: snap.ConnLog, accessDst: snap.AccessLog}
	var err error
	if prev != nil && prev.connDst == lg.connDst {
		lg.conn = prev.conn
	} else if lg.conn, err = s.openSink(snap.ConnLog, "connection"); err != nil {
		return nil, fmt.Errorf("connection log %s: %w", snap.ConnLog, err)
	}
	if prev != nil && prev.accessDst == lg.accessDst {
		lg.access = prev.access
	} else if lg.access, err = s.openSink(snap.AccessLog, "access"); err != nil {
		if prev == nil || lg.conn != prev.conn {
			lg.conn.Close()
		}
		return nil, fmt.Errorf("access log %s: %w", snap.AccessLog, err)
	}
	return lg, nil
}

func (s *Server) openSink(d logfmt.Destination, name string) (logfmt.Sink, error) {
	sink, err := logfmt.Open(d, s.stdout, s.stderr)
	if err != nil {
		return nil, err
	}
	if a, ok := sink.(interface{ SetOnDrop(func(uint64)) }); ok {
		c := s.metrics.LogLinesDropped.WithLabelValues(name)
		a.SetOnDrop(func(n uint64) { c.Add(float64(n)) })
	}
	return sink, nil
}

func (s *Server) bind(snap *Snapshot, l *Listener) error {
	if l.Protocol == "HTTPS" && l.TLS == nil {
		return fmt.Errorf("listeners[%d]: HTTPS listener has no TLS configuration", l.Index)
	}
	inner, err := net.Listen("tcp", l.Addr())
	if err != nil {
		return &ListenError{Listener: l.Index, Addr: l.Addr(), Err: err}
	}
	key := l.Key()
	b := &bound{key: key, port: inner.Addr().(*net.TCPAddr).Port}
	var cfgFn func() *tls.Config
	if l.TLS != nil {
		// Each connection takes the TLS state current when it arrives.
		cfgFn = func() *tls.Config { return s.listenerFor(s.current.Load(), key).TLS }
	}
	index := l.Index
	// Asked per connection, so a reload applies to a kept socket too.
	hsTimeout := func() time.Duration {
		return time.Duration(s.current.Load().Config.ClientHandshakeTimeoutSeconds) * time.Second
	}
	b.tl = tlsterm.NewListener(inner, cfgFn, hsTimeout, func(r *tlsterm.Result) { s.logConn(r, b.port, index) })
	active := s.metrics.ActiveConnections.WithLabelValues(strconv.Itoa(index))
	b.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cs, _ := r.Context().Value(snapKey{}).(*Snapshot)
			s.serveRequest(cs, key, b.port, w, r)
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return connContext(context.WithValue(ctx, snapKey{}, s.current.Load()), c)
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				active.Inc()
			case http.StateClosed, http.StateHijacked:
				active.Dec()
			}
			s.watch.connState(c, st)
		},
		// No ReadHeaderTimeout or IdleTimeout: s.watch enforces both
		// without moving a read deadline per request.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if l.TLS != nil {
		// Serve enables HTTP/2 only when TLSConfig offers h2; the
		// handshake itself is done by tlsterm.
		b.srv.TLSConfig = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	}
	s.bound[key] = b
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := b.srv.Serve(b.tl); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("listener stopped", "listener", key, "err", err)
		}
	}()
	return nil
}

// listenerFor finds the listener for a bound key in snap.
func (s *Server) listenerFor(snap *Snapshot, key string) *Listener {
	for _, l := range snap.Listeners {
		if l.Key() == key {
			return l
		}
	}
	return nil
}

func (s *Server) serveRequest(snap *Snapshot, key string, port int, w http.ResponseWriter, r *http.Request) {
	if snap == nil {
		snap = s.current.Load()
	}
	l := s.listenerFor(snap, key)
	if l == nil {
		// The connection outlived its listener's removal by a reload.
		snap = s.current.Load()
		if l = s.listenerFor(snap, key); l == nil {
			http.Error(w, "listener removed", http.StatusServiceUnavailable)
			return
		}
	}
	s.serveLogged(snap, l, port, l.Handler, w, r)
}

// Addrs returns the bound address of each listener of the current
// snapshot, in config order.
func (s *Server) Addrs() []net.Addr {
	snap := s.current.Load()
	out := make([]net.Addr, 0, len(snap.Listeners))
	for _, l := range snap.Listeners {
		if b := s.bound[l.Key()]; b != nil {
			out = append(out, b.tl.Addr())
		}
	}
	return out
}

// Snapshot returns the snapshot being served.
func (s *Server) Snapshot() *Snapshot { return s.current.Load() }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Ready reports whether every listener is bound.
func (s *Server) Ready() bool { return s.ready.Load() }

// logConn writes the connection-log line for one connection attempt.
func (s *Server) logConn(r *tlsterm.Result, listenerPort, index int) {
	snap := s.current.Load()
	rec := logfmt.ConnRecord{
		Time:         r.End,
		ClientAddr:   r.Remote,
		ListenerPort: listenerPort,
		Latency:      -1,
		Status:       r.Status.String(),
		TraceID:      r.TraceID,
		ELB:          snap.ELB,
		ListenerIP:   r.Local.Addr(),
	}
	if r.TLS {
		rec.Protocol = tlsterm.VersionName(r.State.Version)
		rec.Cipher = tlsterm.CipherName(r.State.CipherSuite)
		rec.KeyExchange = tlsterm.CurveName(r.State.CurveID)
		if r.Err == nil {
			rec.Latency = r.End.Sub(r.Start)
		}
		if leaf := r.Leaf(); leaf != nil {
			rec.Subject = certfmt.DN(leaf.RawSubject)
			rec.Validity = certfmt.Validity(leaf)
			rec.Serial = certfmt.Serial(leaf)
		}
		if r.Err != nil {
			s.log.Debug("handshake failed", "client", r.Remote, "status", r.Status, "err", r.Err)
		}
	}
	s.metrics.Handshake(index, r.Status)
	v := Verdict{Time: r.End, Listener: index, Client: r.Remote.String(), Status: r.Status.String(), Subject: rec.Subject, Serial: rec.Serial, TraceID: r.TraceID,
		Reason: reasonOf(r, snap, index)}
	s.recent.add(v)
	s.observeConn(v, r)
	bp := s.bufs.Get().(*[]byte)
	*bp = logfmt.AppendConn((*bp)[:0], &rec)
	s.logs.Load().conn.Write(*bp)
	s.bufs.Put(bp)
}

// SetLoader sets how ReloadFromSource reads the configuration.
func (s *Server) SetLoader(load func() (*config.Config, error)) { s.loader = load }

// ReloadFromSource reads the configuration again and reloads it.
func (s *Server) ReloadFromSource() error {
	if s.loader == nil {
		return errors.New("this server has no configuration source to reload")
	}
	cfg, err := s.loader()
	if err != nil {
		s.metrics.ConfigReloads.WithLabelValues("failure").Inc()
		s.logReloadFailure(err)
		return err
	}
	return s.Reload(cfg)
}

// Reload builds cfg completely, then swaps it in. On any error the old
// state keeps serving, the failure is logged and counted, and the error
// (a config.Problems for configuration mistakes) is returned.
func (s *Server) Reload(cfg *config.Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	err := s.reloadLocked(cfg)
	if err != nil {
		s.metrics.ConfigReloads.WithLabelValues("failure").Inc()
		s.logReloadFailure(err)
		return err
	}
	s.metrics.ConfigReloads.WithLabelValues("success").Inc()
	s.log.Info("configuration reloaded", "file", cfg.File)
	return nil
}

func (s *Server) logReloadFailure(err error) {
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			s.log.Error("reload failed; the previous configuration keeps serving", "problem", p.String())
		}
		return
	}
	s.log.Error("reload failed; the previous configuration keeps serving", "err", err)
}

func (s *Server) reloadLocked(cfg *config.Config) error {
	old := s.current.Load()
	opts := old.opts
	opts.ExtraRevocations, opts.RemovedRevocations = s.extraCRLs, s.removedCRLs
	snap, err := Build(cfg, opts)
	if err != nil {
		return err
	}
	snap.keepVersions(old)
	oldLogs := s.logs.Load()
	lg, err := s.openLogs(snap, oldLogs)
	if err != nil {
		snap.Close()
		return err
	}
	// Bind listeners that are new; on failure undo and keep the old state.
	var added []string
	for _, l := range snap.Listeners {
		if s.bound[l.Key()] != nil {
			continue
		}
		if err := s.bind(snap, l); err != nil {
			for _, k := range added {
				s.unbind(k, 0)
			}
			closeNew(lg, oldLogs)
			snap.Close()
			return err
		}
		added = append(added, l.Key())
	}
	s.current.Store(snap)
	s.logs.Store(lg)
	keep := map[string]bool{}
	for _, l := range snap.Listeners {
		keep[l.Key()] = true
	}
	for k := range s.bound {
		if !keep[k] {
			s.unbind(k, 10*time.Second)
		}
	}
	closeNew(oldLogs, lg) // the old sinks the new state does not share
	s.observe(snap)
	old.Close()
	return nil
}

// unbind stops a listener, letting its in-flight requests finish within
// grace in the background.
func (s *Server) unbind(key string, grace time.Duration) {
	b := s.bound[key]
	delete(s.bound, key)
	if b == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := b.srv.Shutdown(ctx); err != nil {
			b.srv.Close()
		}
		b.tl.Close()
	}()
}

// closeNew closes the sinks of lg that other does not share.
func closeNew(lg, other *sinks) {
	if lg.conn != other.conn {
		lg.conn.Close()
	}
	if lg.access != other.access {
		lg.access.Close()
	}
}

// observe publishes the snapshot's trust-store gauges.
func (s *Server) observe(snap *Snapshot) {
	s.metrics.TrustStoreVersion.Reset()
	for name, st := range snap.TrustStores {
		s.metrics.TrustStoreCAs.WithLabelValues(name).Set(float64(len(st.CAs)))
		s.metrics.TrustStoreRevoked.WithLabelValues(name).Set(float64(st.TotalRevokedEntries()))
		v := snap.StoreVersions[name]
		s.metrics.TrustStoreVersion.WithLabelValues(name, v.Hash).Set(float64(v.Loaded.Unix()))
	}
}

// Shutdown stops accepting, lets in-flight requests finish until ctx ends,
// waits for handshakes in progress (each is bounded by the handshake
// timeout) and flushes and closes every log: no line of a finished
// connection is lost.
func (s *Server) Shutdown(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.ready.Store(false)
	var errs []error
	keys := make([]string, 0, len(s.bound))
	for k := range s.bound {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// http.Server.Shutdown closes its listener first, so Serve returns
	// ErrServerClosed, then waits for in-flight requests.
	for _, k := range keys {
		if err := s.bound[k].srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			s.bound[k].srv.Close()
		}
	}
	for _, k := range keys {
		s.bound[k].tl.Close()
		s.bound[k].tl.Wait()
	}
	s.serveWG.Wait()
	if s.watch != nil {
		s.watch.Close()
	}
	if lg := s.logs.Load(); lg != nil {
		errs = append(errs, lg.conn.Close())
		if lg.access != lg.conn {
			errs = append(errs, lg.access.Close())
		}
	}
	if snap := s.current.Load(); snap != nil {
		snap.Close()
	}
	return errors.Join(errs...)
}

// Verdict is one recent connection attempt, for the admin API.
type Verdict struct {
	Time     time.Time `json:"time"`
	Listener int       `json:"listener"`
	Client   string    `json:"client"`
	Status   string    `json:"tls_verify_status"`
	Subject  string    `json:"leaf_client_cert_subject,omitempty"`
	TraceID  string    `json:"conn_trace_id"`
	// Serial and Reason: issue 16 (reason.go).
	Serial string `json:"leaf_client_cert_serial_number,omitempty"`
	Reason
}

// recentVerdicts keeps the last 100 connection attempts.
type recentVerdicts struct {
	mu   sync.Mutex
	buf  [100]Verdict
	next int
	n    int
}

func (r *recentVerdicts) add(v Verdict) {
	r.mu.Lock()
	r.buf[r.next] = v
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
	r.mu.Unlock()
}

// RecentVerdicts returns the last connection attempts, newest first.
func (s *Server) RecentVerdicts() []Verdict {
	r := &s.recent
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Verdict, 0, r.n)
	for i := 1; i <= r.n; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}
