package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"

	"edge/internal/config"
	"edge/internal/server"
)

var checkCmd = &command{
	name:  "check",
	args:  "-c FILE",
	short: "validate a configuration and every file it names",
	long: `Validates the configuration in FILE and reads every certificate, key, bundle
and CRL it names, as edge serve would, without binding a port or creating a
file. It prints a summary (trust stores with their revocation ids and entry
counts, listeners with their certificates, attributes that differ from
ELBv2's defaults, API Gateway domains with their truststores and base path
mappings) and exits 0, or prints one line per problem, "file:line:
what is wrong", and exits 1. --attributes lists every load balancer,
listener and target group attribute with its effective value, as the
Describe*Attributes operations return them.`,
	examples: []string{"edge check -c edge.yaml", "edge check --attributes -c edge.yaml"},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		file := configFlag(fs)
		all := fs.Bool("attributes", false, "list every attribute key with its effective value")
		return func(ctx context.Context, args []string) error {
			if *file == "" {
				return usagef("-c FILE is required")
			}
			if err := noArgs(args); err != nil {
				return err
			}
			return check(*file, *all, cio.stdout, cio.stderr)
		}
	},
}

// check reports every problem it can find in one run: unknown keys do not
// stop the checks of values; values that pass let the build read every
// file; then log paths and listener certificates are checked for what
// would fail at run time.
func check(file string, allAttributes bool, stdout, stderr io.Writer) error {
	cfg, ps := config.LoadAll(file)
	if cfg == nil {
		printProblems(stderr, ps)
		return errReported
	}
	snap, err := server.Build(cfg, server.Options{CheckOnly: true})
	if err != nil {
		var bps config.Problems
		if !errors.As(err, &bps) {
			bps = config.Problems{{File: file, Msg: err.Error()}}
		}
		ps = append(ps, bps...)
	} else {
		defer snap.Close()
	}
	ps = append(ps, logPathProblems(cfg)...)
	gwProblems, gwSummary := checkAPIGateway(cfg)
	ps = append(ps, gwProblems...)
	lint, notes := certificateProblems(cfg)
	ps = append(ps, lint...)
	if len(ps) > 0 {
		printProblems(stderr, ps)
		return errReported
	}
	fmt.Fprintf(stdout, "%s: valid\n", file)
	snap.WriteSummary(stdout, allAttributes)
	gwSummary(stdout)
	notes = append(notes, portsInUse(cfg)...)
	for _, n := range notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	return nil
}

// portsInUse notes the fixed listener ports something already listens on:
// edge serve would fail to bind them (unless that is this configuration's
// own running edge, so a note and not a problem).
func portsInUse(cfg *config.Config) []string {
	var out []string
	for i, l := range cfg.Listeners {
		if l.Port == nil || *l.Port == 0 {
			continue
		}
		addr := net.JoinHostPort(l.Address, strconv.Itoa(*l.Port))
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			out = append(out, fmt.Sprintf("%s:%d: listeners[%d]: %s is in use now: edge serve cannot bind it unless it is this configuration's own running edge (--port N, or 0 for a free port)", cfg.File, cfg.Line(fmt.Sprintf("listeners[%d].port", i)), i, addr))
		}
	}
	return out
}
