// Package gcfloor gives Go's garbage collector a floor of headroom above
// the live heap.
//
// With the default GOGC=100 the collector runs whenever the heap doubles.
// A proxy serving keep-alive requests has a tiny live heap (a few MB) and
// a high allocation rate, so it collects dozens of times a second and
// spends 5-10 % of its CPU doing so. Raising GOGC for everyone would
// multiply the memory of a server holding many idle connections, where the
// live heap is large and garbage is rare. A fixed floor fixes the cheap
// case only: the goal becomes max(2 × live, live + headroom), so at most
// headroom bytes are added to the footprint. It is the "GC ballast" trick
// without the ballast, and the minimum heap goal golang/go#23044 asked for.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Floor adjusts GOGC after every collection; Stop ends it.
type Floor struct {
	headroom uint64
	stopped  atomic.Bool
	percent  int
	sample   []metrics.Sample
}

// sentinel carries the finalizer that runs once per GC cycle. It holds a
// pointer, so it is never tiny-allocated (finalizers on tiny objects may
// run late or never).
type sentinel struct{ f *Floor }

// Start keeps the collector's goal at least headroom bytes above the live
// heap. It does nothing, and returns nil, when the user set GOGC: an
// explicit setting wins.
func Start(headroom uint64) *Floor {
	if os.Getenv("GOGC") != "" || headroom == 0 {
		return nil
	}
	f := &Floor{headroom: headroom, percent: 100,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	f.adjust()
	f.arm()
	return f
}

// Stop restores GOGC=100.
func (f *Floor) Stop() {
	if f == nil || f.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(100)
}

func (f *Floor) arm() {
	runtime.SetFinalizer(&sentinel{f: f}, func(s *sentinel) {
		if s.f.stopped.Load() {
			return
		}
		s.f.adjust()
		s.f.arm()
	})
}

// adjust runs on the finalizer goroutine, one at a time.
func (f *Floor) adjust() {
	metrics.Read(f.sample)
	live := uint64(0)
	if f.sample[0].Value.Kind() == metrics.KindUint64 {
		live = f.sample[0].Value.Uint64()
	}
	p := Percent(live, f.headroom)
	// Small changes are not worth a call (it takes the heap lock).
	if p == f.percent || p > f.percent && p < f.percent+f.percent/8 || p < f.percent && p > f.percent-f.percent/8 {
		return
	}
	f.percent = p
	debug.SetGCPercent(p)
}

// Percent is the GOGC that puts the collector's goal about headroom bytes
// above live, never below Go's default of 100. Before the first collection
// (live unknown) it is 100.
//
// The runtime also keeps a minimum goal of 4 MB × GOGC/100, so a large
// GOGC over a tiny heap would overshoot; the result is capped where that
// minimum reaches live + headroom.
func Percent(live, headroom uint64) int {
	if live == 0 {
		return 100
	}
	p := min(headroom*100/live, (live+headroom)*100/minHeap)
	return int(max(p, 100))
}

// minHeap is the runtime's minimum heap goal at GOGC=100.
const minHeap = 4 << 20
