package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"edge/configs"
	"edge/internal/admin"
	"edge/internal/config"
	"edge/internal/console"
	"edge/internal/controlplane"
	"edge/internal/gcfloor"
	"edge/internal/pki"
	"edge/internal/server"
)

var serveCmd = &command{
	name:  "serve",
	args:  "-c FILE [flags] | --aws HOST:PORT [flags]",
	short: "serve a configuration until SIGINT or SIGTERM",
	long: `Serves the configuration in FILE: binds every listener, verifies client
certificates as ALB does and writes ALB connection and access logs. SIGHUP,
POST /reload (admin API) or a change to any file the configuration reads
reloads it; a failed reload changes nothing. SIGINT or SIGTERM drains
in-flight requests (shutdown_timeout_seconds) and exits 0.

With --aws (or aws.listen in FILE), edge also serves its AWS endpoint: S3,
ELBv2 and STS as the AWS CLI, boto3, the SDKs and Terraform call them.
Every ELBv2 call takes effect on the listeners before it answers, and is
kept in the state directory across restarts. FILE is optional then.

Environment (see README, Troubleshooting):
  EDGE_DEBUG=1                log each handshake failure with Go's reason
  EDGE_CPUPROFILE=FILE        write a CPU profile of the run
  EDGE_ALLOCPROFILE=FILE      write the allocations of the run at shutdown
  EDGE_GC_HEADROOM_MB=N       garbage-collector headroom (default 16, 0 off)`,
	examples: []string{
		"edge serve -c edge.yaml",
		"EDGE_DEBUG=1 edge serve -c edge.yaml   # why handshakes fail, on stderr",
		"edge serve --aws 127.0.0.1:4566        # an AWS endpoint, listeners from the API only",
		"edge serve -c edge.yaml --aws 127.0.0.1:0 --ephemeral",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		file := configFlag(fs)
		readyFile := readyFileFlag(fs)
		port := portFlag(fs, -1)
		address := addressFlag(fs, "")
		aws := awsFlags(fs, "")
		// Further serve flags: one line each here.
		return func(ctx context.Context, args []string) error {
			if *file == "" && aws.listen == "" {
				return usagef("-c FILE is required (or --aws HOST:PORT, to serve only what the AWS endpoint creates)")
			}
			if *file == "" && (*port >= 0 || *address != "") {
				return usagef("--port and --address override the listener of -c FILE; without a file, listeners come from the AWS endpoint (create-listener --port)")
			}
			if err := noArgs(args); err != nil {
				return err
			}
			return serve(ctx, *file, *readyFile, *port, *address, *aws, cio.stdout, cio.stderr)
		}
	},
}

// awsOptions are the AWS endpoint's flags.
type awsOptions struct {
	// listen is --aws ("" keeps aws.listen; "off" disables the endpoint).
	listen    string
	stateDir  string
	ephemeral bool
	// fallback binds a free port when the quick start's usual one is taken.
	fallback bool
}

func awsFlags(fs *flag.FlagSet, def string) *awsOptions {
	o := &awsOptions{listen: def}
	fs.StringVar(&o.listen, "aws", def, "serve the AWS endpoint (S3, ELBv2, STS) on `HOST:PORT`: port 0 picks a free one, off disables it; overrides aws.listen")
	fs.StringVar(&o.stateDir, "state-dir", "", "keep what the AWS endpoint creates in `DIR` (default: aws.state_dir, or .edge/state beside the configuration)")
	fs.BoolVar(&o.ephemeral, "ephemeral", false, "keep what the AWS endpoint creates in memory only (gone at exit)")
	return o
}

// on reports whether the endpoint runs for cfg.
func (o awsOptions) on(cfg *config.Config) bool {
	if o.listen == "off" {
		return false
	}
	return o.listen != "" || cfg.AWS != nil && cfg.AWS.Listen != ""
}

func serve(ctx context.Context, file, readyFile string, port int, address string, aws awsOptions, stdout, stderr io.Writer) error {
	load := func() (*config.Config, error) {
		if file == "" { // --aws alone: no file layer
			wd, err := os.Getwd()
			if err != nil {
				return nil, err
			}
			cfg, err := config.Parse([]byte("aws: {}\n"), filepath.Join(wd, "edge.yaml"))
			if err != nil {
				return nil, err
			}
			cfg.File = ""
			return cfg, nil
		}
		cfg, err := config.LoadWith(file, config.Options{AWSEndpoint: aws.listen != "" && aws.listen != "off"})
		if err != nil {
			return nil, err
		}
		return cfg, server.OverrideListener(cfg, port, address)
	}
	cfg, err := load()
	if errors.Is(err, server.ErrOverride) {
		return usagef("%v", err)
	} else if err != nil {
		printProblems(stderr, err)
		return errReported
	}
	return fromCode(runServer(ctx, cfg, load, server.Options{}, aws, readyFile, stdout, stderr, nil))
}

// portFlag and addressFlag mean one thing for edge and edge serve: the
// listener's port and bind address (serve: of a one-listener
// configuration, overriding it).
func portFlag(fs *flag.FlagSet, def int) *int {
	return fs.Int("port", def, "`PORT` of the listener: the quick start's, or the only one of -c FILE (0 picks a free one)")
}

func addressFlag(fs *flag.FlagSet, def string) *string {
	return fs.String("address", def, "bind `ADDRESS` of the listener: the quick start's, or the only one of -c FILE (0.0.0.0: every interface)")
}

func readyFileFlag(fs *flag.FlagSet) *string {
	return fs.String("ready-file", "", "once every listener is bound, write a JSON document of their URLs, modes and ports to `PATH` (rewritten by reloads, removed at exit)")
}

// runServer builds and serves cfg until ctx ends. load reads the
// configuration again for reloads (SIGHUP, POST /reload, a changed file).
// aws says whether and how the AWS endpoint runs (its state merged into
// cfg: internal/controlplane). readyFile, when set, gets the ready document
// (server.WriteReadyFile). ready, when set, is called once every listener
// is bound, with the AWS endpoint's URL ("" when it does not run).
func runServer(ctx context.Context, cfg *config.Config, load func() (*config.Config, error), opts server.Options, aws awsOptions, readyFile string, stdout, stderr io.Writer, ready func(srv *server.Server, awsURL string)) int {
	if readyFile != "" {
		if err := server.RemoveReadyFile(readyFile); err != nil { // a stale one
			fmt.Fprintf(stderr, "edge: --ready-file: %v\n", err)
			return exitFail
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	if p := os.Getenv("EDGE_CPUPROFILE"); p != "" {
		// For profiling the hot path under bench/compare.sh load.
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	if p := os.Getenv("EDGE_ALLOCPROFILE"); p != "" {
		// Allocations since start, written at shutdown.
		defer func() {
			if f, err := os.Create(p); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	// Headroom for the collector: a keep-alive load would otherwise
	// collect its 2-4 MB heap dozens of times a second (see gcfloor).
	headroom := uint64(16 << 20)
	if v, err := strconv.ParseUint(os.Getenv("EDGE_GC_HEADROOM_MB"), 10, 32); err == nil {
		headroom = v << 20
	}
	defer gcfloor.Start(headroom).Stop()
	start := func(c *config.Config) (*server.Server, error) {
		snap, err := server.Build(c, opts)
		if err != nil {
			return nil, err
		}
		if ps := logPathProblems(snap.Config); len(ps) > 0 {
			snap.Close()
			return nil, ps
		}
		return server.Start(snap, stdout, stderr, log)
	}
	var cp *controlplane.ControlPlane
	var srv *server.Server
	var err error
	if aws.on(cfg) {
		listen := aws.listen
		cp, err = controlplane.Open(controlplane.Options{File: cfg, Listen: listen, StateDir: aws.stateDir, Ephemeral: aws.ephemeral, FallbackPort: aws.fallback, Log: log})
		if err != nil {
			fmt.Fprintf(stderr, "edge: %v\n", err)
			return exitFail
		}
		defer cp.Shutdown(context.Background())
		srv, err = cp.Start(start)
		load = cp.Loader(load)
	} else {
		srv, err = start(cfg)
	}
	if err != nil {
		printProblems(stderr, startProblem(cfg, err))
		return exitFail
	}
	snap := srv.Snapshot()
	for _, n := range snap.Notes {
		log.Warn(n)
	}
	srv.SetLoader(load)
	for i, a := range srv.Addrs() {
		l := snap.Listeners[i]
		log.Info("listening", "listener", i, "url", listenerURL(l, a), "mode", modeOf(l))
	}
	// API Gateway: data plane, api_gateway block, service on the AWS endpoint.
	var ep awsEndpoint
	if cp != nil {
		ep = cpEndpoint{cp}
	}
	gw, err := startAPIGateway(cfg, opts, srv, ep, log, stdout, stderr)
	if err != nil {
		printProblems(stderr, err)
		srv.Shutdown(context.Background())
		return exitFail
	}
	defer gw.Close()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go srv.Watch(wctx, server.DefaultWatchInterval, server.DefaultWatchDebounce)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-wctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reopening log files and reloading")
				srv.ReopenLogs()
				gw.ReopenLogs()
				srv.ReloadFromSource()
			}
		}
	}()
	var model admin.Model // the revocation endpoints act on the API's model when it runs
	var resources console.AWSResources
	if cp != nil {
		model, resources = cp.ELBv2(), cp.ELBv2()
	}
	// The web console answers / and /console/* of the admin listener.
	adm, err := admin.StartWith(srv, log, model, func(api http.Handler, token func() string) http.Handler {
		return console.Attach(srv, api, console.Options{Token: token, AWS: resources})
	})
	if err != nil {
		fmt.Fprintf(stderr, "edge: admin.listen %s: %v\n", cfg.Admin.Listen, err)
		srv.Shutdown(context.Background())
		return exitFail
	}
	if adm.URL() != "" {
		log.Info("admin API", "url", adm.URL(), "endpoints", "/metrics /healthz /readyz /reload /trust-stores /listeners /connections/recent")
		log.Info("web console", "url", adm.URL(), "token", cfg.Admin.Token != "")
	}
	awsURL := ""
	if cp != nil {
		// Services mounted on the endpoint (cp.SetAPIGateway) go here,
		// before Serve binds it.
		if awsURL, err = cp.Serve(); err != nil {
			fmt.Fprintf(stderr, "edge: %v\n", err)
			adm.Shutdown(context.Background())
			srv.Shutdown(context.Background())
			return exitFail
		}
	}
	if readyFile != "" {
		if err := srv.WriteReadyFile(readyFile); err != nil {
			fmt.Fprintf(stderr, "edge: --ready-file: %v\n", err)
			adm.Shutdown(context.Background())
			srv.Shutdown(context.Background())
			return exitFail
		}
	}
	if ready != nil {
		ready(srv, awsURL)
	} else {
		log.Info("ready", "listeners", len(snap.Listeners))
	}
	<-ctx.Done()
	log.Info("shutting down")
	stopWatch()
	grace := time.Duration(srv.Snapshot().Config.ShutdownTimeoutSeconds) * time.Second
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if cp != nil {
		cp.Shutdown(sctx)
	}
	adm.Shutdown(sctx)
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
	}
	return exitOK
}

func logLevel() slog.Level {
	if os.Getenv("EDGE_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func modeOf(l *server.Listener) string { return l.Mode() }

func listenerURL(l *server.Listener, a net.Addr) string { return l.URL(a.(*net.TCPAddr).Port) }

// startProblem words a failure to start: a taken port names its
// listener's line and what to do.
func startProblem(cfg *config.Config, err error) error {
	var le *server.ListenError
	if !errors.As(err, &le) {
		return err
	}
	key := fmt.Sprintf("listeners[%d].port", le.Listener)
	p := cfg.Problem(key, "cannot listen on %s: %v", le.Addr, unwrapSyscall(le.Err))
	if errors.Is(err, syscall.EADDRINUSE) {
		p = cfg.Problem(key, "%s is already in use (another edge or server listens there): stop it, or choose another port in %s or with --port N (0 picks a free port)", le.Addr, cfg.File)
	}
	if cfg.File == "" { // the quick start's embedded configuration
		p = config.Problem{Msg: fmt.Sprintf("edge: %s is already in use: stop what listens there, or choose another port with --port N (0 picks a free port)", le.Addr)}
		if !errors.Is(err, syscall.EADDRINUSE) {
			p.Msg = fmt.Sprintf("edge: cannot listen on %s: %v (--address and --port choose another)", le.Addr, unwrapSyscall(le.Err))
		}
	}
	p.Err = err // errors.Is(err, syscall.EADDRINUSE) holds through the Problems
	return config.Problems{p}
}

// unwrapSyscall shortens "listen tcp ADDR: bind: REASON" to REASON.
func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// printProblems prints one line per problem.
func printProblems(w io.Writer, err error) {
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(w, p.String())
		}
		return
	}
	fmt.Fprintf(w, "edge: %v\n", err)
}

var quickstartCmd = &command{
	name:  "",
	args:  "[flags] | COMMAND [flags]",
	short: "quick start",
	long: `edge is an offline AWS Application Load Balancer mutual-TLS front door.

Without a command, edge is the quick start: it creates a dev PKI in ./.edge
on first run (root CA, intermediate, server and client certificates,
bundle.pem) and reuses it afterwards, then serves mTLS verify mode on
https://localhost:8443 with a fixed response, logging ALB connection and
access log lines to stdout. It prints a curl command that works as printed.

It also serves the AWS endpoint (S3, ELBv2, STS) on 127.0.0.1:4566 (a free
port, with a message, when that one is taken; --aws off disables it),
keeping what it creates in .edge/state, and prints an aws command that
works as printed.

Exit codes: 0 ok, 1 invalid input or a failed run, 2 usage error.`,
	examples: []string{
		"edge                       # quick start on 127.0.0.1:8443",
		"edge --port 0              # quick start on a free port",
		"edge --address 0.0.0.0     # every interface (the Docker image)",
		"edge --aws 127.0.0.1:0     # the AWS endpoint on a free port",
		"edge serve -h              # the usage of one command",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		port := portFlag(fs, 8443)
		address := addressFlag(fs, "127.0.0.1")
		readyFile := readyFileFlag(fs)
		aws := awsFlags(fs, controlplane.DefaultListen)
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			aws.fallback = aws.listen == controlplane.DefaultListen
			return fromCode(quickstart(ctx, port, *address, *aws, *readyFile, cio.stdout, cio.stderr))
		}
	},
}

func quickstart(ctx context.Context, port *int, address string, aws awsOptions, readyFile string, stdout, stderr io.Writer) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "edge: %v\n", err)
		return exitFail
	}
	dir := filepath.Join(wd, ".edge")
	dev, err := pki.EnsureDev(dir)
	if err != nil {
		fmt.Fprintf(stderr, "edge: %v\n", err)
		return exitFail
	}
	load := func() (*config.Config, error) {
		cfg, err := config.Parse(configs.Default, filepath.Join(wd, "edge.yaml (embedded default)"))
		if err != nil {
			return nil, err
		}
		cfg.File = "" // nothing to watch but the files it names
		cfg.Dir = wd
		cfg.Listeners[0].Port = port
		cfg.Listeners[0].Address = address
		return cfg, nil
	}
	cfg, err := load()
	if err != nil {
		printProblems(stderr, err)
		return exitFail
	}
	verb := "reusing"
	if dev.Created {
		verb = "created"
	}
	return runServer(ctx, cfg, load, server.Options{DevPKIDir: dir}, aws, readyFile, stdout, stderr, func(srv *server.Server, awsURL string) {
		a := srv.Addrs()[0]
		url := listenerURL(srv.Snapshot().Listeners[0], a)
		rel := func(name string) string { return shellQuote(server.RelPath(filepath.Join(dir, name))) }
		fmt.Fprintf(stderr, "\nedge is ready: %s (mTLS verify mode, %s dev PKI in %s)\n", url, verb, server.RelPath(dir))
		fmt.Fprintf(stderr, "Connection and access logs follow on stdout. Try:\n\n")
		fmt.Fprintf(stderr, "  curl --cert %s --key %s --cacert %s %s\n\n", rel(pki.DevClientFullchainFile), rel(pki.DevClientKeyFile), rel(pki.DevRootFile), url)
		fmt.Fprintf(stderr, "Browser: import %s (password %q).\n\n", server.RelPath(filepath.Join(dir, pki.DevClientP12File)), pki.DevClientP12Password)
		if awsURL != "" {
			fmt.Fprintf(stderr, "AWS endpoint (S3, ELBv2, STS, API Gateway; any credentials): %s. Try:\n\n", awsURL)
			fmt.Fprintf(stderr, "  %s\n\n", awsCommand(awsURL, cfg.Region, "elbv2 describe-trust-stores"))
		}
		fmt.Fprintf(stderr, "Stop with Ctrl-C.\n\n")
	})
}

// awsCommand is an aws CLI command line that works as printed against the
// endpoint at url: any credentials do, the CLI only needs some.
func awsCommand(url, region, args string) string {
	return fmt.Sprintf("AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url %s --region %s %s", url, region, args)
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$\\`") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

var versionCmd = &command{
	name:     "version",
	short:    "versions of edge, Go and its modules",
	long:     "Prints the version of edge, of the Go toolchain that built it and of every module it contains.",
	examples: []string{"edge version"},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			return fromCode(version(cio.stdout))
		}
	},
}

func version(w io.Writer) int {
	bi, ok := debug.ReadBuildInfo()
	v := "(devel)"
	if ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	fmt.Fprintf(w, "edge %s\n", v)
	if ok {
		fmt.Fprintf(w, "go %s\n", bi.GoVersion)
		for _, d := range bi.Deps {
			fmt.Fprintf(w, "%s %s\n", d.Path, d.Version)
		}
	}
	return exitOK
}
