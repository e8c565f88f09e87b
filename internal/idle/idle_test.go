package idle

import (
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestActivity(t *testing.T) {
	var a Activity
	a.Set(Idle, 1000)
	if s, since := a.Get(); s != Idle || since != 1000 {
		t.Fatalf("Get = %v, %d; want idle, 1000", s, since)
	}
	if a.CompareAndSet(Headers, 1000, Busy, 2000) {
		t.Error("CompareAndSet succeeded from the wrong state")
	}
	if a.CompareAndSet(Idle, 999, Busy, 2000) {
		t.Error("CompareAndSet succeeded from the wrong time")
	}
	a.Arrive()
	if s, since := a.Get(); s != Arrived || since != 1000 {
		t.Errorf("after Arrive: %v, %d; want arrived, 1000 (time kept)", s, since)
	}
	if !a.CompareAndSet(Arrived, 1000, Headers, 3000) {
		t.Error("CompareAndSet from the current state failed")
	}
	a.Arrive() // not idle: nothing changes
	if s, since := a.Get(); s != Headers || since != 3000 {
		t.Errorf("Arrive changed a connection in its headers: %v, %d", s, since)
	}
	for s, want := range map[State]string{Headers: "headers", Busy: "busy", Idle: "idle", Arrived: "arrived", 7: "unknown"} {
		if s.String() != want {
			t.Errorf("State(%d).String() = %q", s, s.String())
		}
	}
	// Times of today fit beside the state.
	now := time.Now().UnixMilli()
	a.Set(Busy, now)
	if s, since := a.Get(); s != Busy || since != now {
		t.Errorf("Get = %v, %d; want busy, %d", s, since, now)
	}
}

func TestProgress(t *testing.T) {
	var nilP *Progress
	nilP.Op() // a request nobody watches
	var p Progress
	p.Op()
	p.Op()
	if p.Ops() != 2 {
		t.Errorf("Ops = %d; want 2", p.Ops())
	}
	p.BeginWrite()
	if !p.Writing() {
		t.Error("Writing false inside BeginWrite/EndWrite")
	}
	p.EndWrite()
	if p.Writing() {
		t.Error("Writing true after EndWrite")
	}
	p.StartRoundTrip(false)
	if p.AwaitingTarget() {
		t.Error("awaiting the target while the body is still being read")
	}
	p.BodyDone()
	if !p.AwaitingTarget() {
		t.Error("not awaiting the target once the body is read")
	}
	p.EndRoundTrip()
	if p.AwaitingTarget() {
		t.Error("awaiting the target after its response headers")
	}
	p.StartRoundTrip(true)
	if !p.AwaitingTarget() {
		t.Error("a request without a body is not awaiting its target")
	}
}

func TestTick(t *testing.T) {
	for _, tc := range []struct{ idle, header, want time.Duration }{
		{60 * time.Second, 60 * time.Second, time.Second},
		{3200 * time.Millisecond, 60 * time.Second, 100 * time.Millisecond},
		{60 * time.Second, 320 * time.Millisecond, 10 * time.Millisecond},
		{100 * time.Millisecond, 0, 10 * time.Millisecond},
		{0, 0, time.Second},
	} {
		if got := tick(tc.idle, tc.header); got != tc.want {
			t.Errorf("tick(%v, %v) = %v; want %v", tc.idle, tc.header, got, tc.want)
		}
	}
}

// The stall rules: progress or a request with its target resets the
// count; past the idle timeout a reader is nudged, then closed two ticks
// later; a writer the client does not read is closed at once.
func TestStallCheck(t *testing.T) {
	var p Progress
	var st stall
	const idleMs, tickMs = 1000, 30
	if n, c := st.check(&p, 0, idleMs, tickMs); n || c {
		t.Fatal("acted at the start")
	}
	if n, c := st.check(&p, 999, idleMs, tickMs); n || c {
		t.Error("acted before the idle timeout")
	}
	p.Op()
	if n, c := st.check(&p, 1500, idleMs, tickMs); n || c {
		t.Error("acted right after progress")
	}
	if n, c := st.check(&p, 2500, idleMs, tickMs); !n || c {
		t.Errorf("at the timeout: nudge %v close %v; want a nudge", n, c)
	}
	if n, c := st.check(&p, 2500+2*tickMs, idleMs, tickMs); n || c {
		t.Error("closed within two ticks of the nudge")
	}
	if n, c := st.check(&p, 2500+2*tickMs+1, idleMs, tickMs); n || !c {
		t.Error("not closed two ticks after the nudge")
	}

	st = stall{}
	p.StartRoundTrip(true)
	if n, c := st.check(&p, 10_000, idleMs, tickMs); n || c {
		t.Error("acted while the request waits for its target")
	}
	p.EndRoundTrip()
	p.BeginWrite()
	if n, c := st.check(&p, 20_000, idleMs, tickMs); n || !c {
		t.Error("a write the client does not read was not closed")
	}
}

// pipeConn is one end of a net.Pipe that records Close and read deadlines.
type pipeConn struct {
	net.Conn
	closed   atomic.Bool
	deadline atomic.Bool
}

func (c *pipeConn) Close() error { c.closed.Store(true); return c.Conn.Close() }
func (c *pipeConn) SetReadDeadline(t time.Time) error {
	c.deadline.Store(true)
	return c.Conn.SetReadDeadline(t)
}

func newPipe(t *testing.T) *pipeConn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &pipeConn{Conn: a}
}

// eventually waits (a generous bound) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 5 s", what)
}

func limits(idle, header time.Duration) Limits {
	return func() (time.Duration, time.Duration) { return idle, header }
}

// An idle connection closes after the idle timeout, one in its headers
// after the header timeout, each at the Watchdog's own limits or the
// connection's.
func TestWatchdogClosesIdleAndSlowConnections(t *testing.T) {
	w := New(limits(200*time.Millisecond, 300*time.Millisecond))
	defer w.Close()
	start := time.Now()
	idle, headers, own := newPipe(t), newPipe(t), newPipe(t)
	var ai, ah, ao Activity
	ai.Set(Idle, w.Now())
	ah.Set(Headers, w.Now())
	ao.Set(Idle, w.Now())
	w.Add(&Conn{Activity: &ai, Conn: idle})
	w.Add(&Conn{Activity: &ah, Conn: headers})
	w.Add(&Conn{Activity: &ao, Conn: own, Limits: limits(time.Hour, time.Hour)})
	eventually(t, "idle connection closed", idle.closed.Load)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("idle connection closed after %v, before its 200 ms timeout", d)
	}
	eventually(t, "connection in its headers closed", headers.closed.Load)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("connection in its headers closed after %v, before its 300 ms timeout", d)
	}
	if own.closed.Load() {
		t.Error("a connection with its own hour-long limits was closed")
	}
	if s, _ := ai.Get(); s != Busy {
		t.Errorf("an expired connection is %v; want busy (closed once)", s)
	}
}

// Bytes arriving on an idle connection start its header timeout, stamped
// by the sweeper; a removed connection is left alone.
func TestWatchdogArrivedAndRemove(t *testing.T) {
	w := New(limits(time.Hour, 200*time.Millisecond))
	defer w.Close()
	c, removed := newPipe(t), newPipe(t)
	var a, ar Activity
	a.Set(Idle, w.Now())
	ar.Set(Headers, w.Now())
	w.Add(&Conn{Activity: &a, Conn: c})
	w.Add(&Conn{Activity: &ar, Conn: removed})
	w.Remove(&ar)
	a.Arrive()
	eventually(t, "arrived request closed by the header timeout", c.closed.Load)
	time.Sleep(100 * time.Millisecond)
	if removed.closed.Load() {
		t.Error("a removed connection was closed")
	}
}

// A busy HTTP/1 request whose client stops sending has its read cut
// (Stalled), then the connection closes if nothing moves; one whose
// client keeps sending stays.
func TestWatchdogStalledRequest(t *testing.T) {
	w := New(limits(150*time.Millisecond, time.Hour))
	defer w.Close()
	stalled, moving := newPipe(t), newPipe(t)
	var as, am Activity
	var ps, pm Progress
	as.Set(Busy, w.Now())
	am.Set(Busy, w.Now())
	cs := &Conn{Activity: &as, Conn: stalled, Progress: &ps}
	w.Add(cs)
	w.Add(&Conn{Activity: &am, Conn: moving, Progress: &pm})
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				pm.Op()
			}
		}
	}()
	defer close(done)
	eventually(t, "stalled request's read cut", stalled.deadline.Load)
	if !cs.Stalled() {
		t.Error("Stalled() false after the read was cut")
	}
	var buf [1]byte
	if _, err := stalled.Read(buf[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after the cut: %v; want a deadline error", err)
	}
	eventually(t, "stalled connection closed", stalled.closed.Load)
	if moving.closed.Load() || moving.deadline.Load() {
		t.Error("a request whose client keeps sending was cut")
	}
}

// streamWriter is an HTTP/2 stream's ResponseWriter with deadlines.
type streamWriter struct {
	http.ResponseWriter
	mu          sync.Mutex
	read, write bool
}

func (s *streamWriter) SetReadDeadline(time.Time) error {
	s.mu.Lock()
	s.read = true
	s.mu.Unlock()
	return nil
}

func (s *streamWriter) SetWriteDeadline(time.Time) error {
	s.mu.Lock()
	s.write = true
	s.mu.Unlock()
	return nil
}

func (s *streamWriter) got() (read, write bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read, s.write
}

// HTTP/2 streams are watched one by one: a silent reader gets a read
// deadline, a writer the client does not read a write deadline (which
// resets the stream), a removed stream nothing.
func TestWatchdogStreams(t *testing.T) {
	w := New(limits(150*time.Millisecond, time.Hour))
	defer w.Close()
	reader, writer, removed := &streamWriter{}, &streamWriter{}, &streamWriter{}
	w.AddStream(reader, nil)
	ws := w.AddStream(writer, nil)
	ws.Progress.BeginWrite()
	w.RemoveStream(w.AddStream(removed, nil))
	eventually(t, "silent stream's read cut", func() bool { r, _ := reader.got(); return r })
	eventually(t, "unread stream reset", func() bool { _, wr := writer.got(); return wr })
	if r, wr := removed.got(); r || wr {
		t.Error("a removed stream was touched")
	}
	own := &streamWriter{}
	w.AddStream(own, limits(time.Hour, time.Hour))
	time.Sleep(300 * time.Millisecond)
	if r, wr := own.got(); r || wr {
		t.Error("a stream with its own hour-long idle timeout was cut")
	}
}

func TestWatchdogCloseTwice(t *testing.T) {
	w := New(limits(time.Second, time.Second))
	w.Close()
	w.Close()
}
