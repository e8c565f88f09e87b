package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"edge/internal/config"
	"edge/internal/proxy"
)

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
	return s.reload(cfg, slog.LevelInfo)
}

// Reload builds cfg completely, then swaps it in. On any error the old
// state keeps serving, the failure is logged and counted, and the error
// (a config.Problems for configuration mistakes) is returned. Success is
// logged at DEBUG: the caller (the AWS endpoint's applier) says what
// changed; ReloadFromSource (SIGHUP, POST /reload, file watching) logs
// "configuration reloaded" at INFO.
func (s *Server) Reload(cfg *config.Config) error {
	return s.reload(cfg, slog.LevelDebug)
}

func (s *Server) reload(cfg *config.Config, level slog.Level) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	err := s.reloadLocked(cfg)
	if err != nil {
		s.metrics.ConfigReloads.WithLabelValues("failure").Inc()
		s.logReloadFailure(err)
		return err
	}
	s.metrics.ConfigReloads.WithLabelValues("success").Inc()
	if cfg.File != "" {
		s.log.Log(context.Background(), level, "configuration reloaded", "file", cfg.File)
	} else {
		s.log.Log(context.Background(), level, "configuration reloaded")
	}
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
	opts.proxies = map[string]*proxy.Proxy{}
	for _, lb := range old.LoadBalancers {
		opts.proxies[lb.Name] = lb.Proxy
	}
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
	// From here nothing fails: point the load balancers' logs at the new
	// sinks (all open) before any connection can take a new binding.
	s.routeLogs(snap, lg)
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
	s.logDevCertificates(snap)
	for _, lb := range snap.LoadBalancers { // hand the target connections over
		for _, olb := range old.LoadBalancers {
			if lb.Proxy == olb.Proxy {
				lb.ownsProxy, olb.ownsProxy = true, false
			}
		}
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
