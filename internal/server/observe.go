package server

import (
	"edge/internal/logfmt"
	"edge/internal/tlsterm"
)

// Observer sees every connection attempt and every request as edge logs
// them; the web console's live feed is one. Its methods run on the hot
// path, in the connection's own goroutine, once per connection attempt
// and once per access-log line: they must return at once, never block
// (publish to a bounded buffer and drop when it is full) and keep none of
// the pointers they are given past the call. A Verdict may be kept: its
// Explanation is safe to share.
type Observer interface {
	// ObserveConnection is called after the connection-log line of r was
	// built; v is what /connections/recent shows for it (passed by value:
	// a pointer would cost every connection an allocation).
	ObserveConnection(v Verdict, r *tlsterm.Result)
	// ObserveRequest is called with each access-log record.
	ObserveRequest(rec *logfmt.AccessRecord)
}

type observerBox struct{ o Observer }

// SetObserver makes o see every connection and request from now on; nil
// removes it. Without an observer the hot paths pay one atomic load.
func (s *Server) SetObserver(o Observer) {
	if o == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&observerBox{o})
}

func (s *Server) observeConn(v Verdict, r *tlsterm.Result) {
	if b := s.observer.Load(); b != nil {
		b.o.ObserveConnection(v, r)
	}
}

func (s *Server) observeRequest(rec *logfmt.AccessRecord) {
	if b := s.observer.Load(); b != nil {
		b.o.ObserveRequest(rec)
	}
}
