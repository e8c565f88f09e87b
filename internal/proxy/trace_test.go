package proxy

import (
	"regexp"
	"testing"
	"time"
)

func TestTraceHeader(t *testing.T) {
	now := time.Unix(0x67891233, 0)
	id := `1-67891233-[0-9a-f]{24}`
	for _, tc := range []struct{ in, want string }{
		{"", `^Root=` + id + `$`},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", `^Self=` + id + `;Root=1-5759e988-bd862e3fe1be46a994272793$`},
		{"Self=1-00000000-000000000000000000000000;Root=1-5759e988-bd862e3fe1be46a994272793;CalledFrom=app", `^Self=` + id + `;Root=1-5759e988-bd862e3fe1be46a994272793;CalledFrom=app$`},
		{"CalledFrom=app", `^Root=` + id + `;CalledFrom=app$`},
	} {
		if got := TraceHeader(tc.in, now); !regexp.MustCompile(tc.want).MatchString(got) {
			t.Errorf("TraceHeader(%q) = %q; want %s", tc.in, got, tc.want)
		}
	}
	if a, b := TraceHeader("", now), TraceHeader("", now); a == b {
		t.Error("two trace ids are equal")
	}
	long := make([]byte, 8*1024)
	for i := range long {
		long[i] = 'a'
	}
	if got := TraceHeader("Root=x;"+string(long), now); !regexp.MustCompile(`^Root=` + id + `$`).MatchString(got) {
		t.Errorf("an oversized header was not replaced by a fresh Root: %.40q", got)
	}
}

func TestErrorPageSizes(t *testing.T) {
	for code, n := range map[int]int{502: 122, 503: 162, 504: 132} {
		if got := len(ErrorPage(code)); got != n {
			t.Errorf("ErrorPage(%d) is %d bytes; ALB sends %d", code, got, n)
		}
	}
}
