// Package controlplane wires edge's AWS endpoint into a running edge: the
// plain-HTTP endpoint (internal/awsapi) with the embedded or an external S3
// store (internal/s3store), the ELBv2 service (internal/elbv2) and STS, and
// the Applier that makes every ELBv2 mutation live before the call
// answers.
//
// The model is one configuration from two layers: the file layer (edge.yaml,
// reloaded by SIGHUP, POST /reload and file watching) and the API layer (the
// ELBv2 state in the state directory). The configuration edge serves is
// always elbv2.Derive(API state, file layer): a mutating call derives it
// with the candidate state, builds and swaps it through server.Reload, and
// only then is the state persisted and the call answered; a reload of the
// file derives it with the applied state (Loader). A failed build answers
// an AWS error (DuplicateListener for a port that does not bind,
// InvalidConfigurationRequest otherwise) and changes nothing.
//
// Use: Open (reads the state, opens S3; binds nothing), Start (builds and
// starts the server from the derived configuration; a state that no longer
// builds starts edge without the parts that fail, each reported), Loader
// (for server.SetLoader), optionally SetAPIGateway, then Serve (binds the
// endpoint), and Shutdown.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"edge/internal/awsapi"
	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/objects"
	"edge/internal/s3store"
	"edge/internal/server"
	"edge/internal/sts"
)

// DefaultListen is the endpoint address of the quick start (LocalStack's
// port).
const DefaultListen = "127.0.0.1:4566"

// DefaultStateDir is the state directory, relative to the configuration
// file's directory, when neither --state-dir nor aws.state_dir names one.
const DefaultStateDir = ".edge/state"

// Options configure the control plane.
type Options struct {
	// File is the file layer as config.Load returned it (validated); its
	// aws, s3, quotas, region and account_id blocks configure the control
	// plane. Required.
	File *config.Config
	// Listen is the endpoint's host:port (port 0 picks a free port);
	// "" takes aws.listen.
	Listen string
	// StateDir overrides aws.state_dir; relative paths are relative to the
	// working directory.
	StateDir string
	// Ephemeral keeps the state and the embedded S3 store in memory.
	Ephemeral bool
	// FallbackPort binds a free port on Listen's host when Listen's port
	// is taken (the quick start), logging which.
	FallbackPort bool
	// Log receives the control plane's messages; nil discards them.
	Log *slog.Logger
}

// ControlPlane is the AWS endpoint of one edge process and the applier of
// its ELBv2 service.
type ControlPlane struct {
	o        Options
	log      *slog.Logger
	listen   string
	stateDir string
	store    *elbv2.Store
	s3       *s3store.Store // nil with an external S3 server
	objects  objects.Source
	external string // the external S3 endpoint, "" when embedded
	elb      *elbv2.Service
	quotas   elbv2.Quotas
	services awsapi.Services

	// mu serialises deriving and applying: a mutation's whole Apply, the
	// Loader's derivation and refreshes. Reload hooks never take it.
	mu       sync.Mutex
	srv      *server.Server
	applied  atomic.Pointer[elbv2.State] // the API state being served
	file     atomic.Pointer[layer]       // the file layer being served
	fileSeq  atomic.Int64
	excluded map[string]bool // API listeners that did not bind at start
	tags     tagSet

	httpSrv *http.Server
	url     string
}

// Open reads the state directory and opens the S3 store; it binds
// nothing. Close it with Shutdown.
func Open(o Options) (*ControlPlane, error) {
	if o.File == nil {
		return nil, errors.New("controlplane: Options.File is required")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := o.File
	aws := f.AWS
	if aws == nil {
		aws = &config.AWS{}
	}
	cp := &ControlPlane{o: o, log: log, listen: o.Listen, excluded: map[string]bool{}}
	if cp.listen == "" {
		cp.listen = aws.Listen
	}
	if cp.listen == "" {
		return nil, errors.New("controlplane: no endpoint address (aws.listen or --aws)")
	}
	host, _, err := net.SplitHostPort(cp.listen)
	if err != nil {
		return nil, fmt.Errorf("AWS endpoint address %q is not HOST:PORT (e.g. 127.0.0.1:4566; port 0 picks a free one)", cp.listen)
	}
	if ip := net.ParseIP(host); len(aws.Credentials) == 0 && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("the AWS endpoint on %s would be reachable beyond this machine: set aws.credentials (access key id: secret) in the configuration, so that signatures are checked, or listen on 127.0.0.1", cp.listen)
	}
	switch {
	case o.Ephemeral:
		cp.store, err = elbv2.OpenEphemeral()
	default:
		cp.stateDir = StateDirFor(f, o.StateDir)
		cp.store, err = elbv2.OpenStore(cp.stateDir)
	}
	if err != nil {
		return nil, err
	}
	if s := f.S3; s != nil {
		ext, err := s3store.NewExternal(s3store.ExternalConfig{Endpoint: s.Endpoint, Region: s.Region,
			AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, PathStyle: s.PathStyle})
		if err != nil {
			cp.store.Close()
			return nil, err
		}
		cp.objects, cp.external = ext, s.Endpoint
		cp.services.S3 = externalS3(s.Endpoint)
	} else {
		dir := ""
		if !o.Ephemeral {
			dir = filepath.Join(cp.store.Dir(), "s3")
		}
		cp.s3, err = s3store.New(s3store.Options{Dir: dir, Credentials: aws.Credentials})
		if err != nil {
			cp.store.Close()
			return nil, err
		}
		cp.objects = cp.s3
		cp.services.S3 = cp.s3.Handler()
	}
	cp.quotas = Quotas(f.Quotas)
	cp.file.Store(&layer{cfg: f})
	cp.elb, err = elbv2.New(elbv2.Options{Region: f.Region, AccountID: f.AccountID, Objects: cp.objects, Applier: elbv2.ApplierFunc(cp.apply),
		Store: cp.store, FileLayer: cp.fileLayer, Quotas: cp.quotas})
	if err != nil {
		cp.store.Close()
		return nil, err
	}
	cp.applied.Store(cp.elb.State())
	cp.services.ELBv2 = cp.elb.Handler()
	cp.services.Edge = cp.elb.ArtefactHandler()
	cp.services.STS = sts.New(f.AccountID)
	return cp, nil
}

// fileLayer is the file layer the ELBv2 service shows: the file being
// served.
func (cp *ControlPlane) fileLayer() *config.Config {
	return cp.file.Load().cfg
}

// Quotas converts the config's quotas block to the ELBv2 service's.
func Quotas(q config.Quotas) elbv2.Quotas {
	return elbv2.Quotas{
		LoadBalancers: q.LoadBalancers, ListenersPerLoadBalancer: q.ListenersPerLoadBalancer,
		VerifyListenersPerLoadBalancer: q.VerifyListenersPerLoadBalancer, CertificatesPerLoadBalancer: q.CertificatesPerLoadBalancer,
		TargetGroups: q.TargetGroups, TargetGroupsPerLoadBalancer: q.TargetGroupsPerLoadBalancer, TargetGroupsPerAction: q.TargetGroupsPerAction,
		TargetsPerLoadBalancer: q.TargetsPerLoadBalancer, RulesPerLoadBalancer: q.RulesPerLoadBalancer, TrustStores: q.TrustStores,
		RevocationListsPerTrustStore: q.RevocationListsPerTrustStore, RevocationEntriesPerTrustStore: q.RevocationEntriesPerTrustStore,
		RevocationFileSize: q.RevocationFileSizeBytes, TagsPerResource: q.TagsPerResource,
	}.WithDefaults()
}

// StateDir is the state directory ("" with Ephemeral: the state is in a
// temporary directory removed at Shutdown).
func (cp *ControlPlane) StateDir() string { return cp.stateDir }

// BlobDir is where the state's immutable copies live (StateDir's, or the
// ephemeral store's temporary directory).
func (cp *ControlPlane) BlobDir() string { return cp.store.Dir() }

// Ephemeral reports whether the state is kept in memory only.
func (cp *ControlPlane) Ephemeral() bool { return cp.o.Ephemeral }

// Objects is the S3 source trust stores (and API Gateway truststores)
// are read from: the embedded store or the external server.
func (cp *ControlPlane) Objects() objects.Source { return cp.objects }

// ELBv2 is the ELBv2 service; it also implements admin.Model, so the admin
// API's revocation endpoints act on the same model.
func (cp *ControlPlane) ELBv2() *elbv2.Service { return cp.elb }

// ErrServing is returned by SetAPIGateway after Serve.
var ErrServing = errors.New("controlplane: the endpoint is already serving")

// SetAPIGateway mounts h as the endpoint's API Gateway service (requests
// signed for apigateway, and unsigned /domainnames… and /restapis…). Call
// it between Open and Serve.
func (cp *ControlPlane) SetAPIGateway(h http.Handler) error {
	if cp.httpSrv != nil {
		return ErrServing
	}
	cp.services.APIGateway = h
	return nil
}

// Endpoint limits: the endpoint serves S3 uploads (a 50 MB CRL, multipart
// parts), so it bounds the headers and idle connections, not the body time.
const (
	ReadHeaderTimeout = 30 * time.Second
	IdleTimeout       = 120 * time.Second
)

// ListenError is an endpoint address that could not be bound.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("the AWS endpoint's address %s is in use: stop what listens there, or choose another with --aws HOST:PORT (port 0 picks a free one)", e.Addr)
	}
	return fmt.Sprintf("the AWS endpoint cannot listen on %s: %v", e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Serve binds the endpoint and serves it; it returns the endpoint's URL
// (http://127.0.0.1:PORT, the bound port for port 0). Start must have run.
// A taken address is a *ListenError, unless FallbackPort found a free one.
func (cp *ControlPlane) Serve() (string, error) {
	if cp.srv == nil {
		return "", errors.New("controlplane: Serve before Start")
	}
	ln, err := net.Listen("tcp", cp.listen)
	if err != nil && cp.o.FallbackPort && errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(cp.listen)
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err == nil {
			cp.log.Warn("the AWS endpoint's usual address is in use (another edge or LocalStack?); serving it on a free port instead", "wanted", cp.listen, "bound", ln.Addr().String())
		}
	}
	if err != nil {
		return "", &ListenError{Addr: cp.listen, Err: err}
	}
	cp.httpSrv = &http.Server{
		Handler:           awsapi.New(cp.services, awsapi.Options{Credentials: cp.credentials()}),
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cp.log.Handler(), slog.LevelDebug),
	}
	go cp.httpSrv.Serve(ln)
	cp.url = "http://" + displayAddr(ln.Addr().(*net.TCPAddr))
	cp.srv.SetAWSEndpointURL(cp.url)
	s3 := "embedded"
	if cp.external != "" {
		s3 = "external " + cp.external
	}
	state := cp.stateDir
	if cp.o.Ephemeral {
		state = "(in memory: --ephemeral)"
	}
	services := "S3, ELBv2, STS"
	if cp.services.APIGateway != nil {
		services += ", API Gateway"
	}
	cp.log.Info("AWS endpoint ("+services+")", "url", cp.url, "state_dir", state, "s3", s3, "signatures", cp.signatures())
	return cp.url, nil
}

func (cp *ControlPlane) credentials() map[string]string {
	if a := cp.file.Load().cfg.AWS; a != nil {
		return a.Credentials
	}
	return nil
}

func (cp *ControlPlane) signatures() string {
	if len(cp.credentials()) > 0 {
		return "checked (aws.credentials)"
	}
	return "not checked (any credentials work)"
}

// displayAddr is the address clients use: 127.0.0.1 for a wildcard bind.
func displayAddr(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// URL is the endpoint's URL once Serve returned, else "".
func (cp *ControlPlane) URL() string { return cp.url }

// Shutdown stops the endpoint (letting requests finish until ctx ends)
// and closes the state store (removing an ephemeral one).
func (cp *ControlPlane) Shutdown(ctx context.Context) error {
	var err error
	if cp.httpSrv != nil {
		if err = cp.httpSrv.Shutdown(ctx); err != nil {
			cp.httpSrv.Close()
		}
	}
	return errors.Join(err, cp.store.Close())
}
