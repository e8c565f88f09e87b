package server

import (
	"bytes"
	"testing"
)

// FuzzRequestHead feeds a request head, cut into reads of any size, to
// the limits edge enforces as it arrives, and a response to the check
// for net/http's own answers: neither panics, a 414 means the first line
// really ran past 16 KiB, and a 400 that the head ran past 68 KiB.
func FuzzRequestHead(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), uint16(3))
	f.Add(bytes.Repeat([]byte("a"), 17000), uint16(4096))
	f.Add([]byte("HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		ownAnswer(data)
		// Repeat the input so the limits can be reached.
		head := bytes.Repeat(data, 1+70_000/(len(data)+1))
		c := &clientConn{}
		step := int(cut)%8192 + 1
		status, at := 0, 0
		for at < len(head) && status == 0 {
			end := min(at+step, len(head))
			status = c.checkHead(head[at:end])
			at = end
		}
		line := bytes.IndexByte(head, '\n')
		switch status {
		case 414:
			if line >= 0 && line <= maxRequestLine+1 {
				t.Fatalf("414 for a first line of %d bytes", line)
			}
		case 400:
			if at <= maxRequestHead+headSlack {
				t.Fatalf("400 after %d bytes", at)
			}
		case 0:
			if line < 0 && at > maxRequestLine+1 || line > maxRequestLine+1 {
				t.Fatalf("a first line of %d bytes (of %d read) passed", line, at)
			}
		}
	})
}
