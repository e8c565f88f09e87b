package server

import (
	"fmt"

	"edge/internal/certfmt"
	"edge/internal/logfmt"
	"edge/internal/tlsterm"
)

type sinks struct {
	connDst, accessDst logfmt.Destination
	conn, access       logfmt.Sink
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
	s.recent.add(Verdict{Time: r.End, Listener: index, Client: r.Remote.String(), Status: r.Status.String(), Subject: rec.Subject, TraceID: r.TraceID})
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

// closeNew closes the sinks of lg that other does not share.
func closeNew(lg, other *sinks) {
	if lg.conn != other.conn {
		lg.conn.Close()
	}
	if lg.access != other.access {
		lg.access.Close()
	}
}
