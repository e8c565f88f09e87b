package server

import (
	"sync"
	"time"
)

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
