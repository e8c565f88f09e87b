// Package idle is the state machine behind ALB's idle timeout
// (idle_timeout.timeout_seconds) and edge's header timeout
// (client_header_timeout_seconds) on client connections: what each
// connection is doing (Activity), whether a request's client still moves
// bytes (Progress), and one sweeper per server (Watchdog) that closes the
// connections past their timeout.
//
// net/http would enforce both by moving the connection's read deadline
// three or four times per keep-alive request, each a runtime timer update,
// and with timers pending the scheduler reads the clock on every switch:
// about 3 % of a keep-alive request on the benchmark machine. Here a
// request costs two atomic stores (Activity, stamped with a clock the
// sweeper advances) and a check per read.
//
// The HTTP server drives it: it sets a connection's Activity as net/http
// reports connection states (http.Server.ConnState), counts the
// connection's or stream's reads and writes in a Progress, and the
// forwarder marks the round trip to a target. This package knows nothing
// of HTTP beyond http.ResponseController for HTTP/2 streams.
package idle

import "sync/atomic"

// State is what the HTTP layer is doing with a connection.
type State int64

// Connection states.
const (
	// Headers: waiting for, or reading, a request's headers; the header
	// timeout applies.
	Headers State = iota
	// Busy: a request is being served (or an HTTP/2 stream is open); the
	// idle timeout applies to its Progress.
	Busy
	// Idle: between requests; the idle timeout applies.
	Idle
	// Arrived: bytes of a new request arrived while Idle (Arrive); the
	// sweeper turns it into Headers, stamped with its clock, so a read
	// never reads the clock.
	Arrived
)

func (s State) String() string {
	switch s {
	case Headers:
		return "headers"
	case Busy:
		return "busy"
	case Idle:
		return "idle"
	case Arrived:
		return "arrived"
	}
	return "unknown"
}

// Activity records a connection's State and since when (Unix
// milliseconds). State and time share one word, so a reader never sees one
// without the other. The zero value is Headers since the epoch: Set it
// before the Watchdog watches the connection.
type Activity struct{ v atomic.Int64 }

// Set records state as of nowMs (Unix milliseconds).
func (a *Activity) Set(state State, nowMs int64) { a.v.Store(nowMs<<2 | int64(state)) }

// Get returns the state and when it began (Unix milliseconds).
func (a *Activity) Get() (state State, sinceMs int64) {
	v := a.v.Load()
	return State(v & 3), v >> 2
}

// CompareAndSet replaces state as of sinceMs with next as of nowMs, unless
// something changed it meanwhile.
func (a *Activity) CompareAndSet(state State, sinceMs int64, next State, nowMs int64) bool {
	return a.v.CompareAndSwap(sinceMs<<2|int64(state), nowMs<<2|int64(next))
}

// Arrive marks an Idle connection whose next request starts arriving
// (Idle → Arrived, keeping the time), so its header timeout starts then.
// Any other state is left alone. The connection's reader calls it for
// every read that returned bytes: one atomic load when not Idle.
func (a *Activity) Arrive() {
	if v := a.v.Load(); State(v&3) == Idle {
		a.v.CompareAndSwap(v, v&^3|int64(Arrived))
	}
}
