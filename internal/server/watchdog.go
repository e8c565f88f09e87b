package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/reqinfo"
	"edge/internal/tlsterm"
)

// watchdog enforces the idle timeout (idle_timeout_seconds) and the header
// timeout (client_header_timeout_seconds) of every served connection.
//
// net/http would do it by moving the connection's read deadline three or
// four times per keep-alive request, each a runtime timer update, and with
// timers pending the scheduler reads the clock on every switch: about 3 %
// of a keep-alive request on the benchmark machine. Here each request
// costs two atomic stores (tlsterm.Activity, stamped with a clock the
// sweeper advances) and a check per read, and one goroutine per server
// closes connections that stayed idle or in their headers too long. A
// timeout never fires early and at most three ticks (3/32 of the
// timeout, at most 3 s) late.
//
// The settings are read from the current snapshot on every tick, so a
// reload applies them to connections already open.
//
// A connection or HTTP/2 stream that is serving a request is also closed
// when its client stops sending the request body or stops reading the
// response for the idle timeout (ALB: "the period of time an existing
// client or target connection can remain inactive, with no data being sent
// or received, before the load balancer closes the connection"); the
// request then gets ALB's 408 when its body stalled. Waiting for a target's
// response headers is not the client's idleness: the target's own timeout
// (504) covers it. Progress is counted per completed read or write; a
// stall is seen at most two ticks after the timeout, and a request that
// does not answer its cut read is closed two ticks later.
type watchdog struct {
	clockMs atomic.Int64 // Unix milliseconds as of the last tick
	// limits returns the idle and header timeouts in force.
	limits func() (idle, header time.Duration)

	mu      sync.Mutex
	conns   map[*tlsterm.Conn]*watched // raw connection → its state
	streams map[*stream]struct{}       // HTTP/2 streams being served

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// watched is one served connection. The fields after client belong to
// the sweeper (under watchdog.mu).
type watched struct {
	c      net.Conn    // what net/http serves
	client *clientConn // nil for HTTP/2
	stall
}

// stall is the sweeper's view of one connection's or stream's progress.
type stall struct {
	ops   uint64 // progress count at the last change
	since int64  // when the sweeper saw it change (Unix ms)
	// nudged is when the request's read was cut with a deadline (0: not
	// yet); if nothing moves within two ticks more, the connection or
	// stream is closed.
	nudged int64
}

// stream is an HTTP/2 request being served.
type stream struct {
	progress reqinfo.Progress
	rw       http.ResponseWriter // net/http's, for its deadlines
	mu       sync.Mutex
	done     bool // the handler is returning: rw must not be touched
	stall         // the sweeper's (under watchdog.mu)
}

func newWatchdog(limits func() (idle, header time.Duration)) *watchdog {
	w := &watchdog{limits: limits, conns: map[*tlsterm.Conn]*watched{}, streams: map[*stream]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	w.clockMs.Store(time.Now().UnixMilli())
	go w.run()
	return w
}

// rawConn returns the tlsterm.Conn under c (a clientConn, a *tls.Conn or
// the raw connection of a plain HTTP listener), or nil, and the
// clientConn.
func rawConn(c net.Conn) (*tlsterm.Conn, *clientConn) {
	if cc := clientOf(c); cc != nil {
		return cc.raw, cc
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	ec, _ := c.(*tlsterm.Conn)
	return ec, nil
}

// connState is the http.Server.ConnState hook's part for the watchdog.
func (w *watchdog) connState(c net.Conn, st http.ConnState) {
	ec, cc := rawConn(c)
	if ec == nil {
		return
	}
	switch st {
	case http.StateNew:
		// Until its first request, a connection is waiting for headers.
		ec.Activity.Set(tlsterm.ActHeaders, w.clockMs.Load())
		w.mu.Lock()
		w.conns[ec] = &watched{c: c, client: cc}
		w.mu.Unlock()
	case http.StateActive:
		// HTTP/1: a request's headers were read and its handler runs
		// next. HTTP/2: a stream opened.
		ec.Activity.Set(tlsterm.ActBusy, w.clockMs.Load())
	case http.StateIdle:
		if cc != nil {
			if cc.stalled.Load() {
				// Its body stalled: net/http would keep it for another
				// request, with the body's rest still to come.
				c.Close()
				return
			}
			// net/http has finished the response (and stopped reading):
			// the next head is counted from zero.
			cc.headBytes, cc.lineDone = 0, false
			cc.inHandler.Store(false)
		}
		ec.Activity.Set(tlsterm.ActIdle, w.clockMs.Load())
	case http.StateClosed, http.StateHijacked:
		w.mu.Lock()
		delete(w.conns, ec)
		w.mu.Unlock()
	}
}

// addStream watches an HTTP/2 request until removeStream.
func (w *watchdog) addStream(s *stream) {
	s.since = time.Now().UnixMilli() // the sweeper's clock may be a tick old
	w.mu.Lock()
	w.streams[s] = struct{}{}
	w.mu.Unlock()
}

// removeStream ends addStream; after it the sweeper no longer touches
// s.rw (net/http forbids it once the handler has returned).
func (w *watchdog) removeStream(s *stream) {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	w.mu.Lock()
	delete(w.streams, s)
	w.mu.Unlock()
}

// check advances st for a progress count seen now and reports what to do:
// nothing, nudge (cut a pending read with a deadline, so the request can
// answer 408), or close.
func (st *stall) check(p *reqinfo.Progress, now, idleMs, tickMs int64) (nudge, close bool) {
	if ops := p.Ops(); ops != st.ops || p.AwaitingTarget() {
		st.ops, st.since, st.nudged = ops, now, 0
		return false, false
	}
	// since is the sweeper's own clock when it saw the last change, never
	// earlier than the change: no allowance is needed.
	if now-st.since < idleMs {
		return false, false
	}
	switch {
	case p.Writing():
		return false, true // the client does not read: nothing to answer
	case st.nudged == 0:
		st.nudged = now
		return true, false
	default:
		return false, now-st.nudged > 2*tickMs
	}
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

func (w *watchdog) run() {
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
		for ec, wc := range w.conns {
			state, since := ec.Activity.Get()
			var limit time.Duration
			switch state {
			case tlsterm.ActArrived:
				ec.Activity.CompareAndSet(state, since, tlsterm.ActHeaders, now)
			case tlsterm.ActIdle:
				limit = idle
			case tlsterm.ActHeaders:
				limit = header
			case tlsterm.ActBusy:
				if wc.client == nil || idle <= 0 {
					break // HTTP/2: per stream, below
				}
				switch nudge, close := wc.check(&wc.client.progress, now, idle.Milliseconds(), slack); {
				case close:
					expired = append(expired, wc.c)
				case nudge:
					wc.client.stalled.Store(true)
					nudged = append(nudged, wc.c)
				}
			}
			if limit > 0 && now-since > limit.Milliseconds()+slack && ec.Activity.CompareAndSet(state, since, tlsterm.ActBusy, now) {
				expired = append(expired, wc.c) // marked busy: closed once
			}
		}
		if idle > 0 {
			for s := range w.streams {
				nudge, close := s.check(&s.progress, now, idle.Milliseconds(), slack)
				if nudge || close {
					streams = append(streams, streamAction{s, close})
				}
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
	s     *stream
	close bool
}

// Close stops the sweeper.
func (w *watchdog) Close() {
	w.closeOnce.Do(func() { close(w.stop) })
	<-w.done
}
