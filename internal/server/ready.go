package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"edge/internal/config"
)

// ReadyDocument is what `edge serve --ready-file PATH` writes once every
// listener (and the admin API) is bound, for harnesses that start edge on
// port 0: where to connect, without parsing logs. Field names are
// snake_case, as in the configuration.
type ReadyDocument struct {
	// PID is edge's process id (to signal it: SIGHUP reloads, SIGTERM
	// stops).
	PID int `json:"pid"`
	// Listeners are the configuration's listeners, in order.
	Listeners []ReadyListener `json:"listeners"`
	// AdminURL is the admin API's base URL (http://127.0.0.1:9901/), ""
	// when admin.listen is empty.
	AdminURL string `json:"admin_url"`
	// AWSEndpointURL is edge's AWS API endpoint (http://127.0.0.1:4566),
	// null when it does not run (no aws.listen, no --aws).
	AWSEndpointURL *string `json:"aws_endpoint_url"`
	// APIGatewayURL is the API Gateway data plane's listener
	// (https://127.0.0.1:8444/, every custom domain by SNI), null without
	// an api_gateway.listen.
	APIGatewayURL *string `json:"api_gateway_url"`
}

// ReadyListener is one bound listener.
type ReadyListener struct {
	// Index is the listener's position in the configuration.
	Index int `json:"index"`
	// URL is what a client connects to (https://localhost:PORT/ when the
	// dev CA issued the certificate for a loopback listener).
	URL string `json:"url"`
	// Protocol is HTTPS or HTTP.
	Protocol string `json:"protocol"`
	// Address is the bind address; Port the port bound (the one the
	// system chose for port 0).
	Address string `json:"address"`
	Port    int    `json:"port"`
	// Mode is the mutual-authentication mode: off, passthrough or verify
	// (off on HTTP listeners).
	Mode string `json:"mode"`
	// TrustStore is the trust store of a verify listener.
	TrustStore string `json:"trust_store,omitempty"`
	// ListenerArn is the ARN of a listener the AWS endpoint's API made
	// (absent for the configuration file's). Index is a position, which
	// a reload that adds or removes a file listener shifts: find an API
	// listener by its ARN, any listener by its port or URL.
	ListenerArn string `json:"listener_arn,omitempty"`
}

// SetAdminURL records the admin API's URL for the ready document.
func (s *Server) SetAdminURL(url string) {
	s.reloadMu.Lock()
	s.adminURL = url
	s.reloadMu.Unlock()
}

// SetAPIGatewayURL records the API Gateway listener's URL for the ready
// document ("" for none). It may be called from an OnReload hook; the
// reload then rewrites the ready file with it.
func (s *Server) SetAPIGatewayURL(url string) {
	if url == "" {
		s.apiGatewayURL.Store(nil)
		return
	}
	s.apiGatewayURL.Store(&url)
}

// SetAWSEndpointURL records the AWS endpoint's URL for the ready document
// ("" for none).
func (s *Server) SetAWSEndpointURL(url string) {
	s.reloadMu.Lock()
	s.awsURL = url
	s.reloadMu.Unlock()
}

// ReadyDocument describes the listeners being served now.
func (s *Server) ReadyDocument() ReadyDocument {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.readyDocument(s.current.Load())
}

func (s *Server) readyDocument(snap *Snapshot) ReadyDocument {
	d := ReadyDocument{PID: os.Getpid(), AdminURL: s.adminURL, Listeners: []ReadyListener{}, APIGatewayURL: s.apiGatewayURL.Load()}
	if s.awsURL != "" {
		u := s.awsURL
		d.AWSEndpointURL = &u
	}
	for i, l := range snap.Listeners {
		port := snap.sockets[i].port
		mode := l.Mode()
		if mode == "-" {
			mode = "off"
		}
		d.Listeners = append(d.Listeners, ReadyListener{Index: l.Index, URL: l.URL(port), Protocol: l.Protocol, Address: l.Address, Port: port, Mode: mode, TrustStore: l.TrustStoreName, ListenerArn: l.ARN})
	}
	return d
}

// RemoveReadyFile removes a ready file left by an earlier run, so that a
// harness waiting for it does not read stale ports. A missing file is no
// error.
func RemoveReadyFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// WriteReadyFile writes the ready document to path, and again after every
// reload that changes it (a new port, a changed mode); a reader never sees
// a partial file (a temporary file in the same directory is renamed over
// path). Shutdown removes it.
func (s *Server) WriteReadyFile(path string) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.readyPath = path
	_, err := s.writeReady(s.current.Load())
	return err
}

// writeReady rewrites the ready file when the document changed, and
// reports whether it did; called with reloadMu held.
func (s *Server) writeReady(snap *Snapshot) (bool, error) {
	if s.readyPath == "" {
		return false, nil
	}
	data, err := json.MarshalIndent(s.readyDocument(snap), "", "  ")
	if err != nil {
		return false, err
	}
	data = append(data, '\n')
	if bytes.Equal(data, s.readyLast) {
		return false, nil
	}
	if err := writeAtomic(s.readyPath, data); err != nil {
		return false, err
	}
	s.readyLast = data
	return true, nil
}

// writeAtomic writes data to a temporary file beside path and renames it
// over path.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// ErrOverride is returned by OverrideListener for an override that
// cannot apply: a configuration with several listeners (or none), or a
// port outside 0-65535.
var ErrOverride = errors.New("invalid --port/--address override")

// OverrideListener sets the port (when port >= 0) and the bind address
// (when address is not "") of cfg's only listener, for `edge serve --port
// --address`; it does nothing when neither is set. The error wraps
// ErrOverride.
func OverrideListener(cfg *config.Config, port int, address string) error {
	if port < 0 && address == "" {
		return nil
	}
	if n := len(cfg.Listeners); n != 1 {
		return fmt.Errorf("%w: --port and --address apply to a configuration with one listener; %s has %d (set their ports in the file)", ErrOverride, cfg.File, n)
	}
	if port > 65535 {
		return fmt.Errorf("%w: --port %d is not a port (1-65535, or 0 for any free port)", ErrOverride, port)
	}
	l := &cfg.Listeners[0]
	if port >= 0 {
		l.Port = &port
	}
	if address != "" {
		l.Address = address
	}
	return nil
}
