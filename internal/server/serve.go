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
	"sync"
	"time"

	"edge/internal/certfmt"
	"edge/internal/logfmt"
	"edge/internal/tlsterm"
)

// Server serves one Snapshot.
type Server struct {
	snap    *Snapshot
	log     *slog.Logger
	connLog logfmt.Sink
	// accessLogSink gets one line per request.
	accessLogSink logfmt.Sink

	listeners []*tlsterm.Listener
	https     []*http.Server
	serveWG   sync.WaitGroup
	bufs      sync.Pool
}

// Start opens the log destinations, binds every listener and starts
// serving. On error nothing is left running.
func Start(snap *Snapshot, stdout, stderr io.Writer, log *slog.Logger) (*Server, error) {
	s := &Server{snap: snap, log: log}
	s.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	var err error
	if s.connLog, err = logfmt.Open(snap.ConnLog, stdout, stderr); err != nil {
		return nil, fmt.Errorf("connection log %s: %w", snap.ConnLog, err)
	}
	if s.accessLogSink, err = logfmt.Open(snap.AccessLog, stdout, stderr); err != nil {
		s.connLog.Close()
		return nil, fmt.Errorf("access log %s: %w", snap.AccessLog, err)
	}
	for _, l := range snap.Listeners {
		if err := s.bind(l); err != nil {
			s.Shutdown(context.Background())
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) bind(l *Listener) error {
	if l.Protocol == "HTTPS" && l.TLS == nil {
		return fmt.Errorf("listeners[%d]: HTTPS listener has no TLS configuration", l.Index)
	}
	inner, err := net.Listen("tcp", l.Addr())
	if err != nil {
		return fmt.Errorf("listeners[%d]: %w", l.Index, err)
	}
	var cfgFn func() *tls.Config
	if l.TLS != nil {
		cfg := l.TLS
		cfgFn = func() *tls.Config { return cfg }
	}
	port := l.Port
	if port == 0 {
		port = inner.Addr().(*net.TCPAddr).Port
	}
	tl := tlsterm.NewListener(inner, cfgFn, 0, func(r *tlsterm.Result) { s.logConn(r, port) })
	srv := &http.Server{
		Handler:           s.accessLog(l, port, l.Handler),
		ConnContext:       connContext,
		ReadHeaderTimeout: 60 * time.Second,
		IdleTimeout:       time.Duration(s.snap.Config.IdleTimeoutSeconds) * time.Second, // ALB's idle timeout
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if l.TLS != nil {
		// Serve enables HTTP/2 only when TLSConfig offers h2; the
		// handshake itself is done by tlsterm with l.TLS.
		srv.TLSConfig = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	}
	s.listeners = append(s.listeners, tl)
	s.https = append(s.https, srv)
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := srv.Serve(tl); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("listener stopped", "listener", l.Index, "err", err)
		}
	}()
	return nil
}

// Addrs returns the bound address of each listener, in config order.
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.Addr()
	}
	return out
}

// Snapshot returns the snapshot being served.
func (s *Server) Snapshot() *Snapshot { return s.snap }

// logConn writes the connection-log line for one connection attempt.
func (s *Server) logConn(r *tlsterm.Result, listenerPort int) {
	rec := logfmt.ConnRecord{
		Time:         r.End,
		ClientAddr:   r.Remote,
		ListenerPort: listenerPort,
		Latency:      -1,
		Status:       r.Status.String(),
		TraceID:      r.TraceID,
		ELB:          s.snap.ELB,
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
	bp := s.bufs.Get().(*[]byte)
	*bp = logfmt.AppendConn((*bp)[:0], &rec)
	s.connLog.Write(*bp)
	s.bufs.Put(bp)
}

// Shutdown stops accepting, lets in-flight requests finish until ctx ends,
// waits for handshakes in progress (each is bounded by the handshake
// timeout) and flushes and closes every log.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	// http.Server.Shutdown closes its listener first, so Serve returns
	// ErrServerClosed, then waits for in-flight requests.
	for _, h := range s.https {
		if err := h.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			h.Close()
		}
	}
	for _, l := range s.listeners {
		l.Close()
		l.Wait()
	}
	s.serveWG.Wait()
	if s.connLog != nil {
		errs = append(errs, s.connLog.Close())
	}
	if s.accessLogSink != nil {
		errs = append(errs, s.accessLogSink.Close())
	}
	s.snap.Close()
	return errors.Join(errs...)
}
