package apigateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/awsquery"
	"edge/internal/certfmt"
	"edge/internal/logfmt"
	"edge/internal/pki"
)

// ServerOptions configure the data plane.
type ServerOptions struct {
	// Region is the region of execute-api host names
	// ({restApiId}.execute-api.{region}.amazonaws.com). Default us-east-1.
	Region string
	// AccountID is $context.accountId. Default 123456789012.
	AccountID string
	// DevCA issues the certificates of domains whose certificate edge
	// does not know, and of the execute-api endpoint. nil: an ephemeral
	// CA made at NewServer (pass the dev PKI's intermediate to make
	// clients trust them).
	DevCA *pki.CA
	// CertificateByARN returns the certificate an ACM ARN names, or nil
	// (then a dev certificate is served).
	CertificateByARN func(arn string) *tls.Certificate
	// FileLayer returns the compiled YAML layer (Config.Compile), or nil.
	FileLayer func() *State
	// AccessLog receives access lines; nil discards them.
	AccessLog logfmt.Sink
	// AccessLogFormat is the template for stages without their own
	// accessLogSettings.format. Default DefaultAccessLogFormat.
	AccessLogFormat string
	// ExecutionLog receives the execution-log lines (the 403 reasons);
	// nil discards them.
	ExecutionLog logfmt.Sink
	// HandshakeTimeout bounds a TLS handshake. Default 10 s.
	HandshakeTimeout time.Duration
	// Now is the clock of certificate verification; nil means time.Now.
	Now func() time.Time
}

// Server is the API Gateway data plane: one HTTPS listener for every
// custom domain (chosen by SNI) and the execute-api endpoints.
type Server struct {
	o        ServerOptions
	devCA    *pki.CA
	format   atomic.Pointer[AccessLogFormat]
	snap     atomic.Pointer[snapshot]
	api      atomic.Pointer[State]
	applyMu  sync.Mutex
	certMu   sync.Mutex
	devCerts map[string]*tls.Certificate
	client   *http.Client

	mu   sync.Mutex
	ln   net.Listener
	hs   *http.Server
	done chan struct{}
}

// NewServer returns a data plane serving nothing until Apply (or a file
// layer) gives it domains and APIs, and Listen binds it.
func NewServer(o ServerOptions) (*Server, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if o.AccessLog == nil {
		o.AccessLog = logfmt.Discard{}
	}
	if o.ExecutionLog == nil {
		o.ExecutionLog = logfmt.Discard{}
	}
	if o.AccessLogFormat == "" {
		o.AccessLogFormat = DefaultAccessLogFormat
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f, err := ParseAccessLogFormat(o.AccessLogFormat)
	if err != nil {
		return nil, fmt.Errorf("api_gateway access log format: %w", err)
	}
	s := &Server{o: o, devCA: o.DevCA, devCerts: map[string]*tls.Certificate{}}
	s.format.Store(f)
	if s.devCA == nil {
		root, err := pki.NewRoot(pki.Options{})
		if err != nil {
			return nil, err
		}
		if s.devCA, err = root.NewIntermediate(pki.Options{}); err != nil {
			return nil, err
		}
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// edge does not verify integration endpoints' certificates: local
		// targets rarely hold publicly trusted ones (docs/api-gateway.md).
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	s.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if err := s.rebuild(NewState()); err != nil {
		return nil, err
	}
	return s, nil
}

// Apply compiles the file layer and st and swaps the result in (the
// control plane's Applier). On error the running snapshot is unchanged.
func (s *Server) Apply(_ context.Context, st *State) error {
	return s.rebuild(st)
}

// Reload recompiles with the current API state, after the file layer
// changed (SIGHUP).
func (s *Server) Reload() error {
	st := s.api.Load()
	if st == nil {
		st = NewState()
	}
	return s.rebuild(st)
}

func (s *Server) rebuild(st *State) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	var file *State
	if s.o.FileLayer != nil {
		file = s.o.FileLayer()
	}
	snap, err := s.buildSnapshot(file, st)
	if err != nil {
		return err
	}
	s.api.Store(st)
	s.snap.Store(snap)
	return nil
}

// SetAccessLogFormat replaces the template of stages without their own
// accessLogSettings.format ("" means DefaultAccessLogFormat), for a
// reloaded api_gateway.access_log_format. On error nothing changes.
func (s *Server) SetAccessLogFormat(format string) error {
	if format == "" {
		format = DefaultAccessLogFormat
	}
	f, err := ParseAccessLogFormat(format)
	if err != nil {
		return err
	}
	s.format.Store(f)
	return nil
}

// Listen binds addr ("127.0.0.1:0" allowed) and serves in the background.
func (s *Server) Listen(addr string) error {
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return &BindError{Addr: addr, Err: err}
	}
	s.Serve(inner)
	return nil
}

// Serve serves on an already bound listener in the background.
func (s *Server) Serve(inner net.Listener) {
	cfg := &tls.Config{GetConfigForClient: s.configFor}
	ln := tls.NewListener(&listener{Listener: inner}, cfg)
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       350 * time.Second, // API Gateway's idle connection timeout
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				if wc, ok := tc.NetConn().(*conn); ok {
					return context.WithValue(ctx, connKey{}, wc)
				}
			}
			return ctx
		},
	}
	s.mu.Lock()
	s.ln, s.hs, s.done = inner, hs, make(chan struct{})
	done := s.done
	s.mu.Unlock()
	go func() {
		defer close(done)
		hs.Serve(ln)
	}()
}

// Addr is the bound address (nil before Listen).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting connections and waits for in-flight requests
// to finish until ctx ends; then it closes the rest, as Close does.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	hs, done := s.hs, s.done
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	err := hs.Shutdown(ctx)
	if err != nil {
		hs.Close()
	}
	<-done
	s.client.CloseIdleConnections()
	return err
}

// Close stops the listener and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	hs, done := s.hs, s.done
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	err := hs.Close()
	<-done
	s.client.CloseIdleConnections()
	return err
}

// ---- connections and TLS ----

type connKey struct{}

// listener wraps accepted connections so a rejected handshake can end
// without an alert.
type listener struct{ net.Listener }

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c}, nil
}

// conn is one client connection: the snapshot and domain its handshake
// chose, and its verification verdict (computed once).
type conn struct {
	net.Conn
	aborted atomic.Bool
	snap    *snapshot
	domain  *cDomain
	sni     string
	once    sync.Once
	verdict Verdict
}

var errAborted = errors.New("connection aborted: no client certificate")

// Write drops everything once the connection is aborted: API Gateway
// answers a missing client certificate by closing the connection without
// a TLS alert, which curl reports as "SSL_connect: SSL_ERROR_SYSCALL"
// (TLS 1.2) and "Empty reply from server" (TLS 1.3, where the client's
// handshake ends before the server's verdict). A plain close (FIN), not a
// reset: with a reset curl would say "Connection reset by peer".
func (c *conn) Write(b []byte) (int, error) {
	if c.aborted.Load() {
		return 0, errAborted
	}
	return c.Conn.Write(b)
}

// Cipher suites of API Gateway's legacy policies that Go implements, in
// the policies' order [doc: "Supported security policies, TLS protocol
// versions, and ciphers for Regional custom domains"]. Go lacks
// ECDHE-*-AES256-SHA384, AES256-SHA256 and DES-CBC3-SHA; TLS 1.3 suites
// are Go's own (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
// TLS_CHACHA20_POLY1305_SHA256), as in both policies.
var (
	suitesTLS12 = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	}
	suitesTLS10 = append(append([]uint16(nil), suitesTLS12...),
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA)
)

func policyConfig(policy string, cert *tls.Certificate) *tls.Config {
	cfg := &tls.Config{
		Certificates:     []tls.Certificate{*cert},
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     suitesTLS12,
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
		NextProtos:       []string{"http/1.1"},
	}
	if policy == PolicyTLS10 {
		cfg.MinVersion, cfg.CipherSuites = tls.VersionTLS10, suitesTLS10
	}
	return cfg
}

// executeAPIHost parses "{restApiId}.execute-api.{region}.amazonaws.com".
func (s *Server) executeAPIHost(host string) (string, bool) {
	id, rest, ok := strings.Cut(host, ".")
	if !ok || id == "" {
		return "", false
	}
	return id, rest == "execute-api."+s.o.Region+".amazonaws.com"
}

func (snap *snapshot) domainFor(name string) *cDomain {
	if d := snap.domains[name]; d != nil {
		return d
	}
	if _, rest, ok := strings.Cut(name, "."); ok {
		return snap.wildcards[rest]
	}
	return nil
}

// configFor chooses the certificate, policy and client-certificate request
// by SNI: a custom domain's; an execute-api host's (TLS_1_0, the default
// endpoint policy of regional APIs, no client certificate); or a dev
// certificate for anything else.
func (s *Server) configFor(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	wc, _ := hello.Conn.(*conn)
	snap := s.snap.Load()
	name := strings.ToLower(hello.ServerName)
	if wc != nil {
		wc.snap, wc.sni = snap, name
	}
	if d := snap.domainFor(name); d != nil {
		cfg := policyConfig(d.policy, d.cert)
		if d.trust != nil {
			cfg.ClientAuth = tls.RequestClientCert
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) > 0 {
					return nil
				}
				if wc != nil {
					wc.aborted.Store(true)
					s.execLog("-", fmt.Sprintf("TLS handshake rejected: no client certificate presented (domain %s, from %s); the connection is closed without an alert", d.name, wc.RemoteAddr()))
				}
				return errors.New(ReasonNoCertificate)
			}
		}
		if wc != nil {
			wc.domain = d
		}
		return cfg, nil
	}
	if _, ok := s.executeAPIHost(name); ok {
		cert, err := s.devCert("*.execute-api." + s.o.Region + ".amazonaws.com")
		if err != nil {
			return nil, err
		}
		return policyConfig(PolicyTLS10, cert), nil
	}
	cert, err := s.devCert("")
	if err != nil {
		return nil, err
	}
	return policyConfig(PolicyTLS12, cert), nil
}

// ---- requests ----

// recorder captures the status and length of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	n      int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.n += n
	return n, err
}

func newExtendedID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:16] + "="
}

// ServeHTTP routes one request: custom domain (by SNI) or execute-api
// host, mTLS verdict, base path mapping, stage, resource and method, then
// the integration; every request gets an access line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wc, _ := r.Context().Value(connKey{}).(*conn)
	rc := &reqContext{
		requestID: awsquery.NewRequestID(), extendedRequestID: newExtendedID(), start: time.Now(),
		userAgent: r.UserAgent(), httpMethod: r.Method, path: r.URL.Path, protocol: r.Proto,
		accountID: s.o.AccountID, req: r, pathParams: map[string]string{},
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		rc.sourceIP = host
	}
	rec := &recorder{ResponseWriter: w}
	h := w.Header()
	h.Set("X-Amzn-Requestid", rc.requestID)
	h.Set("X-Amz-Apigw-Id", rc.extendedRequestID)
	format := s.format.Load()
	defer func() {
		rc.status, rc.responseLength = rec.status, rec.n
		rc.responseLatency = time.Since(rc.start)
		line := format.appendLine(make([]byte, 0, 256), rc)
		s.o.AccessLog.Write(append(line, '\n'))
	}()
	stage, rest, ok := s.route(rec, r, wc, rc)
	if !ok {
		return
	}
	if stage.format != nil {
		format = stage.format
	}
	s.invoke(rec, r, rc, stage, rest)
}

// forbidden answers API Gateway's 403 {"message":"Forbidden"}.
func forbidden(w http.ResponseWriter, rc *reqContext) {
	gatewayError(w, rc, http.StatusForbidden, "ForbiddenException", "Forbidden", "ACCESS_DENIED")
}

func gatewayError(w http.ResponseWriter, rc *reqContext, status int, errType, msg, responseType string) {
	rc.errMessage, rc.errResponseType = msg, responseType
	body := `{"message":"` + msg + `"}`
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", errType)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// route resolves the stage and the path below it.
func (s *Server) route(w http.ResponseWriter, r *http.Request, wc *conn, rc *reqContext) (*cStage, []string, bool) {
	snap := s.snap.Load()
	segs := splitPath(r.URL.Path)
	var d *cDomain
	if wc != nil && wc.domain != nil {
		d = wc.domain
	}
	if d == nil {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		sni := ""
		if wc != nil {
			sni = wc.sni
		}
		if sni != "" && sni != host {
			host = sni // SNI decides; a Host header cannot bypass it
		}
		id, ok := s.executeAPIHost(host)
		if !ok {
			forbidden(w, rc)
			return nil, nil, false
		}
		rc.domainName = host
		a := snap.apis[id]
		if a == nil || len(segs) == 0 {
			forbidden(w, rc)
			return nil, nil, false
		}
		st := a.stages[segs[0]]
		if st == nil || st.disableExecute {
			forbidden(w, rc)
			return nil, nil, false
		}
		return st, segs[1:], true
	}
	rc.domainName = d.name
	if d.trust != nil && r.TLS != nil {
		wc.once.Do(func() { wc.verdict = d.trust.Verify(r.TLS.PeerCertificates, s.o.Now()) })
		if len(r.TLS.PeerCertificates) > 0 {
			rc.leaf = r.TLS.PeerCertificates[0]
		}
		if !wc.verdict.OK && len(r.TLS.PeerCertificates) == 0 {
			s.execLog(rc.requestID, "Access denied. Reason: "+ReasonNoCertificate+" (domain "+d.name+")")
			forbidden(w, rc)
			return nil, nil, false
		}
		if !wc.verdict.OK {
			leaf := r.TLS.PeerCertificates[0]
			s.execLog(rc.requestID, fmt.Sprintf("Access denied. Reason: %s (domain %s, client certificate %q issued by %q, serial %s, from %s)",
				wc.verdict.Reason, d.name, certfmt.DN(leaf.RawSubject), certfmt.DN(leaf.RawIssuer), colonSerial(leaf), r.RemoteAddr))
			forbidden(w, rc)
			return nil, nil, false
		}
	}
	// The mappings of the current snapshot (the handshake's decides TLS).
	if d = snap.domainFor(d.name); d == nil {
		forbidden(w, rc) // deleted since this connection's handshake
		return nil, nil, false
	}
	var m *BasePathMapping
	if len(segs) > 0 {
		if m = d.mappings[segs[0]]; m != nil {
			segs = segs[1:]
		}
	}
	if m == nil {
		m = d.mappings[""]
	}
	if m == nil {
		forbidden(w, rc)
		return nil, nil, false
	}
	a := snap.apis[m.RestAPIID]
	if a == nil {
		forbidden(w, rc)
		return nil, nil, false
	}
	stageName := m.Stage
	if stageName == "" {
		if len(segs) == 0 {
			forbidden(w, rc)
			return nil, nil, false
		}
		stageName, segs = segs[0], segs[1:]
	}
	st := a.stages[stageName]
	if st == nil {
		forbidden(w, rc)
		return nil, nil, false
	}
	return st, segs, true
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func (s *Server) execLog(requestID, msg string) {
	line := time.Now().UTC().AppendFormat(nil, "2006-01-02T15:04:05.000Z")
	line = append(line, " ("...)
	line = append(line, requestID...)
	line = append(line, ") "...)
	line = append(line, msg...)
	s.o.ExecutionLog.Write(append(line, '\n'))
}
