// Package proxy forwards requests to target groups as ALB does: round-robin
// within a group, weighted across groups, ALB's headers to targets, and
// ALB's 502/503/504 pages when a target fails.
package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/arn"
	"edge/internal/reqinfo"
)

// TargetConnectTimeout is ALB's connect timeout to a target (then 504).
const TargetConnectTimeout = 10 * time.Second

// TargetGroup is a set of targets served round-robin.
type TargetGroup struct {
	Name string
	// ARN is logged as target_group_arn.
	ARN string
	// Scheme is "http" or "https".
	Scheme  string
	Targets []string
	next    atomic.Uint64
}

// TargetGroupARN builds arn:aws:elasticloadbalancing:<region>:<account>:
// targetgroup/<name>/<16 hex derived from the name>.
func TargetGroupARN(region, account, name string) string {
	return arn.New(region, account).TargetGroup(name, arn.TargetGroupID(name))
}

func (g *TargetGroup) pick() (string, bool) {
	if len(g.Targets) == 0 {
		return "", false
	}
	return g.Targets[(g.next.Add(1)-1)%uint64(len(g.Targets))], true
}

// Proxy is the shared forwarding machinery of one server: one transport,
// so connections to targets are reused across listeners and rules, and
// across reloads that keep its IdleTimeout.
type Proxy struct {
	rp          *httputil.ReverseProxy
	transport   *http.Transport
	idleTimeout time.Duration
	// inflight counts requests being forwarded; once closed, the last
	// one to finish closes the connections they leave idle.
	inflight atomic.Int64
	closed   atomic.Bool
}

type targetKey struct{}

type target struct {
	scheme, host string
	fw           *Forwarding
}

// New returns a Proxy whose targets must answer within idleTimeout.
func New(idleTimeout time.Duration) *Proxy {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: TargetConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: idleTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   256,
		TLSHandshakeTimeout:   10 * time.Second,
		// ALB does not verify target certificates.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		// ALB passes Accept-Encoding and compressed responses through:
		// without this the Transport would ask targets for gzip on the
		// client's behalf and decompress what they send.
		DisableCompression: true,
	}
	p := &Proxy{transport: tr, idleTimeout: idleTimeout}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			t := pr.In.Context().Value(targetKey{}).(target)
			pr.Out.URL.Scheme, pr.Out.URL.Host = t.scheme, t.host
			ri := reqinfo.From(pr.In.Context())
			pr.Out.Host = targetHost(pr.In.Host, ri.ListenerPort, t.fw.preserveHost)
			keepRequestTarget(pr.Out, pr.In)
			setHeaders(pr.Out.Header, pr.In, ri, t.fw)
		},
		Transport:    timedTransport{tr},
		BufferPool:   bufferPool{},
		ErrorHandler: p.errorHandler,
		ErrorLog:     nil,
	}
	return p
}

// bufferPool lends ReverseProxy its 32 KB copy buffers; without it every
// forwarded request allocates one.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

// IdleTimeout is the response-header timeout the Proxy was made with: a
// configuration with the same value can reuse it (and its connections).
func (p *Proxy) IdleTimeout() time.Duration { return p.idleTimeout }

// Close retires the Proxy: its idle connections to targets are closed now,
// and those of requests still in flight (on client connections that
// started before a reload) when the last of them ends. A closed Proxy
// still forwards; it just keeps no connection idle afterwards.
func (p *Proxy) Close() {
	p.closed.Store(true)
	p.transport.CloseIdleConnections()
}

// done ends one forwarded request.
func (p *Proxy) done() {
	// CloseIdleConnections also makes the transport close connections
	// that become idle later, until the next request asks for one: the
	// last request's connection, handed back asynchronously, is closed
	// too.
	if p.inflight.Add(-1) == 0 && p.closed.Load() {
		p.transport.CloseIdleConnections()
	}
}

// timedTransport records when a request was dispatched and when its
// response headers arrived, for the access log's processing times.
type timedTransport struct{ rt http.RoundTripper }

func (t timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ri := reqinfo.From(r.Context())
	ri.Dispatched = time.Now()
	if p := ri.Progress; p != nil {
		// While the target owes the response headers, the client's
		// silence is not idleness (ResponseHeaderTimeout covers the
		// target). httputil sends no body (nil) when there is none.
		p.StartRoundTrip(r.Body == nil || r.Body == http.NoBody)
		defer p.EndRoundTrip()
	}
	resp, err := t.rt.RoundTrip(r)
	if err == nil {
		ri.Responded = time.Now()
		ri.TargetStatus = resp.StatusCode
	}
	return resp, err
}

func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if st := reqinfo.From(r.Context()).BodyStatus.Load(); st != 0 {
		// The client's body failed, not the target: 400 or 408, as ALB
		// answers, and no target error counted. What is left of the body
		// cannot be read as a next request.
		w.Header()["Connection"] = []string{"close"}
		WriteError(w, r, int(st))
		return
	}
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client went away first: ALB logs 460 and sends nothing.
		w.WriteHeader(460)
		return
	}
	status := http.StatusBadGateway
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		status = http.StatusGatewayTimeout
	}
	WriteError(w, r, status)
}

// Weighted is one target group of a forward action with its weight.
type Weighted struct {
	Group  *TargetGroup
	Weight int
}

// Forward is a forward action: one target group, or several chosen in
// proportion to their weights (0-999; a weight of 0 gets no traffic).
type Forward struct {
	p      *Proxy
	groups []Weighted
	total  int
	// Forwarding is the listener's rewriting; nil is ALB's defaults.
	Forwarding *Forwarding
}

// NewForward builds the action; with one group its weight is ignored.
func (p *Proxy) NewForward(groups []Weighted) *Forward {
	f := &Forward{p: p, groups: groups}
	if len(groups) == 1 {
		f.groups[0].Weight = 1
	}
	for _, g := range f.groups {
		f.total += g.Weight
	}
	return f
}

func (f *Forward) choose() *TargetGroup {
	if f.total == 0 {
		return f.groups[0].Group
	}
	n := rand.IntN(f.total)
	for _, g := range f.groups {
		if n < g.Weight {
			return g.Group
		}
		n -= g.Weight
	}
	return f.groups[len(f.groups)-1].Group
}

func (f *Forward) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ri := reqinfo.Of(w, r)
	g := f.choose()
	ri.TargetGroupARN = g.ARN
	addr, ok := g.pick()
	if !ok || f.total == 0 {
		WriteError(w, r, http.StatusServiceUnavailable) // no registered targets
		return
	}
	ri.Target = addr
	// The request sent onwards finds ri in its context (Rewrite,
	// timedTransport).
	fw := f.Forwarding
	if fw == nil {
		fw = defaultForwarding
	}
	ctx := reqinfo.With(context.WithValue(r.Context(), targetKey{}, target{scheme: g.Scheme, host: addr, fw: fw}), ri)
	f.p.inflight.Add(1)
	defer f.p.done()
	f.p.rp.ServeHTTP(w, r.WithContext(ctx))
}
