package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"edge/internal/idle"
	"edge/internal/proxy"
	"edge/internal/reqinfo"
)

// requestSize approximates the request line and headers on the wire.
// It also reports whether the request has an X-Forwarded-For header
// (refusal counts its addresses), which costs this loop a length
// comparison per header instead of a map lookup per request.
func requestSize(r *http.Request) (n int64, forwardedFor bool) {
	size := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	size += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		if len(k) == len("X-Forwarded-For") && k == "X-Forwarded-For" {
			forwardedFor = true
		}
		for _, v := range vs {
			size += len(k) + 2 + len(v) + 2
		}
	}
	return int64(size + 2), forwardedFor
}

type requestState struct {
	ri   reqinfo.Request
	body countingBody
	cw   countingWriter
}

// countingBody counts the request body's bytes and tells the forwarder
// when the client's body, not the target, failed.
type countingBody struct {
	io.ReadCloser
	n  int64
	ri *reqinfo.Request
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if n > 0 {
		// The stream's progress (HTTP/2); on HTTP/1 the connection
		// counted this read already, and a second count changes nothing.
		b.ri.Progress.Op()
	}
	if err != nil {
		b.ended(err)
	}
	return n, err
}

func (b *countingBody) ended(err error) {
	switch {
	case err == io.EOF:
		if p := b.ri.Progress; p != nil {
			p.BodyDone()
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Only the watchdog sets read deadlines on client connections:
		// the client stopped sending for the idle timeout.
		b.ri.BodyStatus.CompareAndSwap(0, http.StatusRequestTimeout)
	case errors.Is(err, http.ErrBodyReadAfterClose):
	default:
		// Malformed (chunked encoding), or cut short by the client.
		b.ri.BodyStatus.CompareAndSwap(0, http.StatusBadRequest)
	}
}

// countingWriter records the status, when headers were written and how
// many bytes went out. Unwrap lets http.ResponseController reach Flush and
// Hijack (streaming, WebSocket upgrades).
type countingWriter struct {
	http.ResponseWriter
	ri     *reqinfo.Request
	fw     *proxy.Forwarding // the listener's response attributes
	status int
	// responseProcessing: from the target's response headers to writing
	// ours (0 unless a target answered).
	responseProcessing time.Duration
	headerBytes        int64
	n                  int64
	// count is the HTTP/2 stream's progress (nil for HTTP/1).
	count *idle.Progress
}

var connectionClose = []string{"close"}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 && code >= 200 {
		if code >= 200 && w.fw.RewritesResponses() {
			delta := w.fw.RewriteResponse(w.Header(), w.ri.TargetStatus == 0)
			if w.ri.HeaderBytes > 0 {
				w.ri.HeaderBytes += delta
			}
		}
		w.status = code
		if !w.ri.Responded.IsZero() { // only a target's response has a response_processing_time
			w.responseProcessing = max(time.Since(w.ri.Responded), 0)
		}
		if w.ri.HeaderBytes > 0 {
			w.headerBytes = w.ri.HeaderBytes
		} else {
			n := len("HTTP/1.1 200 OK\r\n") + 2
			for k, vs := range w.Header() {
				for _, v := range vs {
					n += len(k) + 2 + len(v) + 2
				}
			}
			w.headerBytes = int64(n)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if c := w.count; c != nil {
		c.BeginWrite()
		n, err := w.ResponseWriter.Write(p)
		c.EndWrite()
		if n > 0 {
			c.Op()
		}
		w.n += int64(n)
		return n, err
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) ReqInfo() *reqinfo.Request { return w.ri }

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *countingWriter) Flush() {
	if c := w.count; c != nil {
		c.BeginWrite()
		defer c.EndWrite()
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack is reached by ReverseProxy's upgrade handling through Unwrap;
// this method keeps older callers working too.
func (w *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
