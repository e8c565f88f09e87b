package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"edge/internal/config"
	"edge/internal/controlplane"
	"edge/internal/server"
)

var exportCmd = &command{
	name:  "export",
	args:  "[-c FILE] [--state-dir DIR] --out DIR",
	short: "write the AWS endpoint's state (and FILE) as one edge.yaml",
	long: `Writes what edge serves from the AWS endpoint's state directory — with the
configuration FILE, when given — as DIR/edge.yaml, and copies every bundle,
CRL, certificate and key it reads beside it. edge serve -c DIR/edge.yaml
then serves the same load balancers, listeners and verdicts without the AWS
endpoint: load balancer ids, revocation ids and names are the API's. The
state directory is --state-dir, else FILE's aws.state_dir, else .edge/state
beside FILE (or in the working directory without FILE). Run it while edge
is stopped, or accept the state of the last completed call. DIR must not
hold an edge.yaml (or a file export would overwrite) yet; a failed export
leaves nothing in it. Export covers ELBv2 state: without load balancer
listeners (an API Gateway only configuration) there is nothing to export,
and the api_gateway block is always left out.`,
	examples: []string{
		"edge export -c edge.yaml --out exported",
		"edge export --state-dir .edge/state --out exported && edge serve -c exported/edge.yaml",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		file := configFlag(fs)
		stateDir := fs.String("state-dir", "", "the AWS endpoint's state `DIR` (default: aws.state_dir of -c FILE, or .edge/state beside it)")
		out := fs.String("out", "", "write edge.yaml and its files into `DIR` (created)")
		return func(ctx context.Context, args []string) error {
			if *out == "" {
				return usagef("--out DIR is required")
			}
			if err := noArgs(args); err != nil {
				return err
			}
			return export(*file, *stateDir, *out, cio.stdout, cio.stderr)
		}
	},
}

func export(file, stateDir, out string, stdout, stderr io.Writer) error {
	var cfg *config.Config
	if file != "" {
		var err error
		if cfg, err = config.Load(file); err != nil {
			printProblems(stderr, err)
			return errReported
		}
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if cfg, err = config.Parse([]byte("aws: {}\n"), filepath.Join(wd, "edge.yaml")); err != nil {
			return err
		}
		cfg.File = ""
	}
	dir := controlplane.StateDirFor(cfg, stateDir)
	if file == "" {
		cfg = nil
	}
	res, err := controlplane.Export(dir, cfg, out)
	if err != nil {
		return err
	}
	c := res.Config
	var lbs []string
	for _, l := range c.Listeners {
		if l.LoadBalancer == "" || l.LoadBalancer == c.Name {
			lbs = append(lbs, c.Name)
			break
		}
	}
	for _, lb := range c.LoadBalancers {
		lbs = append(lbs, lb.Name)
	}
	fmt.Fprintf(stdout, "wrote %s from %s: %d listeners, %d trust stores, %d target groups, load balancers %s\n",
		server.RelPath(filepath.Join(out, controlplane.ExportFile)), server.RelPath(dir), len(c.Listeners), len(c.TrustStores), len(c.TargetGroups), strings.Join(lbs, ", "))
	if len(res.Files) > 0 {
		fmt.Fprintf(stdout, "  beside it: %s\n", strings.Join(res.Files, ", "))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	return nil
}
