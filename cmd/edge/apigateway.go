package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"edge/internal/apigateway"
	"edge/internal/config"
	"edge/internal/logfmt"
	"edge/internal/objects"
	"edge/internal/pki"
	"edge/internal/s3store"
	"edge/internal/server"
)

// This file wires internal/apigateway into edge serve and edge check: the
// data plane on api_gateway.listen, the YAML layer compiled from the
// api_gateway block (recompiled on every reload and when a file it reads
// changes), and the control plane on the AWS endpoint.

// apiGateway is edge serve's API Gateway.
type apiGateway struct {
	log            *slog.Logger
	stdout, stderr io.Writer
	main           *server.Server
	ep             awsEndpoint // nil without aws.listen
	srv            *apigateway.Server
	svc            *apigateway.Service // nil without an AWS endpoint
	file           atomic.Pointer[apigateway.State]
	// access and exec are the log sinks handed to the data plane; a
	// reload swaps what they write to.
	access, exec *swapSink
	shutdown     time.Duration
	stopWatch    context.CancelFunc

	mu       sync.Mutex // serializes reloads; guards the fields below
	cfg      *config.Config
	listen   string // the address bound ("" when none)
	accessTo string // the destinations the sinks write to
	execTo   string
	files    map[string]fileStamp // what the compiled layer read
}

// startAPIGateway starts edge serve's API Gateway when cfg has an
// api_gateway block or an AWS endpoint (whose API Gateway service creates
// domains and APIs), records its URL for the ready file and follows the
// main server's reloads. It returns nil, nil when there is nothing to
// start. Errors are config.Problems at the block's lines when they are
// the configuration's.
//
// ep is the AWS endpoint (nil without one): its API Gateway service is
// mounted there.
func startAPIGateway(cfg *config.Config, opts server.Options, main *server.Server, ep awsEndpoint, log *slog.Logger, stdout, stderr io.Writer) (*apiGateway, error) {
	if cfg.APIGateway == nil && ep == nil {
		return nil, nil
	}
	g := &apiGateway{log: log, stdout: stdout, stderr: stderr, main: main, ep: ep, cfg: cfg, shutdown: time.Duration(cfg.ShutdownTimeoutSeconds) * time.Second}
	fail := func(err error) (*apiGateway, error) {
		g.Close()
		return nil, err
	}
	c := blockOf(cfg)
	st, err := compileAPIGateway(cfg, ep)
	if err != nil {
		return fail(err)
	}
	g.file.Store(st)
	g.files = stampFiles(apiGatewayFiles(cfg))
	access, exec, err := c.OpenLogs(cfg.Dir, stdout, stderr)
	if err != nil {
		return fail(config.Problems{cfg.Problem("api_gateway", "%v", err)})
	}
	g.access, g.exec = newSwapSink(access), newSwapSink(exec)
	g.accessTo, g.execTo = c.AccessLog, c.ExecutionLog
	devDir := opts.DevPKIDir
	if devDir == "" {
		devDir = cfg.Path(".edge")
	}
	dev, err := pki.EnsureDev(devDir)
	if err != nil {
		return fail(err)
	}
	so := apigateway.ServerOptions{
		Region: cfg.Region, AccountID: cfg.AccountID, DevCA: dev.Intermediate,
		FileLayer: g.file.Load, AccessLog: g.access, AccessLogFormat: c.AccessLogFormat, ExecutionLog: g.exec,
		HandshakeTimeout: time.Duration(cfg.ClientHandshakeTimeoutSeconds) * time.Second,
	}
	if g.srv, err = apigateway.NewServer(so); err != nil {
		return fail(config.Problems{cfg.Problem("api_gateway", "%v", err)})
	}
	if ep != nil {
		var store *apigateway.Store
		var err error
		if ep.StateDir() == "" { // --ephemeral: nothing written beside the config
			store, err = apigateway.OpenEphemeral()
		} else {
			store, err = apigateway.OpenStore(ep.StateDir())
		}
		if err != nil {
			return fail(err)
		}
		g.svc, err = apigateway.New(apigateway.Options{Region: cfg.Region, Objects: ep.Objects(), Applier: g.srv, Store: store,
			FileLayer: g.file.Load, RegionalDomainName: regionalDomainName(c.Listen)})
		if err != nil {
			return fail(err)
		}
		// What earlier runs created through the API serves again.
		if err := g.srv.Apply(context.Background(), g.svc.State()); err != nil {
			return fail(err)
		}
		ep.SetAPIGateway(g.svc.Handler())
	}
	if err := g.bind(c.Listen); err != nil {
		return fail(config.Problems{cfg.Problem("api_gateway.listen", "%v", err)})
	}
	main.OnReload(func(old, cur *server.Snapshot) {
		// ELBv2 calls and file edits elsewhere reload the main server;
		// the block is recompiled only when it changed (the files it names
		// are watched, and SIGHUP reopens its logs: serve.go).
		if cur.Config != old.Config && !sameBlock(old.Config, cur.Config) {
			g.reload(cur.Config)
		}
	})
	wctx, stop := context.WithCancel(context.Background())
	g.stopWatch = stop
	go g.watch(wctx, server.DefaultWatchInterval)
	return g, nil
}

// sameBlock tells whether a and b compile to the same API Gateway file
// layer: the same api_gateway block, read relative to the same directory.
func sameBlock(a, b *config.Config) bool {
	return a.Dir == b.Dir && reflect.DeepEqual(a.APIGateway, b.APIGateway)
}

// blockOf is cfg's api_gateway block, or an empty one.
func blockOf(cfg *config.Config) *apigateway.Config {
	if cfg.APIGateway != nil {
		return cfg.APIGateway
	}
	return &apigateway.Config{}
}

// compileAPIGateway compiles cfg's api_gateway block (nil without one),
// reading truststore_uri objects from the AWS endpoint's S3 store.
func compileAPIGateway(cfg *config.Config, ep awsEndpoint) (*apigateway.State, error) {
	if cfg.APIGateway == nil {
		return nil, nil
	}
	var objs objects.Source
	if ep != nil {
		objs = ep.Objects()
	}
	st, ps := cfg.APIGateway.Compile(context.Background(), cfg.Dir, objs)
	if len(ps) > 0 {
		return nil, cfg.APIGatewayProblems(ps)
	}
	return st, nil
}

// regionalDomainName is the host the control plane reports as every
// domain's regionalDomainName: the listener's address, or 127.0.0.1 for
// every interface or none.
func regionalDomainName(listen string) string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" || net.ParseIP(host).IsUnspecified() {
		return "127.0.0.1"
	}
	return host
}

// bind moves the data plane to addr ("" closes it): the new address is
// bound first, so a failure leaves the old one serving. Called at start
// and, with g.mu held, by reloads.
func (g *apiGateway) bind(addr string) error {
	if addr == g.listen && (addr == "" || g.srv.Addr() != nil) {
		return nil
	}
	var ln net.Listener
	if addr != "" {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return errors.New("cannot listen on " + addr + ": " + unwrapSyscall(err).Error())
		}
	}
	if old := g.srv.Addr(); old != nil {
		g.srv.Close()
		g.log.Info("API Gateway stopped listening", "url", "https://"+old.String()+"/")
	}
	g.listen = addr
	if ln == nil {
		g.main.SetAPIGatewayURL("")
		return nil
	}
	g.srv.Serve(ln)
	url := "https://" + ln.Addr().String() + "/"
	g.main.SetAPIGatewayURL(url)
	n := 0
	if st := g.file.Load(); st != nil {
		n = len(st.DomainNames)
	}
	args := []any{"url", url, "domains_in_file", n}
	if g.svc != nil {
		if st := g.svc.State(); st != nil {
			args = append(args, "domains_from_api", len(st.DomainNames))
		}
	}
	g.log.Info("API Gateway listening", args...)
	return nil
}

// reload applies cfg's api_gateway block: it compiles it, swaps the file
// layer in and rebuilds the data plane, then follows a changed listen
// address and log destinations. A block that does not compile changes
// nothing; the problems are logged.
func (g *apiGateway) reload(cfg *config.Config) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reloadLocked(cfg)
}

// reloadFiles recompiles the latest configuration's block (watch).
func (g *apiGateway) reloadFiles() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reloadLocked(g.cfg)
}

// reloadLocked runs when the block changed (the main server's reload
// hook, which skips unchanged blocks: sameBlock) or a file it names did
// (watch), so each run is worth its INFO line.
func (g *apiGateway) reloadLocked(cfg *config.Config) {
	// The latest configuration, applied or not: a file it names that
	// appears or changes later is compiled with it.
	g.cfg = cfg
	files := stampFiles(apiGatewayFiles(cfg))
	st, err := compileAPIGateway(cfg, g.ep)
	if err != nil {
		g.files = files // retried when a file changes again
		g.logFailure(err)
		return
	}
	prev := g.file.Swap(st)
	if err := g.srv.Reload(); err != nil {
		g.file.Store(prev)
		g.files = files
		g.logFailure(err)
		return
	}
	g.files = files
	g.ReopenLogs() // SIGHUP reloads: file: logs reopen their path (logrotate)
	c := blockOf(cfg)
	if err := g.srv.SetAccessLogFormat(c.AccessLogFormat); err != nil {
		g.logFailure(err) // Validate checked it: not expected
	}
	if c.AccessLog != g.accessTo || c.ExecutionLog != g.execTo {
		if access, exec, err := c.OpenLogs(cfg.Dir, g.stdout, g.stderr); err != nil {
			g.logFailure(err)
		} else {
			g.access.swap(access)
			g.exec.swap(exec)
			g.accessTo, g.execTo = c.AccessLog, c.ExecutionLog
		}
	}
	if err := g.bind(c.Listen); err != nil {
		g.log.Error("API Gateway: the new api_gateway.listen cannot be bound; the old address keeps serving", "err", err)
	}
	g.log.Info("API Gateway configuration reloaded", "domains_in_file", countDomains(st))
}

func countDomains(st *apigateway.State) int {
	if st == nil {
		return 0
	}
	return len(st.DomainNames)
}

func (g *apiGateway) logFailure(err error) {
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			g.log.Error("the api_gateway block was not applied; the previous API Gateway configuration keeps serving (the rest of the configuration reloads on its own)", "problem", p.String())
		}
		return
	}
	g.log.Error("the api_gateway block was not applied; the previous API Gateway configuration keeps serving (the rest of the configuration reloads on its own)", "err", err)
}

// watch recompiles the block when a file it read (a truststore, a
// certificate or key) changes and then stays unchanged for one more poll.
// Changes to the configuration file itself come through the main server's
// reloads.
func (g *apiGateway) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var pending map[string]fileStamp
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g.mu.Lock()
		seen := g.files
		g.mu.Unlock()
		now := stampFiles(keys(seen))
		switch {
		case sameFiles(now, seen):
			pending = nil
		case pending == nil || !sameFiles(now, pending):
			pending = now // changed: wait until it holds still
		default:
			g.log.Info("API Gateway: a file of the api_gateway block changed; recompiling")
			g.reloadFiles()
			pending = nil
		}
	}
}

// ReopenLogs makes file: destinations reopen their path (SIGHUP).
func (g *apiGateway) ReopenLogs() {
	if g == nil {
		return
	}
	g.access.reopen()
	g.exec.reopen()
}

// Close stops the data plane (letting requests in flight finish within
// shutdown_timeout_seconds), the AWS endpoint and the logs. It accepts a
// nil or half-started g.
func (g *apiGateway) Close() {
	if g == nil {
		return
	}
	if g.stopWatch != nil {
		g.stopWatch()
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.shutdown)
	defer cancel()
	if g.ep != nil {
		g.ep.Shutdown(ctx)
	}
	if g.srv != nil {
		g.srv.Shutdown(ctx)
	}
	if g.access != nil {
		g.access.Close()
		g.exec.Close()
	}
}

// apiGatewayFiles lists the files cfg's api_gateway block reads.
func apiGatewayFiles(cfg *config.Config) []string {
	var out []string
	if cfg.APIGateway == nil {
		return nil
	}
	for _, d := range cfg.APIGateway.DomainNames {
		if c := d.Certificate; c != nil {
			out = append(out, cfg.Path(c.Cert), cfg.Path(c.Key))
		}
		if m := d.MutualTLS; m != nil && m.Truststore != "" {
			out = append(out, cfg.Path(m.Truststore))
		}
	}
	return out
}

// fileStamp is what watch compares: size, modification time and identity.
type fileStamp struct {
	size int64
	mod  time.Time
	fi   os.FileInfo
}

func stampFiles(files []string) map[string]fileStamp {
	out := make(map[string]fileStamp, len(files))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			out[filepath.Clean(f)] = fileStamp{fi.Size(), fi.ModTime(), fi}
		} else {
			out[filepath.Clean(f)] = fileStamp{}
		}
	}
	return out
}

func sameFiles(a, b map[string]fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for f, x := range a {
		y, ok := b[f]
		if !ok || (x.fi == nil) != (y.fi == nil) {
			return false
		}
		if x.fi != nil && (x.size != y.size || !x.mod.Equal(y.mod) || !os.SameFile(x.fi, y.fi)) {
			return false
		}
	}
	return true
}

func keys(m map[string]fileStamp) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// swapSink is a log sink whose destination a reload can replace.
type swapSink struct{ cur atomic.Pointer[logfmt.Sink] }

func newSwapSink(s logfmt.Sink) *swapSink {
	w := &swapSink{}
	w.cur.Store(&s)
	return w
}

func (w *swapSink) Write(line []byte) { (*w.cur.Load()).Write(line) }

func (w *swapSink) Close() error { return (*w.cur.Load()).Close() }

// swap writes to s from now on and closes the old destination.
func (w *swapSink) swap(s logfmt.Sink) {
	old := w.cur.Swap(&s)
	(*old).Close()
}

func (w *swapSink) reopen() {
	if r, ok := (*w.cur.Load()).(interface{ Reopen() }); ok {
		r.Reopen()
	}
}

// checkAPIGateway compiles cfg's api_gateway block as edge serve would
// (reading its files, and truststore_uri objects from the embedded S3
// store when the state directory has one) and returns its problems, or a
// summary writer for edge check.
func checkAPIGateway(cfg *config.Config) (config.Problems, func(io.Writer)) {
	if cfg.APIGateway == nil {
		return nil, func(io.Writer) {}
	}
	objs, err := checkObjects(cfg)
	if err != nil {
		return config.Problems{cfg.Problem("aws.state_dir", "%v", err)}, nil
	}
	st, ps := cfg.APIGateway.Compile(context.Background(), cfg.Dir, objs)
	if len(ps) > 0 {
		return cfg.APIGatewayProblems(ps), nil
	}
	return nil, func(w io.Writer) { apigateway.WriteSummary(w, cfg.APIGateway, st) }
}

// demoAPIGatewayConfig continues the walkthrough with edge serve: the
// file-only form of its domain, with the truststore the demo uploaded and
// a MOCK integration in place of the demo's target.
const demoAPIGatewayConfig = `# Written by edge demo --api-gateway. Run it with: edge serve -c edge.yaml
api_gateway:
  listen: 127.0.0.1:8444
  domain_names:
    - domain_name: api.example.test   # certificate: the dev CA's (.edge/root.pem)
      security_policy: TLS_1_2
      mutual_tls_authentication:
        truststore: truststore.pem    # root + intermediate: the whole chain
      base_path_mappings:
        - {base_path: "", rest_api: pets, stage: prod}
  rest_apis:
    - name: pets
      disable_execute_api_endpoint: true
      stages: [{name: prod}]
      routes:
        - path: /{proxy+}
          method: ANY
          integration: {type: MOCK, mock_status: 200, mock_body: '{"hello": "from the demo"}'}
`

// demoAPIGateway is edge demo --api-gateway: apigateway.RunDemoWith on
// the embedded S3 store, its transcript, then one row per checked request.
func demoAPIGateway(ctx context.Context, keep string, stdout, stderr io.Writer) int {
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "edge-demo-apigw-")
		if err != nil {
			fmt.Fprintf(stderr, "edge demo: %v\n", err)
			return exitFail
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	store, err := s3store.New(s3store.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "edge demo: %v\n", err)
		return exitFail
	}
	var rows []apigateway.DemoRow
	err = apigateway.RunDemoWith(ctx, stdout, dir, apigateway.DemoOptions{Objects: &demoS3{store}, Curl: true,
		Row: func(r apigateway.DemoRow) { rows = append(rows, r) }})
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tCLIENT\tEXPECTED\tGOT")
	for _, r := range rows {
		mark := ""
		if !r.OK {
			mark = "  <- unexpected"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\n", r.Step, r.Client, r.Expected, r.Got, mark)
	}
	tw.Flush()
	if err != nil {
		fmt.Fprintf(stderr, "edge demo --api-gateway: %v\n", err)
		return exitFail
	}
	if keep != "" {
		if err := pki.WriteFile(filepath.Join(dir, "edge.yaml"), []byte(demoAPIGatewayConfig), false, true); err != nil {
			fmt.Fprintf(stderr, "edge demo: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "\nCertificates, truststore and an edge.yaml kept in %s. Continue with:\n  cd %s && edge serve -c edge.yaml\n"+
			"  curl --resolve api.example.test:8444:127.0.0.1 --cacert .edge/root.pem --key client.key --cert client.pem https://api.example.test:8444/pets\n",
			dir, shellQuote(dir))
	}
	return exitOK
}

// demoS3 uploads the demo's truststore versions to the embedded S3 store
// through its S3 protocol handler, as aws s3 cp would.
type demoS3 struct{ *s3store.Store }

func (s *demoS3) Put(ctx context.Context, bucket, key string, data []byte) (string, error) {
	do := func(method, path string, body []byte) (*httptest.ResponseRecorder, error) {
		req := httptest.NewRequestWithContext(ctx, method, "http://127.0.0.1"+path, bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Length", fmt.Sprint(len(body)))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code >= 300 && rec.Code != http.StatusConflict { // 409: the bucket exists
			return nil, fmt.Errorf("S3 %s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec, nil
	}
	if v, _ := s.Versioning(ctx, bucket); v != "Enabled" {
		if _, err := do("PUT", "/"+bucket, nil); err != nil {
			return "", err
		}
		cfg := `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`
		if _, err := do("PUT", "/"+bucket+"?versioning", []byte(cfg)); err != nil {
			return "", err
		}
	}
	rec, err := do("PUT", "/"+bucket+"/"+key, data)
	if err != nil {
		return "", err
	}
	return rec.Header().Get("X-Amz-Version-Id"), nil
}
