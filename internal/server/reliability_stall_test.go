package server_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"edge/internal/testutil"
)

// stallIdle is the idle timeout of the stall tests; ALB closes a client
// that sends or reads nothing for that long.
const stallIdle = 4 * time.Second

// within checks that d, the time a stalled client was held, lies between
// the idle timeout and the timeout + 25 %.
func within(t *testing.T, what string, d time.Duration) {
	t.Helper()
	if d < stallIdle-100*time.Millisecond || d > stallIdle*5/4 {
		t.Errorf("%s: closed after %v; want between %v and %v (idle timeout + 25 %%)", what, d.Round(time.Millisecond), stallIdle, stallIdle*5/4)
	} else {
		t.Logf("%s: closed after %v (idle timeout %v)", what, d.Round(time.Millisecond), stallIdle)
	}
}

// bigTarget streams an endless response and records, per request, when
// its last write succeeded and when a write first failed (edge let go of
// the target connection).
type bigTarget struct {
	*httptest.Server
	mu       sync.Mutex
	lastOK   map[string]time.Time
	failedAt map[string]time.Time
	open     atomic.Int64 // target connections open now
	maxOpen  atomic.Int64
}

func newBigTarget(t *testing.T) *bigTarget {
	bt := &bigTarget{lastOK: map[string]time.Time{}, failedAt: map[string]time.Time{}}
	bt.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/upload" {
			io.Copy(io.Discard, r.Body) // blocks while the client stalls
			io.WriteString(w, "uploaded")
			return
		}
		chunk := make([]byte, 32<<10)
		id := r.URL.Query().Get("id")
		for i := 0; i < 64<<10; i++ { // up to 2 GiB
			if _, err := w.Write(chunk); err != nil {
				bt.mu.Lock()
				bt.failedAt[id] = time.Now()
				bt.mu.Unlock()
				return
			}
			bt.mu.Lock()
			bt.lastOK[id] = time.Now()
			bt.mu.Unlock()
		}
	}))
	bt.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := bt.open.Add(1)
			for m := bt.maxOpen.Load(); n > m && !bt.maxOpen.CompareAndSwap(m, n); m = bt.maxOpen.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			bt.open.Add(-1)
		}
	}
	bt.Start()
	t.Cleanup(bt.Close)
	return bt
}

// held waits until the target saw its write to request id fail and
// returns how long after its last successful write that was.
func (bt *bigTarget) held(t *testing.T, id string) time.Duration {
	t.Helper()
	deadline := time.Now().Add(3 * stallIdle)
	for time.Now().Before(deadline) {
		bt.mu.Lock()
		failed, ok := bt.failedAt[id]
		last := bt.lastOK[id]
		bt.mu.Unlock()
		if ok {
			return failed.Sub(last)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("request %s: edge still holds the target connection %v after the client stopped reading", id, 3*stallIdle)
	return 0
}

// smallBuffers dials with a small receive buffer, so a client that stops
// reading stops the flow within a few hundred kilobytes.
func smallBuffers() *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10) })
	}}
}

// Issue 11.6: clients that stop sending their request body or stop
// reading the response are closed at the idle timeout (not before, and by
// the timeout + 25 %), over HTTP/1.1 and HTTP/2, and release the target
// connections they held.
func TestReliabilityStalledClients(t *testing.T) {
	seed := testutil.NewSeed(t)
	bt := newBigTarget(t)
	rules := `[{priority: 1, conditions: [{field: path-pattern, values: ["/fixed"]}], actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: fixed}}]}]`
	e := startEdge(t, seed, listenerYAML{rules: rules,
		top:           fmt.Sprintf("idle_timeout_seconds: %d\nclient_header_timeout_seconds: 60\ntarget_groups:\n", stallIdle/time.Second) + tgYAML("big", strings.TrimPrefix(bt.URL, "http://")),
		defaultAction: "{type: forward, target_group: big}"})
	h2 := func() *http.Transport {
		return &http.Transport{TLSClientConfig: e.clientTLS(nil, nil), ForceAttemptHTTP2: true, DialContext: smallBuffers().DialContext}
	}

	t.Run("group", func(t *testing.T) {
		// HTTP/1.1, a forward whose request body stalls: 408, then closed.
		t.Run("h1 stalled body to a target", func(t *testing.T) {
			t.Parallel()
			c, err := tls.Dial("tcp", e.addr, e.clientTLS(nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 100000\r\n\r\n0123456789")
			start := time.Now()
			c.SetDeadline(start.Add(3 * stallIdle))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 408 || string(body) != albPage("408 Request Time-out") {
				t.Errorf("stalled body answered %d %q; want ALB's 408", resp.StatusCode, body)
			}
			if _, err := br.ReadByte(); err == nil {
				t.Error("the connection stayed open after the 408")
			}
			within(t, "h1 stalled body (forward)", time.Since(start))
		})
		// HTTP/1.1, a fixed response: net/http reads what is left of a
		// small body before answering, so the answer comes when the idle
		// timeout cuts that read; then the connection is closed.
		t.Run("h1 stalled body to a fixed response", func(t *testing.T) {
			t.Parallel()
			c, err := tls.Dial("tcp", e.addr, e.clientTLS(nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "POST /fixed HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1000\r\n\r\n0123456789")
			start := time.Now()
			c.SetDeadline(start.Add(3 * stallIdle))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != "fixed" || !resp.Close {
				t.Errorf("fixed response %d %q (Connection: close %v); want the fixed response, closing", resp.StatusCode, body, resp.Close)
			}
			if _, err := br.ReadByte(); err == nil {
				t.Error("the connection stayed open with a stalled body")
			}
			within(t, "h1 stalled body (fixed response)", time.Since(start))
		})
		// HTTP/1.1, a client that pipelines fixed-response requests and
		// reads none of the answers: once the answers fill the buffers edge
		// cannot write, stops reading, and closes at the idle timeout.
		t.Run("h1 fixed-response client that does not read", func(t *testing.T) {
			t.Parallel()
			raw, err := smallBuffers().Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			c := tls.Client(raw, e.clientTLS(nil, nil))
			defer c.Close()
			batch := []byte(strings.Repeat("GET /fixed HTTP/1.1\r\nHost: example.test\r\n\r\n", 100))
			var lastOK time.Time
			c.SetWriteDeadline(time.Now().Add(3 * stallIdle))
			for {
				if _, err := c.Write(batch); err != nil {
					if isTimeout(err) {
						t.Fatalf("edge still holds a client that reads nothing %v after it stopped reading", time.Since(lastOK))
					}
					break
				}
				lastOK = time.Now()
			}
			within(t, "h1 fixed-response client that does not read", time.Since(lastOK))
		})
		// HTTP/1.1, a client that stops reading a large response.
		t.Run("h1 slow reader", func(t *testing.T) {
			t.Parallel()
			raw, err := smallBuffers().Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			c := tls.Client(raw, e.clientTLS(nil, nil))
			defer c.Close()
			io.WriteString(c, "GET /download?id=h1 HTTP/1.1\r\nHost: example.test\r\n\r\n")
			within(t, "h1 slow reader", bt.held(t, "h1"))
		})
		// HTTP/2, a stream whose body stalls: 408 on the stream.
		t.Run("h2 stalled body", func(t *testing.T) {
			t.Parallel()
			tr := h2()
			defer tr.CloseIdleConnections()
			pr, pw := io.Pipe()
			defer pw.Close()
			req, _ := http.NewRequest("POST", "https://"+e.addr+"/upload", pr)
			var start time.Time
			go func() { pw.Write([]byte("0123456789")); start = time.Now() }()
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			held := time.Since(start)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != 408 || string(body) != albPage("408 Request Time-out") {
				t.Errorf("HTTP/%d %d %q; want ALB's 408 over h2", resp.ProtoMajor, resp.StatusCode, body)
			}
			within(t, "h2 stalled body", held)
		})
		// HTTP/2, a client that reads the headers and then stops reading.
		t.Run("h2 slow reader", func(t *testing.T) {
			t.Parallel()
			tr := h2()
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "https://"+e.addr+"/download?id=h2", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.ProtoMajor != 2 {
				t.Fatalf("HTTP/%d; want h2", resp.ProtoMajor)
			}
			within(t, "h2 slow reader", bt.held(t, "h2"))
		})
	})

	// One HTTP/2 connection opening 200 uploads that stall holds at most
	// 128 streams (the rest are refused), so at most 128 target
	// connections, each released at the idle timeout with a 408.
	t.Run("h2 many stalled streams", func(t *testing.T) {
		cfg := e.clientTLS(nil, nil)
		cfg.NextProtos = []string{"h2"}
		c, err := tls.Dial("tcp", e.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(6 * stallIdle))
		io.WriteString(c, http2.ClientPreface)
		var wmu sync.Mutex
		fr := http2.NewFramer(c, c)
		fr.WriteSettings()
		var hbuf bytes.Buffer
		enc := hpack.NewEncoder(&hbuf)
		start := time.Now()
		for i := 0; i < 200; i++ {
			hbuf.Reset()
			for _, f := range [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", "example.test"}, {":path", "/upload"}} {
				enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			id := uint32(2*i + 1)
			wmu.Lock()
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			fr.WriteData(id, false, []byte("x"))
			wmu.Unlock()
		}
		status := map[uint32]string{}
		outcome := map[uint32]string{}
		var first, last time.Duration
		dec := hpack.NewDecoder(4096, nil)
		for len(outcome) < 200 {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatalf("after %d outcomes: %v", len(outcome), err)
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					wmu.Lock()
					fr.WriteSettingsAck()
					wmu.Unlock()
				}
			case *http2.HeadersFrame:
				fields, _ := dec.DecodeFull(f.HeaderBlockFragment())
				for _, hf := range fields {
					if hf.Name == ":status" {
						status[f.StreamID] = hf.Value
					}
				}
			case *http2.DataFrame:
				if f.StreamEnded() {
					outcome[f.StreamID] = status[f.StreamID]
					last = time.Since(start)
					if first == 0 {
						first = last
					}
				}
			case *http2.RSTStreamFrame:
				if _, ok := outcome[f.StreamID]; !ok {
					outcome[f.StreamID] = "reset " + f.ErrCode.String()
				}
			}
		}
		answered, refused := 0, 0
		for _, o := range outcome {
			if strings.HasPrefix(o, "reset") {
				refused++
			} else {
				answered++
			}
		}
		counts := map[string]int{}
		for _, o := range outcome {
			counts[o]++
		}
		if m := bt.maxOpen.Load(); m > 128 {
			t.Errorf("one HTTP/2 connection held %d target connections at once; want at most 128", m)
		}
		if counts["408"] != answered || answered > 128 || answered < 100 {
			t.Errorf("%d streams answered (%v), %d refused; want up to 128 answered with 408", answered, counts, refused)
		}
		// The first answer shows the timing; writing 128 answers takes the
		// machine a moment more, but no stream waits for another period.
		within(t, "h2 streams of one connection (first)", first)
		if last > stallIdle*3/2 {
			t.Errorf("the last of %d streams was answered after %v", answered, last)
		}
		t.Logf("200 uploads on one connection: %d answered %v, %d refused, at most %d target connections", answered, counts, refused, bt.maxOpen.Load())
	})
}
