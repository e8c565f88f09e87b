package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"edge/internal/loadgen"
)

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("edge bench", stderr)
	target := fs.String("target", "127.0.0.1:8443", "`HOST:PORT` of the TLS endpoint")
	sni := fs.String("sni", "localhost", "server name (SNI and Host)")
	mode := fs.String("mode", "handshake", "handshake, keepalive, mixed or idle")
	conc := fs.Int("concurrency", 32, "concurrent workers")
	dur := fs.Duration("duration", 10*time.Second, "run time")
	cert := fs.String("cert", "", "client certificate chain `FILE` (PEM)")
	key := fs.String("key", "", "client key `FILE`")
	var bad stringList
	fs.Var(&bad, "bad", "failing client for mixed mode: KIND=CERT,KEY or KIND=none; repeatable")
	share := fs.Float64("bad-share", 0.2, "share of mixed-mode connections made with the --bad clients")
	conns := fs.Int("connections", 10000, "idle mode: connections to open")
	hold := fs.Duration("hold", 10*time.Second, "idle mode: how long to hold them")
	format := fs.String("format", "text", "text or json")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	o := loadgen.Options{Addr: *target, ServerName: *sni, Mode: *mode, Concurrency: *conc, Duration: *dur, BadShare: *share, Connections: *conns, Hold: *hold,
		Good: loadgen.Client{Kind: "client"}}
	if *cert != "" {
		c, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			fmt.Fprintf(stderr, "edge bench: --cert/--key: %v\n", err)
			return exitFail
		}
		o.Good.Cert = &c
	}
	for _, b := range bad {
		kind, files, ok := strings.Cut(b, "=")
		if !ok {
			fmt.Fprintf(stderr, "edge bench: --bad %q: want KIND=CERT,KEY or KIND=none\n", b)
			return exitUsage
		}
		cl := loadgen.Client{Kind: kind}
		if files != "none" {
			c, k, _ := strings.Cut(files, ",")
			pair, err := tls.LoadX509KeyPair(c, k)
			if err != nil {
				fmt.Fprintf(stderr, "edge bench: --bad %s: %v\n", kind, err)
				return exitFail
			}
			cl.Cert = &pair
		}
		o.Bad = append(o.Bad, cl)
	}
	res, err := loadgen.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "edge bench: %v\n", err)
		return exitFail
	}
	if *format == "json" {
		json.NewEncoder(stdout).Encode(res)
	} else {
		fmt.Fprintln(stdout, res)
	}
	return exitOK
}
