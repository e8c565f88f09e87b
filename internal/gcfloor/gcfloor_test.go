package gcfloor

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		live, headroom uint64
		want           int
	}{
		{2 << 20, 16 << 20, 450},   // keep-alive load: capped where the 4 MB×GOGC/100 minimum meets live+headroom
		{8 << 20, 16 << 20, 200},   // goal 24 MB = live + headroom
		{16 << 20, 16 << 20, 100},  // the floor no longer matters
		{400 << 20, 16 << 20, 100}, // many idle connections: Go's default
		{0, 16 << 20, 100},         // before the first collection
		{1 << 10, 16 << 20, 400},
	} {
		if got := Percent(c.live, c.headroom); got != c.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", c.live, c.headroom, got, c.want)
		}
	}
}

func gogc() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestStartRaisesAndStopRestores checks the real runtime setting: with a
// small live heap a running Floor lifts GOGC well above 100, and Stop puts
// it back.
func TestStartRaisesAndStopRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	f := Start(64 << 20)
	if f == nil {
		t.Fatal("Start returned nil without GOGC set")
	}
	defer f.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for gogc() <= 100 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if g := gogc(); g <= 100 {
		t.Fatalf("GOGC = %d with a small live heap, want > 100", g)
	}
	f.Stop()
	if g := gogc(); g != 100 {
		t.Fatalf("GOGC after Stop = %d, want 100", g)
	}
}

func TestUserGOGCWins(t *testing.T) {
	t.Setenv("GOGC", "50")
	if f := Start(64 << 20); f != nil {
		f.Stop()
		t.Fatal("Start ran although GOGC was set")
	}
}
