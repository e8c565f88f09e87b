package idle

import "sync/atomic"

// Progress tells a client that stopped sending or reading (which ALB's
// idle timeout closes) from a request that waits for its target (which
// the target's own timeout covers). The connection (HTTP/1) or stream
// (HTTP/2) counts its completed reads and writes with the client; the
// forwarder marks the round trip to the target. Safe for concurrent use;
// the zero value is ready.
type Progress struct {
	ops     atomic.Uint64
	writing atomic.Int32
	state   atomic.Uint32
}

const (
	roundTrip = 1 << iota // a request is with the target
	bodyDone              // and its body has been read completely
)

// Op counts one read or write that moved bytes. A nil Progress ignores it.
func (p *Progress) Op() {
	if p != nil {
		p.ops.Add(1)
	}
}

// Ops returns how many reads and writes moved bytes so far.
func (p *Progress) Ops() uint64 { return p.ops.Load() }

// BeginWrite and EndWrite bracket a write to the client, so a write the
// client does not read can be told apart from silence.
func (p *Progress) BeginWrite() { p.writing.Add(1) }

// EndWrite ends what BeginWrite began.
func (p *Progress) EndWrite() { p.writing.Add(-1) }

// Writing reports a write to the client in progress.
func (p *Progress) Writing() bool { return p.writing.Load() > 0 }

// StartRoundTrip marks a request sent to its target; bodyComplete tells
// that it has no body left to read from the client.
func (p *Progress) StartRoundTrip(bodyComplete bool) {
	if bodyComplete {
		p.state.Store(roundTrip | bodyDone)
	} else {
		p.state.Store(roundTrip)
	}
}

// BodyDone marks the client's request body read completely.
func (p *Progress) BodyDone() { p.state.Or(bodyDone) }

// EndRoundTrip marks the target's response headers in (or the attempt
// over).
func (p *Progress) EndRoundTrip() { p.state.Store(0) }

// AwaitingTarget reports a request fully read from the client and waiting
// for its target's response headers: the client is not the one idle.
func (p *Progress) AwaitingTarget() bool { return p.state.Load() == roundTrip|bodyDone }

// stall is the sweeper's view of one connection's or stream's progress.
type stall struct {
	ops   uint64 // progress count at the last change
	since int64  // when the sweeper saw it change (Unix ms)
	// nudged is when the request's read was cut with a deadline (0: not
	// yet); if nothing moves within two ticks more, the connection or
	// stream is closed.
	nudged int64
}

// check advances st for a progress count seen now and reports what to do:
// nothing, nudge (cut a pending read with a deadline, so the request can
// answer 408), or close.
func (st *stall) check(p *Progress, now, idleMs, tickMs int64) (nudge, close bool) {
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
