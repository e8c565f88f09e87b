// Package loadgen drives mTLS load at a TLS endpoint for `edge bench`: new
// handshakes, keep-alive requests, a mix of failing clients, or many idle
// connections; it reports rate, latency percentiles and outcomes by kind.
package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Client is one client identity; a nil Cert sends no certificate.
type Client struct {
	Kind string
	Cert *tls.Certificate
}

// Options describe a run.
type Options struct {
	Addr       string
	ServerName string
	// Mode: "handshake" (a new connection per request), "keepalive" (one
	// connection per worker), "mixed" (handshakes, a share of them with
	// the Bad clients), "idle" (open Connections and hold them).
	Mode        string
	Concurrency int
	Duration    time.Duration
	Good        Client
	Bad         []Client
	BadShare    float64
	// Connections and Hold are for idle mode.
	Connections int
	Hold        time.Duration
	// OnIdle, when set, is called once every idle connection is open.
	OnIdle func(open int)
	Path   string
}

// Errors of a run that produced no useful load; Run returns them wrapped
// with the most common outcome, together with the Result.
var (
	// ErrUnreachable: no TCP connection to the target was ever made
	// (connection refused, no route, out of file descriptors).
	ErrUnreachable = errors.New("never reached the target")
	// ErrNoSuccess: connections were made but no operation succeeded
	// (every handshake refused, no HTTP response, no idle connection open).
	ErrNoSuccess = errors.New("no operation succeeded")
)

// Result summarises a run.
type Result struct {
	Mode string `json:"mode"`
	// Ops counts operations: requests (handshake, mixed, keepalive modes).
	Ops int `json:"operations"`
	// Succeeded counts operations that got an HTTP response, or in idle
	// mode connections opened.
	Succeeded int `json:"succeeded"`
	// Connected counts TCP connections made to the target.
	Connected int            `json:"connected"`
	Elapsed   time.Duration  `json:"elapsed_ns"`
	Rate      float64        `json:"rate_per_s"`
	P50       time.Duration  `json:"p50_ns"`
	P90       time.Duration  `json:"p90_ns"`
	P99       time.Duration  `json:"p99_ns"`
	Outcomes  map[string]int `json:"outcomes"`
	Open      int            `json:"idle_connections_open,omitempty"`
}

func (r *Result) String() string {
	s := fmt.Sprintf("mode %s: %d operations in %v: %.0f/s; latency p50 %v p90 %v p99 %v", r.Mode, r.Ops, r.Elapsed.Round(time.Millisecond), r.Rate,
		r.P50.Round(time.Microsecond), r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond))
	if r.Mode == "idle" {
		s = fmt.Sprintf("mode idle: %d connections open", r.Open)
	}
	keys := make([]string, 0, len(r.Outcomes))
	for k := range r.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += fmt.Sprintf("\n  %-40s %d", k, r.Outcomes[k])
	}
	return s
}

type worker struct {
	lat       []time.Duration
	outcomes  map[string]int
	connected int
}

// count records one outcome; an outcome starting with "HTTP " is a
// success.
func (w *worker) count(outcome string) { w.outcomes[outcome]++ }

// Run drives load until the duration ends or ctx is done. A run that never
// connected returns an error wrapping ErrUnreachable, one in which nothing
// succeeded an error wrapping ErrNoSuccess; the Result is returned with
// them.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if o.Mode == "idle" {
		return idle(ctx, o)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	req := []byte("GET " + o.Path + " HTTP/1.1\r\nHost: " + o.ServerName + "\r\nUser-Agent: edge-bench\r\n\r\n")
	workers := make([]*worker, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &worker{outcomes: map[string]int{}}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch o.Mode {
			case "keepalive":
				w.keepalive(ctx, o, req)
			default:
				w.handshakes(ctx, o, req)
			}
		}()
	}
	wg.Wait()
	res := &Result{Mode: o.Mode, Elapsed: time.Since(start), Outcomes: map[string]int{}}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		for k, v := range w.outcomes {
			res.Outcomes[k] += v
		}
	}
	res.Ops = len(all)
	res.Rate = float64(res.Ops) / res.Elapsed.Seconds()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	res.P50, res.P90, res.P99 = pct(0.50), pct(0.90), pct(0.99)
	for _, w := range workers {
		res.Connected += w.connected
	}
	for k, v := range res.Outcomes {
		if strings.HasPrefix(k, "HTTP ") {
			res.Succeeded += v
		}
	}
	return res, res.verdict()
}

// verdict is the error of a run that did nothing useful, naming its most
// common outcome.
func (r *Result) verdict() error {
	top, n, attempts := "", 0, 0
	for k, v := range r.Outcomes {
		attempts += v
		if v > n || v == n && k < top {
			top, n = k, v
		}
	}
	why := ""
	if n > 0 {
		why = fmt.Sprintf(": %d× %q", n, top)
	}
	switch {
	case r.Connected == 0:
		return fmt.Errorf("%w: no connection could be made%s", ErrUnreachable, why)
	case r.Succeeded == 0:
		return fmt.Errorf("%w in %d attempts%s", ErrNoSuccess, attempts, why)
	}
	return nil
}

func (o Options) tlsConfig(c Client) *tls.Config {
	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: o.ServerName, ClientSessionCache: nil}
	if c.Cert != nil {
		cfg.Certificates = []tls.Certificate{*c.Cert}
	}
	return cfg
}

func (w *worker) handshakes(ctx context.Context, o Options, req []byte) {
	good := o.tlsConfig(o.Good)
	bad := make([]*tls.Config, len(o.Bad))
	for i, b := range o.Bad {
		bad[i] = o.tlsConfig(b)
	}
	buf := make([]byte, 4096)
	end, _ := ctx.Deadline()
	for ctx.Err() == nil && time.Now().Before(end) {
		cfg, kind := good, o.Good.Kind
		if o.Mode == "mixed" && len(bad) > 0 && rand.Float64() < o.BadShare {
			i := rand.IntN(len(bad))
			cfg, kind = bad[i], o.Bad[i].Kind
		}
		t0 := time.Now()
		outcome, connected := oneRequest(ctx, o.Addr, cfg, req, buf)
		if outcome == "cancelled at the end of the run" {
			break // not an operation
		}
		if connected {
			w.connected++
		}
		if kind != o.Good.Kind {
			outcome = kind + ": " + outcome
		}
		w.lat = append(w.lat, time.Since(t0))
		w.count(outcome)
	}
}

// ended tells whether a failure is the run's end rather than an outcome.
// Under full load the context's timer may fire late, so compare with its
// deadline rather than asking ctx.Err().
func ended(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && !time.Now().Before(dl)
}

// dial connects and completes the TLS handshake; connected tells whether
// the TCP connection was made.
func dial(ctx context.Context, addr string, cfg *tls.Config) (c *tls.Conn, connected bool, err error) {
	nd := net.Dialer{Timeout: 10 * time.Second}
	raw, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("connect failed: %s", errKind(err))
	}
	c = tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, true, fmt.Errorf("handshake failed: %s", errKind(err))
	}
	return c, true, nil
}

// oneRequest makes a connection, one request, and reads the response.
func oneRequest(ctx context.Context, addr string, cfg *tls.Config, req, buf []byte) (outcome string, connected bool) {
	c, connected, err := dial(ctx, addr, cfg)
	if err != nil {
		if ended(ctx) {
			return "cancelled at the end of the run", connected
		}
		return err.Error(), connected
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		return "write failed", true
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
	if err != nil {
		return "refused after handshake", true // TLS 1.3: the verdict arrives as a reset (or an alert)
	}
	io.CopyBuffer(io.Discard, resp.Body, buf)
	resp.Body.Close()
	return "HTTP " + resp.Status[:3], true
}

func (w *worker) keepalive(ctx context.Context, o Options, req []byte) {
	cfg := o.tlsConfig(o.Good)
	buf := make([]byte, 4096)
	end, _ := ctx.Deadline()
	for ctx.Err() == nil && time.Now().Before(end) {
		c, connected, err := dial(ctx, o.Addr, cfg)
		if connected {
			w.connected++
		}
		if err != nil {
			if !ended(ctx) {
				w.count(err.Error())
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		br := bufio.NewReaderSize(c, 4096)
		for time.Now().Before(end) {
			t0 := time.Now()
			if _, err := c.Write(req); err != nil {
				w.count("write failed")
				break
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				w.count("read failed")
				break
			}
			io.CopyBuffer(io.Discard, resp.Body, buf)
			resp.Body.Close()
			w.lat = append(w.lat, time.Since(t0))
			w.count("HTTP " + resp.Status[:3])
		}
		c.Close()
	}
}

// idle opens o.Connections mTLS connections (each with one request, so
// the server has finished its handshake) and holds them for o.Hold.
func idle(ctx context.Context, o Options) (*Result, error) {
	cfg := o.tlsConfig(o.Good)
	conns := make([]net.Conn, 0, o.Connections)
	var mu sync.Mutex
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	res := &Result{Mode: "idle", Outcomes: map[string]int{}}
	req := []byte("GET " + o.Path + " HTTP/1.1\r\nHost: " + o.ServerName + "\r\n\r\n")
	start := time.Now()
	for i := 0; i < o.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				c, connected, err := dial(ctx, o.Addr, cfg)
				if err != nil {
					mu.Lock()
					if connected {
						res.Connected++
					}
					res.Outcomes[err.Error()]++
					mu.Unlock()
					continue
				}
				c.Write(req)
				br := bufio.NewReader(c)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					// TLS 1.3: a refused client learns it here.
					c.Close()
					mu.Lock()
					res.Connected++
					res.Outcomes["refused after handshake"]++
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				conns = append(conns, c)
				res.Connected++
				res.Outcomes["open"]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < o.Connections; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	res.Open = len(conns)
	res.Succeeded = len(conns)
	res.Elapsed = time.Since(start)
	if o.OnIdle != nil {
		o.OnIdle(len(conns))
	}
	select {
	case <-ctx.Done():
	case <-time.After(o.Hold):
	}
	for _, c := range conns {
		c.Close()
	}
	return res, res.verdict()
}

// errKind shortens an error to its kind for the outcome table.
func errKind(err error) string {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return "alert " + ae.Error()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}
