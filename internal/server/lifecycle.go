package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/config"
	"edge/internal/idle"
	"edge/internal/metrics"
	"edge/internal/pki"
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
	// lbLogs are the load balancers' logs by name (lbLog); acmLogged the
	// certificate ARNs whose dev certificate was logged. Guarded by
	// reloadMu.
	lbLogs    map[string]*lbLog
	acmLogged map[string]bool
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
	watch  *idle.Watchdog

	// apiGatewayURL is the API Gateway listener's, for the ready file
	// (SetAPIGatewayURL).
	apiGatewayURL atomic.Pointer[string]
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
		extraCRLs: map[string][]truststore.RevocationInput{}, removedCRLs: map[string]map[string]bool{},
		lbLogs: map[string]*lbLog{}, acmLogged: map[string]bool{}}
	s.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	lg, err := s.openLogs(snap, nil)
	if err != nil {
		return nil, err
	}
	s.logs.Store(lg)
	s.routeLogs(snap, lg)
	s.current.Store(snap)
	// Each connection has its load balancer's timeouts (socket.limits);
	// the shortest sets the sweeper's tick.
	s.watch = idle.New(func() (idleTimeout, headerTimeout time.Duration) {
		snap := s.current.Load()
		return snap.minIdle, time.Duration(snap.Config.ClientHeaderTimeoutSeconds) * time.Second
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
	s.logDevCertificates(snap)
	s.ready.Store(true)
	return s, nil
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

// logDevCertificates logs, once per ARN for the server's life, the
// certificate ARNs served with a dev-CA certificate; under reloadMu (or
// before serving).
func (s *Server) logDevCertificates(snap *Snapshot) {
	dir := snap.opts.DevPKIDir
	if dir == "" {
		dir = snap.Config.Path(".edge") // as Build defaults it
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for _, arn := range snap.acmDev {
		if !s.acmLogged[arn] {
			s.acmLogged[arn] = true
			s.log.Info("ACM is not emulated: serving a dev certificate for ARN "+arn, "names", "localhost, 127.0.0.1 and the listener's address",
				"clients_trust", filepath.Join(dir, pki.DevRootFile))
		}
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
// connection is lost. A second call returns nil at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.stopped {
		return nil // a second Shutdown: everything is closed already
	}
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
		errs = append(errs, closeAllSinks(lg)...)
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
