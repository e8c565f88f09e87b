package idle

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Limits returns the idle and header timeouts in force; 0 disables one.
// It is asked on every tick, so a reload applies new values to
// connections already open.
type Limits func() (idle, header time.Duration)

// Watchdog enforces the idle and header timeouts of every connection and
// HTTP/2 stream it watches, with one goroutine per server.
//
// A connection that stays Idle past the idle timeout, or in Headers past
// the header timeout, is closed. A connection or HTTP/2 stream that is
// serving a request (Busy) is also closed when its client stops sending
// the request body or stops reading the response for the idle timeout
// (ALB: "the period of time an existing client or target connection can
// remain inactive, with no data being sent or received, before the load
// balancer closes the connection"); a request whose body stalled first has
// its read cut (a read deadline in the past; Conn.Stalled then reports
// it), so it can answer ALB's 408. Waiting for a target's response headers is not the
// client's idleness: the target's own timeout (504) covers it.
//
// A timeout never fires early and at most three ticks (3/32 of the
// timeout, at most 3 s) late; a stall is seen at most two ticks after the
// timeout, and a request that does not answer its cut read is closed two
// ticks later.
type Watchdog struct {
	clockMs atomic.Int64 // Unix milliseconds as of the last tick
	limits  Limits

	mu      sync.Mutex
	conns   map[*Activity]*Conn // watched connections, by their Activity
	streams map[*Stream]struct{}

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Conn is one connection the Watchdog watches. The exported fields are
// set before Add and not changed after; a server may embed a Conn in its
// own per-connection state (edge's HTTP/1 connections do), so watching a
// connection costs no allocation.
type Conn struct {
	// Activity is the connection's state, which the HTTP layer keeps.
	Activity *Activity
	// Conn is closed when a timeout expires, and gets a read deadline in
	// the past when its request's body stalls.
	Conn net.Conn
	// Progress is the request's progress while the connection is Busy
	// (HTTP/1); nil for HTTP/2, whose requests are watched per Stream.
	Progress *Progress
	// Limits are this connection's timeouts (those of its listener's load
	// balancer); nil uses the Watchdog's.
	Limits Limits

	stalled atomic.Bool
	stall   // the sweeper's (under Watchdog.mu)
}

// Stalled reports that the Watchdog cut the read of a request whose client
// stopped sending its body: the connection must close once that request's
// response is out (net/http would keep it for another request, with the
// body's rest still to come).
func (c *Conn) Stalled() bool { return c.stalled.Load() }

// Stream is an HTTP/2 request being served, from AddStream to
// RemoveStream. Its handler counts the stream's reads and writes in
// Progress.
type Stream struct {
	Progress Progress
	rw       http.ResponseWriter // net/http's, for its deadlines
	limits   Limits
	mu       sync.Mutex
	done     bool // the handler is returning: rw must not be touched
	stall         // the sweeper's (under Watchdog.mu)
}

// New starts a Watchdog; limits are the timeouts of connections and
// streams without their own, and the shortest of them sets the tick. Close
// stops it.
func New(limits Limits) *Watchdog {
	w := &Watchdog{limits: limits, conns: map[*Activity]*Conn{}, streams: map[*Stream]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	w.clockMs.Store(time.Now().UnixMilli())
	go w.run()
	return w
}

// Now is the sweeper's clock (Unix milliseconds, advanced every tick):
// what Activity.Set is stamped with, without reading the clock.
func (w *Watchdog) Now() int64 { return w.clockMs.Load() }

// Add watches c until Remove(c.Activity). Set c.Activity first.
func (w *Watchdog) Add(c *Conn) {
	since := time.Now().UnixMilli() // the sweeper's clock may be a tick old
	w.mu.Lock()
	c.stall = stall{since: since}
	w.conns[c.Activity] = c
	w.mu.Unlock()
}

// Remove stops watching the connection of a (closed or hijacked).
func (w *Watchdog) Remove(a *Activity) {
	w.mu.Lock()
	delete(w.conns, a)
	w.mu.Unlock()
}

// AddStream watches an HTTP/2 request answered through rw until
// RemoveStream; limits are its timeouts (nil: the Watchdog's).
func (w *Watchdog) AddStream(rw http.ResponseWriter, limits Limits) *Stream {
	s := &Stream{rw: rw, limits: limits}
	s.since = time.Now().UnixMilli() // the sweeper's clock may be a tick old
	w.mu.Lock()
	w.streams[s] = struct{}{}
	w.mu.Unlock()
	return s
}

// RemoveStream ends AddStream; after it the sweeper no longer touches the
// stream's ResponseWriter (net/http forbids it once the handler has
// returned).
func (w *Watchdog) RemoveStream(s *Stream) {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	w.mu.Lock()
	delete(w.streams, s)
	w.mu.Unlock()
}

// tick is how often the sweeper looks: 1/32 of the shorter timeout,
// between 10 ms and 1 s.
func tick(idle, header time.Duration) time.Duration {
	d := time.Second
	for _, t := range []time.Duration{idle, header} {
		if t > 0 {
			d = min(d, t/32)
		}
	}
	return max(d, 10*time.Millisecond)
}

func (w *Watchdog) run() {
	defer close(w.done)
	var expired, nudged []net.Conn
	var streams []streamAction
	for {
		idle, header := w.limits()
		t := tick(idle, header)
		select {
		case <-w.stop:
			return
		case <-time.After(t):
		}
		now := time.Now().UnixMilli()
		w.clockMs.Store(now)
		// A stamp can be up to one tick older than the event it marks:
		// allow for it so nothing closes early.
		slack := t.Milliseconds()
		expired, nudged, streams = expired[:0], nudged[:0], streams[:0]
		w.mu.Lock()
		for a, c := range w.conns {
			idle, header := idle, header
			if c.Limits != nil {
				idle, header = c.Limits()
			}
			state, since := a.Get()
			var limit time.Duration
			switch state {
			case Arrived:
				a.CompareAndSet(state, since, Headers, now)
			case Idle:
				limit = idle
			case Headers:
				limit = header
			case Busy:
				if c.Progress == nil || idle <= 0 {
					break // HTTP/2: per stream, below
				}
				switch nudge, close := c.check(c.Progress, now, idle.Milliseconds(), slack); {
				case close:
					expired = append(expired, c.Conn)
				case nudge:
					c.stalled.Store(true)
					nudged = append(nudged, c.Conn)
				}
			}
			if limit > 0 && now-since > limit.Milliseconds()+slack && a.CompareAndSet(state, since, Busy, now) {
				expired = append(expired, c.Conn) // marked busy: closed once
			}
		}
		for s := range w.streams {
			idle := idle
			if s.limits != nil {
				idle, _ = s.limits()
			}
			if idle <= 0 {
				continue
			}
			if nudge, close := s.check(&s.Progress, now, idle.Milliseconds(), slack); nudge || close {
				streams = append(streams, streamAction{s, close})
			}
		}
		w.mu.Unlock()
		for _, c := range expired {
			c.Close()
		}
		past := time.Unix(0, 1)
		for _, c := range nudged {
			// A body read fails (the request answers 408); a request that
			// was not reading is closed two ticks later.
			c.SetReadDeadline(past)
		}
		for _, a := range streams {
			a.s.mu.Lock()
			if !a.s.done {
				rc := http.NewResponseController(a.s.rw)
				if a.close {
					rc.SetWriteDeadline(past) // resets the stream
				} else {
					rc.SetReadDeadline(past)
				}
			}
			a.s.mu.Unlock()
		}
	}
}

type streamAction struct {
	s     *Stream
	close bool
}

// Close stops the sweeper; closing again does nothing.
func (w *Watchdog) Close() {
	w.closeOnce.Do(func() { close(w.stop) })
	<-w.done
}
