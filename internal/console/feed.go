package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"edge/internal/server"
	"edge/internal/truststore"
)

// filter selects connections by verdict and listener.
type filter struct {
	// Verdict is "" (all), "success", "failed" or one tls_verify_status.
	Verdict string
	// Listener is a listener's config index, -1 for all.
	Listener int
}

// FilterError is a filter parameter the console does not know.
type FilterError struct{ Param, Value string }

func (e *FilterError) Error() string {
	if e.Param == "listener" {
		return fmt.Sprintf("listener=%q: want a listener index (0, 1, ...) or nothing", e.Value)
	}
	return fmt.Sprintf("verdict=%q: want success, failed or a tls_verify_status such as Failed:ClientCertUntrusted", e.Value)
}

func parseFilter(get func(string) string) (filter, error) {
	f := filter{Listener: -1}
	switch v := get("verdict"); v {
	case "", "all":
	case "success", "failed":
		f.Verdict = v
	default:
		if !slices.ContainsFunc(truststore.Statuses(), func(s truststore.Status) bool { return s.String() == v }) {
			return f, &FilterError{"verdict", v}
		}
		f.Verdict = v
	}
	if l := get("listener"); l != "" && l != "all" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return f, &FilterError{"listener", l}
		}
		f.Listener = n
	}
	return f, nil
}

func (f filter) match(v *server.Verdict) bool {
	if f.Listener >= 0 && v.Listener != f.Listener {
		return false
	}
	switch f.Verdict {
	case "":
		return true
	case "success":
		return v.Status == "Success"
	case "failed":
		return strings.HasPrefix(v.Status, "Failed:")
	}
	return v.Status == f.Verdict
}

// query is the filter as URL parameters ("" when it selects everything).
func (f filter) query() string {
	var p []string
	if f.Verdict != "" {
		p = append(p, "verdict="+f.Verdict)
	}
	if f.Listener >= 0 {
		p = append(p, "listener="+strconv.Itoa(f.Listener))
	}
	return strings.Join(p, "&")
}

// feedConn is one connection attempt in the feed, as JSON.
type feedConn struct {
	Seq      uint64 `json:"seq"`
	Time     string `json:"time"`
	Listener int    `json:"listener"`
	Client   string `json:"client"`
	Status   string `json:"tls_verify_status"`
	Subject  string `json:"leaf_client_cert_subject,omitempty"`
	Serial   string `json:"leaf_client_cert_serial_number,omitempty"`
	TraceID  string `json:"conn_trace_id"`
	Failed   bool   `json:"failed"`
	server.Reason
}

// timeFormat is how the console prints a moment: UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

func toFeed(seq uint64, v *server.Verdict) feedConn {
	return feedConn{Seq: seq, Time: v.Time.UTC().Format(timeFormat), Listener: v.Listener, Client: v.Client, Status: v.Status,
		Subject: v.Subject, Serial: v.Serial, TraceID: v.TraceID, Failed: strings.HasPrefix(v.Status, "Failed:"), Reason: v.Reason}
}

// batch is what one feed message carries.
type batch struct {
	// Conns are oldest first.
	Conns []feedConn `json:"conns"`
	// More counts the connections after the previous message that this
	// one does not carry: matching ones beyond FeedBatch, and those the
	// history dropped before they could be sent (whether they matched
	// or not).
	More int `json:"more"`
	// Last is the sequence number the next message continues from.
	Last uint64 `json:"last"`
}

// collect returns up to limit connections after after that match f,
// the newest ones, oldest first.
func (c *Console) collect(after uint64, f filter, limit int) batch {
	from, to := c.conns.window(after)
	b := batch{Last: to}
	if from > after+1 {
		b.More += int(from - after - 1)
	}
	var v server.Verdict
	for seq := to; seq >= from && seq > 0; seq-- {
		if !c.conns.get(seq, &v) {
			b.More++ // overwritten while we read, or not written yet
			continue
		}
		if !f.match(&v) {
			continue
		}
		if len(b.Conns) == limit {
			b.More++
			continue
		}
		b.Conns = append(b.Conns, toFeed(seq, &v))
	}
	slices.Reverse(b.Conns)
	return b
}

// events streams the feed as server-sent events: every Interval, one
// "conns" event with the new connections that match the filter (a batch,
// as JSON). ?since=SEQ or the Last-Event-ID header resumes after SEQ;
// without either, the stream starts with the newest FeedBatch matching
// connections the console holds.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query().Get)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	since := r.URL.Query().Get("since")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		since = id
	}
	var after uint64
	backlog := since == ""
	if !backlog {
		if after, err = strconv.ParseUint(since, 10, 64); err != nil {
			http.Error(w, fmt.Sprintf("since=%q: want a sequence number", since), http.StatusBadRequest)
			return
		}
	}
	select {
	case <-c.done:
		http.Error(w, "the console is shutting down", http.StatusServiceUnavailable)
		return
	case c.streams <- struct{}{}:
		defer func() { <-c.streams }()
	default:
		http.Error(w, fmt.Sprintf("too many console feeds open (at most %d)", MaxStreams), http.StatusServiceUnavailable)
		return
	}
	c.endOnShutdown(r)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(s string) bool {
		// A client that stops reading is dropped instead of holding
		// the stream's goroutine and buffers forever.
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write([]byte(s)); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: 2000\n\n") {
		return
	}
	tick := time.NewTicker(c.o.Interval)
	defer tick.Stop()
	quiet := 0
	for {
		b := c.collect(after, f, FeedBatch)
		if backlog {
			b.More, backlog = 0, false
		}
		if len(b.Conns) > 0 || b.More > 0 {
			data, _ := json.Marshal(b)
			if !write(fmt.Sprintf("id: %d\nevent: conns\ndata: %s\n\n", b.Last, data)) {
				return
			}
			quiet = 0
		} else if quiet++; time.Duration(quiet)*c.o.Interval >= 15*time.Second {
			// A comment keeps proxies and the browser from timing out.
			if !write(": keep-alive\n\n") {
				return
			}
			quiet = 0
		}
		after = b.Last
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case <-tick.C:
		}
	}
}

// endOnShutdown makes the http.Server serving r end the console's streams
// when it shuts down: Shutdown waits for active requests, and a feed never
// ends by itself.
func (c *Console) endOnShutdown(r *http.Request) {
	hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return
	}
	if _, loaded := c.hooked.LoadOrStore(hs, true); !loaded {
		hs.RegisterOnShutdown(c.Close)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
