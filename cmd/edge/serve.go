package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	"edge/internal/gcfloor"
	"edge/internal/pki"
	"edge/internal/server"
)

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func configFlag(fs *flag.FlagSet) *string {
	p := fs.String("c", "", "configuration `FILE`")
	fs.StringVar(p, "config", "", "configuration `FILE` (same as -c)")
	return p
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("edge serve", stderr)
	file := configFlag(fs)
	readyFile := readyFileFlag(fs)
	port := fs.Int("port", -1, "override the port of the configuration's only listener (0 picks a free one)")
	address := fs.String("address", "", "override the bind address of the configuration's only listener")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: edge serve -c FILE [--ready-file PATH] [--port N] [--address IP]")
		return exitUsage
	}
	load := func() (*config.Config, error) {
		cfg, err := config.Load(*file)
		if err != nil {
			return nil, err
		}
		return cfg, server.OverrideListener(cfg, *port, *address)
	}
	cfg, err := load()
	if errors.Is(err, server.ErrOverride) {
		fmt.Fprintf(stderr, "edge serve: %v\n", err)
		return exitUsage
	} else if err != nil {
		printProblems(stderr, err)
		return exitFail
	}
	return runServer(ctx, cfg, load, server.Options{}, *readyFile, stdout, stderr, nil)
}

func readyFileFlag(fs *flag.FlagSet) *string {
	return fs.String("ready-file", "", "once every listener is bound, write a JSON document of their URLs, modes and ports to `PATH` (rewritten by reloads, removed at exit)")
}

// runServer builds and serves cfg until ctx ends. load reads the
// configuration again for reloads (SIGHUP, POST /reload, a changed file).
// readyFile, when set, gets the ready document (server.WriteReadyFile).
// ready, when set, is called once every listener is bound.
func runServer(ctx context.Context, cfg *config.Config, load func() (*config.Config, error), opts server.Options, readyFile string, stdout, stderr io.Writer, ready func(*server.Server)) int {
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
	snap, err := server.Build(cfg, opts)
	if err != nil {
		printProblems(stderr, err)
		return exitFail
	}
	for _, n := range snap.Notes {
		log.Warn(n)
	}
	srv, err := server.Start(snap, stdout, stderr, log)
	if err != nil {
		fmt.Fprintf(stderr, "edge: %v\n", err)
		return exitFail
	}
	srv.SetLoader(load)
	for i, a := range srv.Addrs() {
		l := snap.Listeners[i]
		log.Info("listening", "listener", i, "url", listenerURL(l, a), "mode", modeOf(l))
	}
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
				log.Info("SIGHUP: reloading")
				srv.ReloadFromSource()
			}
		}
	}()
	adm, err := admin.Start(srv, log)
	if err != nil {
		fmt.Fprintf(stderr, "edge: admin.listen %s: %v\n", cfg.Admin.Listen, err)
		srv.Shutdown(context.Background())
		return exitFail
	}
	if adm.URL() != "" {
		log.Info("admin API", "url", adm.URL(), "endpoints", "/metrics /healthz /readyz /reload /trust-stores /listeners /connections/recent")
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
		ready(srv)
	} else {
		log.Info("ready", "listeners", len(snap.Listeners))
	}
	<-ctx.Done()
	log.Info("shutting down")
	stopWatch()
	grace := time.Duration(srv.Snapshot().Config.ShutdownTimeoutSeconds) * time.Second
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
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

func check(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("edge check", stderr)
	file := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: edge check -c FILE")
		return exitUsage
	}
	cfg, err := config.Load(*file)
	if err != nil {
		printProblems(stderr, err)
		return exitFail
	}
	snap, err := server.Build(cfg, server.Options{CheckOnly: true})
	if err != nil {
		printProblems(stderr, err)
		return exitFail
	}
	defer snap.Close()
	fmt.Fprintf(stdout, "%s: valid\n", *file)
	snap.WriteSummary(stdout)
	return exitOK
}

func quickstart(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("edge", stderr)
	port := fs.Int("port", 8443, "port of the quick-start listener (0 picks a free one)")
	address := fs.String("address", "127.0.0.1", "bind address of the quick-start listener (0.0.0.0 in a container)")
	readyFile := readyFileFlag(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
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
		cfg.Listeners[0].Address = *address
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
	return runServer(ctx, cfg, load, server.Options{DevPKIDir: dir}, *readyFile, stdout, stderr, func(srv *server.Server) {
		a := srv.Addrs()[0]
		url := listenerURL(srv.Snapshot().Listeners[0], a)
		rel := func(name string) string { return shellQuote(server.RelPath(filepath.Join(dir, name))) }
		fmt.Fprintf(stderr, "\nedge is ready: %s (mTLS verify mode, %s dev PKI in %s)\n", url, verb, server.RelPath(dir))
		fmt.Fprintf(stderr, "Connection and access logs follow on stdout. Try:\n\n")
		fmt.Fprintf(stderr, "  curl --cert %s --key %s --cacert %s %s\n\n", rel(pki.DevClientCertFile), rel(pki.DevClientKeyFile), rel(pki.DevRootFile), url)
		fmt.Fprintf(stderr, "Browser: import %s (password %q). Stop with Ctrl-C.\n\n", server.RelPath(filepath.Join(dir, pki.DevClientP12File)), pki.DevClientP12Password)
	})
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$\\`") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
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
