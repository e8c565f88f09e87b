package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"edge/internal/config"
	"edge/internal/controlplane"
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

// cpEndpoint is the control plane's AWS endpoint as API Gateway sees it.
// The control plane owns the endpoint: runServer shuts it down.
type cpEndpoint struct{ cp *controlplane.ControlPlane }

func (e cpEndpoint) Objects() objects.Source { return e.cp.Objects() }

func (e cpEndpoint) StateDir() string {
	if e.cp.Ephemeral() {
		return ""
	}
	return e.cp.StateDir()
}

func (e cpEndpoint) SetAPIGateway(h http.Handler) { e.cp.SetAPIGateway(h) }

func (e cpEndpoint) Shutdown(context.Context) error { return nil }

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
