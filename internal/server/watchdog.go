package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

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
// timeout never fires early and at most three ticks (3/16 of the
// timeout, at most 3 s) late.
//
// The settings are read from the current snapshot on every tick, so a
// reload applies them to connections already open.
type watchdog struct {
	clockMs atomic.Int64 // Unix milliseconds as of the last tick
	// limits returns the idle and header timeouts in force.
	limits func() (idle, header time.Duration)

	mu    sync.Mutex
	conns map[*tlsterm.Conn]net.Conn // raw connection → what net/http serves

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newWatchdog(limits func() (idle, header time.Duration)) *watchdog {
	w := &watchdog{limits: limits, conns: map[*tlsterm.Conn]net.Conn{}, stop: make(chan struct{}), done: make(chan struct{})}
	w.clockMs.Store(time.Now().UnixMilli())
	go w.run()
	return w
}

// rawConn returns the tlsterm.Conn under c (a *tls.Conn or the raw
// connection of a plain HTTP listener), or nil.
func rawConn(c net.Conn) *tlsterm.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	ec, _ := c.(*tlsterm.Conn)
	return ec
}

// connState is the http.Server.ConnState hook's part for the watchdog.
func (w *watchdog) connState(c net.Conn, st http.ConnState) {
	ec := rawConn(c)
	if ec == nil {
		return
	}
	switch st {
	case http.StateNew:
		// Until its first request, a connection is waiting for headers.
		ec.Activity.Set(tlsterm.ActHeaders, w.clockMs.Load())
		w.mu.Lock()
		w.conns[ec] = c
		w.mu.Unlock()
	case http.StateActive:
		// HTTP/1: a request's headers were read and its handler runs
		// next. HTTP/2: a stream opened.
		ec.Activity.Set(tlsterm.ActBusy, w.clockMs.Load())
	case http.StateIdle:
		ec.Activity.Set(tlsterm.ActIdle, w.clockMs.Load())
	case http.StateClosed, http.StateHijacked:
		w.mu.Lock()
		delete(w.conns, ec)
		w.mu.Unlock()
	}
}

// tick is how often the sweeper looks: 1/16 of the shorter timeout,
// between 10 ms and 1 s.
func tick(idle, header time.Duration) time.Duration {
	d := time.Second
	for _, t := range []time.Duration{idle, header} {
		if t > 0 {
			d = min(d, t/16)
		}
	}
	return max(d, 10*time.Millisecond)
}

func (w *watchdog) run() {
	defer close(w.done)
	var expired []net.Conn
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
		expired = expired[:0]
		w.mu.Lock()
		for ec, c := range w.conns {
			state, since := ec.Activity.Get()
			var limit time.Duration
			switch state {
			case tlsterm.ActArrived:
				ec.Activity.CompareAndSet(state, since, tlsterm.ActHeaders, now)
			case tlsterm.ActIdle:
				limit = idle
			case tlsterm.ActHeaders:
				limit = header
			}
			if limit > 0 && now-since > limit.Milliseconds()+slack && ec.Activity.CompareAndSet(state, since, tlsterm.ActBusy, now) {
				expired = append(expired, c) // marked busy: closed once
			}
		}
		w.mu.Unlock()
		for _, c := range expired {
			c.Close()
		}
	}
}

// Close stops the sweeper.
func (w *watchdog) Close() {
	w.closeOnce.Do(func() { close(w.stop) })
	<-w.done
}
