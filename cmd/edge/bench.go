package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"edge/internal/loadgen"
)

var benchCmd = &command{
	name:  "bench",
	args:  "--target HOST:PORT [--mode MODE] [--cert FILE --key FILE] [flags]",
	short: "mTLS load: rate, p50/p90/p99 latency, outcomes by kind",
	long: `Drives mutual-TLS load at a TLS endpoint (edge, nginx, HAProxy, ALB) and
reports the rate, latency percentiles and the outcome of every operation by
kind. Modes: handshake (a new connection per request), keepalive (requests
on one connection per worker), mixed (handshakes, a share of them with the
failing --bad clients), idle (open --connections and hold them).

It exits 1 with the reason when the run never reached the target or no
operation succeeded (every handshake refused, no HTTP response), so that
scripts notice.`,
	examples: []string{
		"edge bench --target 127.0.0.1:8443 --cert pki/client-fullchain.pem --key pki/client.key",
		"edge bench --target 127.0.0.1:8443 --mode mixed --cert pki/client-fullchain.pem --key pki/client.key --bad none=none",
		"edge bench --target 127.0.0.1:8443 --mode idle --connections 5000 --hold 30s --cert pki/client-fullchain.pem --key pki/client.key --format json",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		target := fs.String("target", "127.0.0.1:8443", "`HOST:PORT` of the TLS endpoint")
		sni := fs.String("sni", "localhost", "server `NAME` (SNI and Host)")
		mode := enumFlag(fs, "mode", "handshake", "load `MODE`", "handshake", "keepalive", "mixed", "idle")
		conc := intFlag(fs, "concurrency", 32, 1, "concurrent `WORKERS`")
		dur := fs.Duration("duration", 10*time.Second, "run time")
		cert := certFlag(fs)
		key := keyFileFlag(fs)
		var bad stringList
		fs.Var(&bad, "bad", "failing client for mixed mode: `KIND=CERT,KEY` or KIND=none; repeatable")
		share := fs.Float64("bad-share", 0.2, "share of mixed-mode connections made with the --bad clients")
		conns := intFlag(fs, "connections", 10000, 1, "idle mode: `N` connections to open")
		hold := fs.Duration("hold", 10*time.Second, "idle mode: how long to hold them")
		format := formatFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *dur <= 0 {
				return usagef("--duration must be positive")
			}
			if *share < 0 || *share > 1 {
				return usagef("--bad-share must be between 0 and 1")
			}
			if (*cert == "") != (*key == "") {
				return usagef("give --cert and --key together")
			}
			o := loadgen.Options{Addr: *target, ServerName: *sni, Mode: *mode, Concurrency: *conc, Duration: *dur, BadShare: *share, Connections: *conns, Hold: *hold,
				Good: loadgen.Client{Kind: "client"}}
			if *cert != "" {
				c, err := tls.LoadX509KeyPair(*cert, *key)
				if err != nil {
					return fmt.Errorf("--cert/--key: %v", err)
				}
				o.Good.Cert = &c
			}
			for _, b := range bad {
				kind, files, ok := strings.Cut(b, "=")
				if !ok || kind == "" {
					return usagef("--bad %q: want KIND=CERT,KEY or KIND=none", b)
				}
				cl := loadgen.Client{Kind: kind}
				if files != "none" {
					c, k, _ := strings.Cut(files, ",")
					pair, err := tls.LoadX509KeyPair(c, k)
					if err != nil {
						return fmt.Errorf("--bad %s: %v", kind, err)
					}
					cl.Cert = &pair
				}
				o.Bad = append(o.Bad, cl)
			}
			res, runErr := loadgen.Run(ctx, o)
			if res != nil {
				if *format == "json" {
					json.NewEncoder(cio.stdout).Encode(res)
				} else {
					fmt.Fprintln(cio.stdout, res)
				}
			}
			if runErr != nil {
				if errors.Is(runErr, loadgen.ErrNoSuccess) && *cert == "" {
					// Connected, nothing succeeded, no certificate sent: the
					// usual cause is a verify-mode listener refusing it.
					return fmt.Errorf("%v (target %s); no client certificate was sent: a verify-mode listener refuses every handshake without one (--cert FILE --key FILE)", runErr, *target)
				}
				if errors.Is(runErr, loadgen.ErrUnreachable) || errors.Is(runErr, loadgen.ErrNoSuccess) {
					return fmt.Errorf("%v (target %s)", runErr, *target)
				}
				return runErr
			}
			return nil
		}
	},
}
