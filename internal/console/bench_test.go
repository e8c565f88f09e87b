package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"edge/internal/loadgen"
	"edge/internal/logfmt"
	"edge/internal/server"
)

// BenchmarkConsoleCost measures what the console costs the data path:
// the handshake rate (a new mTLS connection per request) and keep-alive
// requests per second of a real server, driven by internal/loadgen, with
// the console closed (attached and recording, no browser) and with one
// client following the unfiltered feed. The two run in alternating
// pairs (which goes first alternates too) and the benchmark reports the
// median of each and the median of the per-pair ratios, so a machine
// whose load drifts during the run still compares like with like.
//
//	go test -run '^$' -bench ConsoleCost -benchtime 1x ./internal/console/
//
// EDGE_BENCH_PAIRS (default 5) and EDGE_BENCH_SECONDS (default 2) set
// the number of pairs and the length of each run.
func BenchmarkConsoleCost(b *testing.B) {
	pairs := envInt("EDGE_BENCH_PAIRS", 5)
	secs := envInt("EDGE_BENCH_SECONDS", 2)
	for _, mode := range []string{"handshake", "keepalive"} {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b, fixtureOptions{})
			cert := f.seed.C.TLSCertificate()
			// run returns the rate and the process's CPU time per
			// operation (client and server: the same in both arms). On a
			// machine shared with other work the rate follows the CPU
			// share the process gets; CPU per operation does not.
			run := func() (rate, cpu float64) {
				c0 := cpuTime()
				res, err := loadgen.Run(context.Background(), loadgen.Options{Addr: f.addrs[0], ServerName: "localhost", Mode: mode,
					Concurrency: 8, Duration: time.Duration(secs) * time.Second, Good: loadgen.Client{Kind: "good", Cert: &cert}})
				if err != nil {
					b.Fatal(err)
				}
				return res.Rate, float64(cpuTime()-c0) / float64(time.Microsecond) / float64(res.Ops)
			}
			following := func() (float64, float64) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, "GET", f.adm.URL+"/console/events", nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				read := make(chan int64)
				go func() { n, _ := io.Copy(io.Discard, resp.Body); read <- n }()
				r, c := run()
				cancel()
				if n := <-read; n == 0 {
					b.Fatal("the feed client read nothing")
				}
				return r, c
			}
			load0 := loadavg()
			var closed, open, ratios, cpuClosed, cpuOpen, cpuRatios []float64
			for range b.N {
				for i := range pairs {
					var c, o, cc, co float64
					if i%2 == 0 {
						c, cc = run()
						o, co = following()
					} else {
						o, co = following()
						c, cc = run()
					}
					closed, open, ratios = append(closed, c), append(open, o), append(ratios, o/c)
					cpuClosed, cpuOpen, cpuRatios = append(cpuClosed, cc), append(cpuOpen, co), append(cpuRatios, co/cc)
				}
			}
			b.ReportMetric(median(closed), "closed/s")
			b.ReportMetric(median(open), "following/s")
			b.ReportMetric(median(ratios), "rate-ratio")
			b.ReportMetric(median(cpuClosed), "closed-cpu-µs/op")
			b.ReportMetric(median(cpuOpen), "following-cpu-µs/op")
			b.ReportMetric(median(cpuRatios), "cpu-ratio")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s: %d pairs of %d s, load average %s → %s\n  rate closed    %s\n  rate following %s\n  rate ratios    %s\n  CPU µs/op closed    %s\n  CPU µs/op following %s\n  CPU ratios          %s",
				mode, pairs, secs, load0, loadavg(), fmtRates(closed), fmtRates(open), fmtRatios(ratios), fmtRates(cpuClosed), fmtRates(cpuOpen), fmtRatios(cpuRatios))
		})
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtRates(xs []float64) string {
	var p []string
	for _, x := range xs {
		p = append(p, fmt.Sprintf("%.1f", x))
	}
	return strings.Join(p, " ")
}

func fmtRatios(xs []float64) string {
	var p []string
	for _, x := range xs {
		p = append(p, fmt.Sprintf("%.3f", x))
	}
	return strings.Join(p, " ")
}

// loadavg is the machine's 1-minute load average, for the record.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// BenchmarkObserve is what recording costs the hot paths per access-log
// record and per connection attempt, from parallel goroutines (compare
// with BenchmarkHandler in internal/server: ~2 µs of edge's own work per
// request).
//
//	go test -run '^$' -bench Observe -benchmem ./internal/console/
func BenchmarkObserve(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	b.Run("request", func(b *testing.B) {
		rec := &logfmt.AccessRecord{Time: time.Now(), Type: "https", Method: "GET", Host: "localhost", URI: "/hello?from=bench", Proto: "HTTP/1.1",
			ELBStatus: 200, ActionsExecuted: "fixed-response", TraceID: "Root=1-67891233-abcdef012345678912345678", ConnTraceID: "TID_0123456789abcdef0123456789abcdef", UserAgent: "bench/1.0"}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f.con.ObserveRequest(rec)
			}
		})
	})
	b.Run("connection", func(b *testing.B) {
		v := &server.Verdict{Time: time.Now(), Client: "127.0.0.1:40000", Status: "Success", Subject: "CN=C,O=edge tests", Serial: "0123456789ABCDEF", TraceID: "TID_0123456789abcdef0123456789abcdef"}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f.con.ObserveConnection(*v, nil)
			}
		})
	})
}
