// Command edge is a local emulator of the mutual-TLS front door of an AWS
// Application Load Balancer. See README.md.

// ALB accepts client certificates with negative serial numbers (its docs
// only say such certificates cannot be revoked); Go 1.23+ refuses to parse
// them unless told otherwise.
//
//go:debug x509negativeserial=1
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes (PRODUCT.md §1).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `edge: an offline AWS ALB mutual-TLS front door

usage:
  edge [--port N] [--address IP] [--ready-file PATH]
                          quick start: dev PKI in ./.edge, verify mode on 127.0.0.1:8443
  edge serve -c FILE [--ready-file PATH] [--port N] [--address IP]
                          serve the configuration in FILE until SIGINT/SIGTERM;
                          --ready-file: JSON of the bound listeners, for harnesses
  edge check -c FILE      validate FILE and every file it references
  edge verify --trust-store-bundle FILE [--crl FILE]... --cert CHAIN.pem
              [--at TIME] [--ignore-expiry] [--revocation-check alb|strict] [--format text|json]
                          the verdict ALB would log for one client chain, and why
  edge pki COMMAND        dev PKI: init, ca, server, client, revoke, crl, bundle, list
  edge demo [--keep DIR]  the trust-store experiment end to end on loopback
  edge bench --target HOST:PORT --mode handshake|keepalive|mixed|idle --cert F --key F
                          mTLS load: rate, p50/p90/p99 latency, outcomes by kind
  edge version            print version information
`

// run is main without the process: it parses args, runs one command and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || len(args[0]) > 0 && args[0][0] == '-' {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		return quickstart(ctx, args, stdout, stderr)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "pki":
		return pkiCmd(args[1:], stdout, stderr)
	case "bench":
		return bench(ctx, args[1:], stdout, stderr)
	case "demo":
		return demo(ctx, args[1:], stdout, stderr)
	case "verify":
		return verify(args[1:], stdout, stderr)
	case "version":
		return version(stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "edge: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
