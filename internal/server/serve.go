package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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

	current  atomic.Pointer[Snapshot] // with its sockets (Snapshot.sockets)
	reloadMu sync.Mutex               // serializes Reload, AddRevocation, RemoveRevocation, Shutdown
	logs     atomic.Pointer[sinks]
	// draining holds the sockets reloads removed that still finish
	// their requests; drainMu guards it.
	drainMu  sync.Mutex
	draining map[*socket]struct{}
	drainWG  sync.WaitGroup
	stopped  bool                       // set by Shutdown; guarded by reloadMu
	onReload []func(old, cur *Snapshot) // guarded by reloadMu
	// The ready file (WriteReadyFile), its last content and the admin
	// URL it names; guarded by reloadMu.
	readyPath string
	readyLast []byte
	adminURL  string
	awsURL    string
	serveWG   sync.WaitGroup
	bufs      sync.Pool
	recent    recentVerdicts
	observer  atomic.Pointer[observerBox] // observe.go
	ready     atomic.Bool

	// Admin-made revocation changes survive reloads from the file.
	extraCRLs   map[string][]truststore.RevocationInput
	removedCRLs map[string]map[string]bool

	loader func() (*config.Config, error)
	watch  *watchdog

	// apiGatewayURL is the API Gateway listener's, for the ready file
	// (SetAPIGatewayURL).
	apiGatewayURL atomic.Pointer[string]
}

type sinks struct {
	connDst, accessDst logfmt.Destination
	conn, access       logfmt.Sink
}

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
	s := &Server{log: log, stdout: stdout, stderr: stderr, metrics: metrics.New(), draining: map[*socket]struct{}{},
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
	raw, err := listen(snap.Listeners, make([]*socket, len(snap.Listeners)))
	if err != nil {
		s.Shutdown(context.Background())
		return nil, err
	}
	snap.sockets = make([]*socket, len(raw))
	for i, ln := range raw {
		snap.sockets[i] = s.serveSocket(ln, s.binding(snap, snap.Listeners[i]))
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

// Addrs returns the bound address of each listener of the current
// snapshot, in config order.
func (s *Server) Addrs() []net.Addr { return s.current.Load().Addrs() }

// Addrs returns the bound address of each listener of a snapshot being
// (or having been) served, in config order; empty for a snapshot that
// was never served.
func (s *Snapshot) Addrs() []net.Addr {
	out := make([]net.Addr, 0, len(s.sockets))
	for _, so := range s.sockets {
		out = append(out, so.tl.Addr())
	}
	return out
}

// Snapshot returns the snapshot being served.
func (s *Server) Snapshot() *Snapshot { return s.current.Load() }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Ready reports whether every listener is bound.
func (s *Server) Ready() bool { return s.ready.Load() }

// logConn writes the connection-log line for one connection attempt on so.
func (s *Server) logConn(r *tlsterm.Result, so *socket) {
	bd := bindingOf(r)
	if bd == nil {
		bd = so.cur.Load()
	}
	index := bd.l.Index
	rec := logfmt.ConnRecord{
		Time:         r.End,
		ClientAddr:   r.Remote,
		ListenerPort: so.port,
		Latency:      -1,
		Status:       r.Status.String(),
		TraceID:      r.TraceID,
		ELB:          bd.snap.ELB,
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
		Reason: reasonOf(r, bd.snap, index)}
	s.recent.add(v)
	s.observeConn(v, r)
	bp := s.bufs.Get().(*[]byte)
	*bp = logfmt.AppendConn((*bp)[:0], &rec)
	s.logs.Load().conn.Write(*bp)
	s.bufs.Put(bp)
}

// ReopenLogs makes file: log destinations close their file and open their
// path again before the next line (logrotate's convention; SIGHUP calls
// it). Other destinations are unaffected.
func (s *Server) ReopenLogs() {
	lg := s.logs.Load()
	for _, sink := range []logfmt.Sink{lg.conn, lg.access} {
		if r, ok := sink.(interface{ Reopen() }); ok {
			r.Reopen()
		}
	}
}

// OnReload registers f to run after every successful reload (and admin
// revocation change), with the snapshot replaced and the one now served.
// Hooks run in registration order while reloads are held off; they must
// not reload.
func (s *Server) OnReload(f func(old, cur *Snapshot)) {
	s.reloadMu.Lock()
	s.onReload = append(s.onReload, f)
	s.reloadMu.Unlock()
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

// ErrStopped is returned by a reload after Shutdown.
var ErrStopped = errors.New("edge is shutting down")

func (s *Server) reloadLocked(cfg *config.Config) error {
	if s.stopped {
		return ErrStopped
	}
	old := s.current.Load()
	opts := old.opts
	opts.ExtraRevocations, opts.RemovedRevocations = s.extraCRLs, s.removedCRLs
	opts.proxy = old.Proxy
	snap, err := Build(cfg, opts)
	if err != nil {
		return err
	}
	if f := snap.changedSinceRead(); f != "" {
		snap.Close()
		return fileChanging(f)
	}
	snap.keepVersions(old)
	oldLogs := s.logs.Load()
	lg, err := s.openLogs(snap, oldLogs)
	if err != nil {
		snap.Close()
		return err
	}
	// Bind the sockets that are new; on failure nothing changed.
	socks := matchSockets(old, snap.Listeners)
	raw, err := listen(snap.Listeners, socks)
	if err != nil {
		closeNew(lg, oldLogs)
		snap.Close()
		return err
	}
	kept := map[*socket]bool{}
	for i, l := range snap.Listeners {
		if socks[i] != nil {
			socks[i].cur.Store(s.binding(snap, l))
			kept[socks[i]] = true
		} else {
			socks[i] = s.serveSocket(raw[i], s.binding(snap, l))
			s.log.Info("listening", "listener", l.Index, "url", l.URL(socks[i].port), "mode", l.Mode())
		}
	}
	snap.sockets = socks
	s.current.Store(snap)
	s.logs.Store(lg)
	for i, so := range old.sockets {
		if !kept[so] {
			s.log.Info("stopped listening", "listener", old.Listeners[i].Index, "url", old.Listeners[i].URL(so.port))
			s.drain(so, 10*time.Second)
		}
	}
	closeNew(oldLogs, lg) // the old sinks the new state does not share
	s.observe(snap)
	if snap.Proxy == old.Proxy { // hand the target connections over
		snap.ownsProxy, old.ownsProxy = true, false
	}
	for _, f := range s.onReload {
		f(old, snap)
	}
	if changed, err := s.writeReady(snap); err != nil {
		s.log.Error("cannot rewrite the ready file", "file", s.readyPath, "err", err)
	} else if changed {
		s.log.Info("ready file rewritten", "file", s.readyPath)
	}
	old.Close()
	return nil
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
	s.stopped = true
	var errs []error
	var socks []*socket
	if snap := s.current.Load(); snap != nil {
		socks = snap.sockets
	}
	// http.Server.Shutdown closes its listener first, so Serve returns
	// ErrServerClosed, then waits for in-flight requests.
	for _, so := range socks {
		if err := so.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			so.srv.Close()
		}
	}
	for _, so := range socks {
		so.tl.Close()
		so.tl.Wait()
	}
	// Sockets removed by reloads: their drain ends within its grace;
	// past ctx, cut their connections.
	drained := make(chan struct{})
	go func() { s.drainWG.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		s.drainMu.Lock()
		for so := range s.draining {
			so.srv.Close()
		}
		s.drainMu.Unlock()
		<-drained
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
	if s.readyPath != "" {
		// The file exists while edge serves: a harness never reads the
		// ports of a stopped edge.
		RemoveReadyFile(s.readyPath)
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
