package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"edge/internal/awsapi"
	"edge/internal/config"
	"edge/internal/objects"
	"edge/internal/s3store"
)

// awsEndpoint is what API Gateway needs from edge serve's AWS endpoint
// (aws.listen): the S3 store truststoreUri objects are read from, the
// state directory its apigateway.json lives in, and the place its
// REST-JSON handler is mounted.
type awsEndpoint interface {
	// Objects reads S3 objects: the endpoint's embedded store.
	Objects() objects.Source
	// StateDir is the shared state directory; "" keeps API state in
	// memory (nothing survives a restart).
	StateDir() string
	// SetAPIGateway mounts the API Gateway handler (awsapi.Services.APIGateway).
	SetAPIGateway(h http.Handler)
	// Shutdown stops the endpoint, letting requests in flight finish
	// until ctx ends.
	Shutdown(ctx context.Context) error
}

// startAWSEndpoint starts the AWS endpoint of cfg.aws.listen for API
// Gateway, or returns nil when there is none.
//
// TODO(cp): this is provisional: an endpoint that serves the embedded S3
// store and API Gateway only, so that the API Gateway walkthrough works
// before the control plane's endpoint (internal/controlplane: S3, ELBv2,
// STS, the state directory) is wired into edge serve. When it is, return
// an adapter of that endpoint here (its S3 store, state directory and the
// hook that sets awsapi.Services.APIGateway) and delete
// provisionalEndpoint; nothing else in the API Gateway wiring changes.
func startAWSEndpoint(cfg *config.Config, log *slog.Logger) (awsEndpoint, error) {
	if cfg.AWS == nil || cfg.AWS.Listen == "" {
		return nil, nil
	}
	dir := awsStateDir(cfg)
	store, err := s3store.New(s3store.Options{Dir: filepath.Join(dir, "s3"), Credentials: cfg.AWS.Credentials})
	if err != nil {
		return nil, config.Problems{cfg.Problem("aws.state_dir", "the embedded S3 store in %s: %v", filepath.Join(dir, "s3"), err)}
	}
	ln, err := net.Listen("tcp", cfg.AWS.Listen)
	if err != nil {
		return nil, config.Problems{cfg.Problem("aws.listen", "cannot listen on %s: %v", cfg.AWS.Listen, unwrapSyscall(err))}
	}
	e := &provisionalEndpoint{objs: store, dir: dir}
	ep := awsapi.New(awsapi.Services{S3: store.Handler(), APIGateway: http.HandlerFunc(e.serveAPIGateway)}, awsapi.Options{Credentials: cfg.AWS.Credentials})
	e.hs = &http.Server{Handler: ep, ReadHeaderTimeout: 30 * time.Second}
	go e.hs.Serve(ln)
	log.Info("AWS endpoint (S3 and API Gateway)", "url", "http://"+ln.Addr().String(), "state_dir", dir)
	return e, nil
}

// awsStateDir is aws.state_dir (relative to the configuration), or
// .edge/state beside the configuration.
func awsStateDir(cfg *config.Config) string {
	if cfg.AWS != nil && cfg.AWS.StateDir != "" {
		return cfg.Path(cfg.AWS.StateDir)
	}
	return cfg.Path(filepath.Join(".edge", "state"))
}

// checkObjects is the S3 store `edge check` reads truststore_uri objects
// from: the embedded store of the state directory when it exists (read,
// never created), else an empty one, so that an object edge serve would
// not find is a problem here too. nil without an aws block.
func checkObjects(cfg *config.Config) (objects.Source, error) {
	if cfg.AWS == nil || cfg.AWS.Listen == "" {
		return nil, nil
	}
	dir := filepath.Join(awsStateDir(cfg), "s3")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return s3store.New(s3store.Options{})
	}
	s, err := s3store.New(s3store.Options{Dir: dir})
	if err != nil {
		return nil, fmt.Errorf("the embedded S3 store in %s: %w", dir, err)
	}
	return s, nil
}

type provisionalEndpoint struct {
	objs  objects.Source
	dir   string
	hs    *http.Server
	apigw atomic.Pointer[http.Handler]
}

func (e *provisionalEndpoint) Objects() objects.Source      { return e.objs }
func (e *provisionalEndpoint) StateDir() string             { return e.dir }
func (e *provisionalEndpoint) SetAPIGateway(h http.Handler) { e.apigw.Store(&h) }

func (e *provisionalEndpoint) Shutdown(ctx context.Context) error {
	err := e.hs.Shutdown(ctx)
	if err != nil {
		e.hs.Close()
	}
	return err
}

func (e *provisionalEndpoint) serveAPIGateway(w http.ResponseWriter, r *http.Request) {
	h := e.apigw.Load()
	if h == nil {
		w.Header().Set("X-Amzn-Errortype", "ServiceUnavailableException")
		http.Error(w, `{"message":"API Gateway is starting"}`, http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}
