package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
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
	id := traceID(now)
	if existing == "" || len(existing) > maxTraceHeader {
		return "Root=" + id
	}
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
func traceID(now time.Time) string {
	var r [12]byte
	rand.Read(r[:])
	ts := strconv.FormatInt(now.Unix(), 16)
	for len(ts) < 8 {
		ts = "0" + ts
	}
	return "1-" + ts + "-" + hex.EncodeToString(r[:])
}
