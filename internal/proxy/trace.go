package proxy

import (
	"math/rand/v2"
	"strings"
	"time"
)

// maxTraceHeader: ALB rewrites an X-Amzn-Trace-Id over 7 KB with a fresh
// Root.
const maxTraceHeader = 7 * 1024

// TraceHeader returns the X-Amzn-Trace-Id ALB sends onwards for a request
// that carried existing (possibly empty): a new "Root=1-<time>-<id>" when
// there is no Root; otherwise "Self=1-<time>-<id>" in front of the
// existing fields, replacing any Self the client sent. Other fields
// (CalledFrom=...) are kept.
func TraceHeader(existing string, now time.Time) string {
	if existing == "" || len(existing) > maxTraceHeader {
		// The common case, in one allocation.
		var b [len("Root=") + traceIDLen]byte
		copy(b[:], "Root=")
		putTraceID(b[len("Root="):], now)
		return string(b[:])
	}
	id := traceID(now)
	var kept []string
	hasRoot := false
	for _, f := range strings.Split(existing, ";") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case strings.HasPrefix(f, "Self="):
		case strings.HasPrefix(f, "Root="):
			hasRoot = true
			kept = append(kept, f)
		default:
			kept = append(kept, f)
		}
	}
	if !hasRoot {
		return strings.Join(append([]string{"Root=" + id}, kept...), ";")
	}
	return strings.Join(append([]string{"Self=" + id}, kept...), ";")
}

// traceID is "1-" + epoch seconds as 8 hex digits + "-" + 24 hex digits.
// Trace ids need to be unique, not secret: math/rand/v2's ChaCha8 source
// is enough and costs a fraction of crypto/rand per request.
func traceID(now time.Time) string {
	var b [traceIDLen]byte
	putTraceID(b[:], now)
	return string(b[:])
}

const traceIDLen = 2 + 8 + 1 + 24

// putTraceID writes a trace id into b[:traceIDLen].
func putTraceID(b []byte, now time.Time) {
	const digits = "0123456789abcdef"
	_ = b[traceIDLen-1]
	b[0], b[1], b[10] = '1', '-', '-'
	ts := uint32(now.Unix())
	for i := 9; i >= 2; i-- {
		b[i] = digits[ts&0xf]
		ts >>= 4
	}
	r1, r2 := rand.Uint64(), rand.Uint64()
	for i := 0; i < 16; i++ {
		b[11+i] = digits[r1&0xf]
		r1 >>= 4
	}
	for i := 0; i < 8; i++ {
		b[27+i] = digits[r2&0xf]
		r2 >>= 4
	}
}
