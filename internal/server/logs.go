package server

import (
	"fmt"
	"sync/atomic"

	"edge/internal/certfmt"
	"edge/internal/logfmt"
	"edge/internal/tlsterm"
)

// sinks are the open log destinations of the snapshot being served, each
// opened once however many load balancers write to it. Immutable once
// published (Server.logs).
type sinks struct {
	open map[logfmt.Destination]logfmt.Sink
}

// lbLog is where one load balancer's lines go. It is made once per load
// balancer name for the server's life, so a connection keeps writing to
// its load balancer's current destinations whatever reloads happen; a
// reload points it at the new sinks (a removed load balancer's at the
// default's).
type lbLog struct{ cur atomic.Pointer[lbSinks] }

type lbSinks struct{ conn, access logfmt.Sink }

// lbLog returns the log of the load balancer named; under reloadMu (or
// before serving).
func (s *Server) lbLog(name string) *lbLog {
	l := s.lbLogs[name]
	if l == nil {
		l = &lbLog{}
		s.lbLogs[name] = l
	}
	return l
}

// openLogs opens the destinations of the snapshot's load balancers,
// reusing prev's sinks for destinations that did not change. On error it
// closes what it opened.
func (s *Server) openLogs(snap *Snapshot, prev *sinks) (*sinks, error) {
	lg := &sinks{open: map[logfmt.Destination]logfmt.Sink{}}
	for _, lb := range snap.LoadBalancers {
		for _, d := range [...]logfmt.Destination{lb.ConnLog, lb.AccessLog} {
			if _, ok := lg.open[d]; ok {
				continue
			}
			if prev != nil {
				if sk, ok := prev.open[d]; ok {
					lg.open[d] = sk
					continue
				}
			}
			kind := "access"
			if d.Layout.Connection {
				kind = "connection"
			}
			sk, err := s.openSink(d, kind)
			if err != nil {
				if prev != nil {
					closeNew(lg, prev)
				} else {
					closeNew(lg, &sinks{})
				}
				return nil, fmt.Errorf("%s log %s: %w", kind, d, err)
			}
			lg.open[d] = sk
		}
	}
	return lg, nil
}

// routeLogs points every load balancer's lbLog at its sinks in lg; load
// balancers the snapshot no longer has (whose connections may still be
// open) write to the default load balancer's. Under reloadMu (or before
// serving).
func (s *Server) routeLogs(snap *Snapshot, lg *sinks) {
	cur := map[string]bool{}
	for _, lb := range snap.LoadBalancers {
		s.lbLog(lb.Name).cur.Store(&lbSinks{conn: lg.open[lb.ConnLog], access: lg.open[lb.AccessLog]})
		cur[lb.Name] = true
	}
	def := s.lbLog(snap.LoadBalancers[0].Name).cur.Load()
	for name, l := range s.lbLogs {
		if !cur[name] {
			l.cur.Store(def)
		}
	}
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
		ELB:          bd.l.LoadBalancer.ELB,
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
	bd.log.cur.Load().conn.Write(*bp)
	s.bufs.Put(bp)
}

// ReopenLogs makes file: log destinations close their file and open their
// path again before the next line (logrotate's convention; SIGHUP calls
// it). Other destinations are unaffected.
func (s *Server) ReopenLogs() {
	for _, sink := range s.logs.Load().open {
		if r, ok := sink.(interface{ Reopen() }); ok {
			r.Reopen()
		}
	}
}

// closeNew closes the sinks of lg that other does not share.
func closeNew(lg, other *sinks) {
	shared := make(map[logfmt.Sink]bool, len(other.open))
	for _, sk := range other.open {
		shared[sk] = true
	}
	for _, sk := range lg.open {
		if !shared[sk] {
			shared[sk] = true // close once
			sk.Close()
		}
	}
}

// closeAllSinks closes every sink of lg once, returning their errors.
func closeAllSinks(lg *sinks) []error {
	var errs []error
	done := map[logfmt.Sink]bool{}
	for _, sk := range lg.open {
		if !done[sk] {
			done[sk] = true
			errs = append(errs, sk.Close())
		}
	}
	return errs
}
