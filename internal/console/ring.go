package console

import (
	"sync"
	"sync/atomic"
)

// ring keeps the last len(slots) values put into it, numbered 1, 2, 3...
// Writers never wait for one another (each locks only its own slot) nor
// for readers beyond the copy of one slot.
type ring[T any] struct {
	last  atomic.Uint64 // the sequence number handed out last
	slots []slot[T]
	mask  uint64
}

type slot[T any] struct {
	mu  sync.Mutex
	seq uint64
	v   T
}

// newRing returns a ring of size entries; size must be a power of two.
func newRing[T any](size int) *ring[T] {
	if size <= 0 || size&(size-1) != 0 {
		panic("console: ring size must be a power of two")
	}
	return &ring[T]{slots: make([]slot[T], size), mask: uint64(size - 1)}
}

// put stores v and returns its sequence number.
func (r *ring[T]) put(v *T) uint64 {
	seq := r.last.Add(1)
	s := &r.slots[seq&r.mask]
	s.mu.Lock()
	if seq > s.seq { // a writer a whole lap behind must not overwrite newer
		s.seq, s.v = seq, *v
	}
	s.mu.Unlock()
	return seq
}

// get copies the value numbered seq into v; false when it is gone
// (overwritten) or not written yet.
func (r *ring[T]) get(seq uint64, v *T) bool {
	s := &r.slots[seq&r.mask]
	s.mu.Lock()
	ok := s.seq == seq
	if ok {
		*v = s.v
	}
	s.mu.Unlock()
	return ok
}

// window returns the oldest sequence number still held that is after
// after, and the newest.
func (r *ring[T]) window(after uint64) (from, to uint64) {
	to = r.last.Load()
	from = after + 1
	if n := uint64(len(r.slots)); to >= n && from < to-n+1 {
		from = to - n + 1
	}
	return from, to
}

// newest calls fn for the values after after, newest first, until fn
// returns false.
func (r *ring[T]) newest(after uint64, fn func(seq uint64, v *T) bool) {
	from, to := r.window(after)
	var v T
	for seq := to; seq >= from && seq > 0; seq-- {
		if r.get(seq, &v) && !fn(seq, &v) {
			return
		}
	}
}
