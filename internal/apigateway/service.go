package apigateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/arn"
	"edge/internal/objects"
)

// Applier makes a candidate state live before the call that produced it
// answers. Server.Apply is edge's implementation: it compiles the file
// layer and st into a data-plane snapshot and swaps it in; on error nothing
// may have changed. An *Error is answered as it is; any other error is
// answered BadRequestException with its text.
type Applier interface {
	Apply(ctx context.Context, st *State) error
}

// ApplierFunc adapts a function to Applier.
type ApplierFunc func(ctx context.Context, st *State) error

// Apply calls f.
func (f ApplierFunc) Apply(ctx context.Context, st *State) error { return f(ctx, st) }

// Options configure the service.
type Options struct {
	// Region goes into ARNs and execute-api host names. Default us-east-1.
	Region string
	// Objects reads truststores from S3. Required for mTLS domains.
	Objects objects.Source
	// Applier makes changes live; nil accepts every state (tests).
	Applier Applier
	// Store persists the state; required (OpenEphemeral for --ephemeral).
	Store *Store
	// FileLayer returns the compiled YAML layer (Config.Compile), or nil.
	// Its domains and APIs appear in every Get and are read-only.
	FileLayer func() *State
	// RegionalDomainName is reported as every domain's regionalDomainName:
	// the host that reaches edge's data plane. Default 127.0.0.1.
	RegionalDomainName string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the API Gateway control plane.
type Service struct {
	o   Options
	mu  sync.Mutex // serialises mutations (reads never take it)
	cur atomic.Pointer[State]
}

// New loads the persisted state and returns the service. The state is not
// applied: the caller builds the data plane from State().
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("apigateway: Options.Store is required")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.RegionalDomainName == "" {
		o.RegionalDomainName = "127.0.0.1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FileLayer == nil {
		o.FileLayer = func() *State { return nil }
	}
	st, err := o.Store.Load()
	if err != nil {
		return nil, err
	}
	s := &Service{o: o}
	s.cur.Store(st)
	return s, nil
}

// State returns the applied API state. It must not be modified.
func (s *Service) State() *State { return s.cur.Load() }

// world is what one call sees: the API state (a candidate in a mutation)
// and the read-only file layer.
type world struct {
	s    *Service
	api  *State
	file *State
}

func (s *Service) view() *world {
	return &world{s: s, api: s.cur.Load(), file: s.fileState()}
}

func (s *Service) fileState() *State {
	if f := s.o.FileLayer(); f != nil {
		return f
	}
	return NewState()
}

func (w *world) domain(name string) *DomainName {
	if d := w.api.Domain(name); d != nil {
		return d
	}
	return w.file.Domain(name)
}

func (w *world) domains() []*DomainName {
	return append(append([]*DomainName(nil), w.file.DomainNames...), w.api.DomainNames...)
}

func (w *world) api_(id string) *RestAPI {
	if a := w.api.API(id); a != nil {
		return a
	}
	return w.file.API(id)
}

func (w *world) apis() []*RestAPI {
	return append(append([]*RestAPI(nil), w.file.RestAPIs...), w.api.RestAPIs...)
}

// mutate runs fn on a copy of the state, applies the result and persists
// it; on any error nothing changes.
func mutate[Out any](ctx context.Context, s *Service, fn func(w *world) (Out, error)) (Out, error) {
	var zero Out
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	w := &world{s: s, api: old.Clone(), file: s.fileState()}
	out, err := fn(w)
	if err != nil {
		return zero, err
	}
	if s.o.Applier != nil {
		if err := s.o.Applier.Apply(ctx, w.api); err != nil {
			return zero, applyError(err)
		}
	}
	if err := s.o.Store.Save(w.api); err != nil {
		if s.o.Applier != nil {
			s.o.Applier.Apply(ctx, old)
		}
		return zero, ErrInternal.With("saving the state: %v", err)
	}
	s.cur.Store(w.api)
	return out, nil
}

func applyError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return badRequest("%v", err)
}

func (s *Service) now() Epoch { return Epoch{s.o.Now().UTC().Truncate(time.Second)} }

// readOnly is the error for changing a file-layer resource.
func readOnly(what, name string, f *fileInfo) *Error {
	return badRequest("%s %s is defined in edge.yaml (%s); edit the file and reload edge to change it.", what, name, f.where)
}

// ids: API Gateway's REST API ids are 10 characters [a-z0-9], resource and
// deployment ids 6 (reference §6.1).
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// ---- REST-JSON plumbing ----

// call is one decoded request.
type call struct {
	ctx    context.Context
	params map[string]string
	query  url.Values
	body   []byte
}

func (c *call) decode(v any) error {
	if len(c.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return badRequest("The request body is not valid JSON for this operation: %v.", err)
	}
	return nil
}

func (c *call) limit() (int, error) {
	v := c.query.Get("limit")
	if v == "" {
		return 25, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, badRequest("Invalid limit %q: it must be between 1 and 500.", v)
	}
	return n, nil
}

// result is a handler's answer: status and JSON body (nil: no body).
type result struct {
	status int
	body   any
}

type handlerFunc func(s *Service, c *call) (result, error)

type route struct {
	method  string
	pattern []string // literal segments, or "{name}"
	fn      handlerFunc
}

// Handler returns the API Gateway REST-JSON handler (mount it as the
// endpoint's APIGateway service).
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	segs, err := splitEscaped(r.URL.EscapedPath())
	if err != nil {
		writeError(w, badRequest("Invalid request path: %v.", err))
		return
	}
	rt, params, pathMatched := match(r.Method, segs)
	if rt == nil {
		if pathMatched {
			writeError(w, ErrUnknownOperation.With("No operation %s %s.", r.Method, r.URL.Path))
			return
		}
		writeError(w, ErrUnknownOperation.With("edge does not emulate %s %s of API Gateway.", r.Method, r.URL.Path))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, badRequest("Reading the request body: %v.", err))
		return
	}
	res, err := rt.fn(s, &call{ctx: r.Context(), params: params, query: r.URL.Query(), body: body})
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			ae = ErrInternal.With("%v", err)
		}
		writeError(w, ae)
		return
	}
	if res.body == nil {
		w.WriteHeader(res.status)
		return
	}
	b, err := json.Marshal(res.body)
	if err != nil {
		writeError(w, ErrInternal.With("encoding the answer: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(res.status)
	w.Write(b)
}

// splitEscaped splits an escaped path into unescaped segments, so an
// ARN's %2F stays inside its segment.
func splitEscaped(p string) ([]string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil, nil
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		parts[i] = u
	}
	return parts, nil
}

func match(method string, segs []string) (*route, map[string]string, bool) {
	pathMatched := false
	for i := range routes {
		rt := &routes[i]
		if len(rt.pattern) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, p := range rt.pattern {
			if strings.HasPrefix(p, "{") {
				params[p[1:len(p)-1]] = segs[j]
			} else if p != segs[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathMatched = true
		if rt.method == method {
			return rt, params, true
		}
	}
	return nil, nil, pathMatched
}

func r(method, path string, fn handlerFunc) route {
	return route{method: method, pattern: strings.Split(strings.Trim(path, "/"), "/"), fn: fn}
}

const (
	methodsPath     = "/restapis/{api}/resources/{resource}/methods/{method}"
	integrationPath = methodsPath + "/integration"
)

var routes []route

func init() {
	routes = []route{
		r("POST", "/domainnames", (*Service).createDomainName),
		r("GET", "/domainnames", (*Service).getDomainNames),
		r("GET", "/domainnames/{domain}", (*Service).getDomainName),
		r("PATCH", "/domainnames/{domain}", (*Service).updateDomainName),
		r("DELETE", "/domainnames/{domain}", (*Service).deleteDomainName),
		r("POST", "/domainnames/{domain}/basepathmappings", (*Service).createBasePathMapping),
		r("GET", "/domainnames/{domain}/basepathmappings", (*Service).getBasePathMappings),
		r("GET", "/domainnames/{domain}/basepathmappings/{basePath}", (*Service).getBasePathMapping),
		r("PATCH", "/domainnames/{domain}/basepathmappings/{basePath}", (*Service).updateBasePathMapping),
		r("DELETE", "/domainnames/{domain}/basepathmappings/{basePath}", (*Service).deleteBasePathMapping),

		r("POST", "/restapis", (*Service).createRestAPI),
		r("GET", "/restapis", (*Service).getRestAPIs),
		r("GET", "/restapis/{api}", (*Service).getRestAPI),
		r("PATCH", "/restapis/{api}", (*Service).updateRestAPI),
		r("DELETE", "/restapis/{api}", (*Service).deleteRestAPI),

		r("GET", "/restapis/{api}/resources", (*Service).getResources),
		r("GET", "/restapis/{api}/resources/{resource}", (*Service).getResource),
		r("POST", "/restapis/{api}/resources/{resource}", (*Service).createResource),
		r("PATCH", "/restapis/{api}/resources/{resource}", (*Service).updateResource),
		r("DELETE", "/restapis/{api}/resources/{resource}", (*Service).deleteResource),

		r("PUT", methodsPath, (*Service).putMethod),
		r("GET", methodsPath, (*Service).getMethod),
		r("PATCH", methodsPath, (*Service).updateMethod),
		r("DELETE", methodsPath, (*Service).deleteMethod),
		r("PUT", methodsPath+"/responses/{status}", (*Service).putMethodResponse),
		r("GET", methodsPath+"/responses/{status}", (*Service).getMethodResponse),
		r("DELETE", methodsPath+"/responses/{status}", (*Service).deleteMethodResponse),

		r("PUT", integrationPath, (*Service).putIntegration),
		r("GET", integrationPath, (*Service).getIntegration),
		r("PATCH", integrationPath, (*Service).updateIntegration),
		r("DELETE", integrationPath, (*Service).deleteIntegration),
		r("PUT", integrationPath+"/responses/{status}", (*Service).putIntegrationResponse),
		r("GET", integrationPath+"/responses/{status}", (*Service).getIntegrationResponse),
		r("DELETE", integrationPath+"/responses/{status}", (*Service).deleteIntegrationResponse),

		r("POST", "/restapis/{api}/deployments", (*Service).createDeployment),
		r("GET", "/restapis/{api}/deployments", (*Service).getDeployments),
		r("GET", "/restapis/{api}/deployments/{deployment}", (*Service).getDeployment),
		r("DELETE", "/restapis/{api}/deployments/{deployment}", (*Service).deleteDeployment),

		r("POST", "/restapis/{api}/stages", (*Service).createStage),
		r("GET", "/restapis/{api}/stages", (*Service).getStages),
		r("GET", "/restapis/{api}/stages/{stage}", (*Service).getStage),
		r("PATCH", "/restapis/{api}/stages/{stage}", (*Service).updateStage),
		r("DELETE", "/restapis/{api}/stages/{stage}", (*Service).deleteStage),

		r("GET", "/tags/{arn}", (*Service).getTags),
		r("PUT", "/tags/{arn}", (*Service).tagResource),
		r("DELETE", "/tags/{arn}", (*Service).untagResource),
	}
}

// page returns items[position:position+limit] and the next position ("" at
// the end). position is an index, as an opaque string.
func page[T any](items []T, c *call) ([]T, string, error) {
	limit, err := c.limit()
	if err != nil {
		return nil, "", err
	}
	start := 0
	if p := c.query.Get("position"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", badRequest("Invalid position %q.", p)
		}
		start = n
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// list is a collection answer: {"item":[…],"position":"…"}.
type list[T any] struct {
	Position string `json:"position,omitempty"`
	Item     []T    `json:"item"`
}

// ARNs of API Gateway resources (no account: arn:aws:apigateway:REGION::/…).
func (s *Service) arn(path string) string { return arn.APIGateway(s.o.Region, path) }
