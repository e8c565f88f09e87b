package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"

	"edge/internal/awsquery"
	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/server"
)

// derived is a configuration derived from a file layer and an API state,
// with what each listener is.
type derived struct {
	cfg *config.Config
	// arns[i] is listener i's ARN when the API made it, "" for the file's.
	arns []string
}

// Derive returns the configuration edge serves for the API state st and
// the file layer file (nil for none), validated: elbv2.Derive on a deep
// copy of file (so validating it writes nothing the running edge reads),
// with the API trust stores' entry cap at the quota. Listeners whose ARN is
// in skip are left out.
func Derive(st *elbv2.State, file *config.Config, q elbv2.Quotas, skip map[string]bool) (*config.Config, []string, error) {
	d, err := derive(st, file, q, skip)
	if err != nil {
		return nil, nil, err
	}
	return d.cfg, d.arns, nil
}

func derive(st *elbv2.State, file *config.Config, q elbv2.Quotas, skip map[string]bool) (*derived, error) {
	if len(skip) > 0 {
		st = st.Clone()
		gone := map[string]bool{}
		var ls []*elbv2.Listener
		for _, l := range st.Listeners {
			if skip[l.ListenerArn] {
				gone[l.ListenerArn] = true
				continue
			}
			ls = append(ls, l)
		}
		st.Listeners = ls
		var rs []*elbv2.Rule
		for _, r := range st.Rules {
			if !gone[r.ListenerArn] {
				rs = append(rs, r)
			}
		}
		st.Rules = rs
	}
	nFile := 0
	if file != nil {
		file = cloneConfig(file)
		nFile = len(file.Listeners)
	}
	cfg, err := elbv2.Derive(st, file)
	if err != nil {
		return nil, err
	}
	api := map[string]bool{}
	for _, ts := range st.TrustStores {
		api[ts.Name] = true
	}
	for i := range cfg.TrustStores {
		ts := &cfg.TrustStores[i]
		// The service enforces the quota at the call; the build must not
		// refuse what it accepted.
		if api[ts.Name] || ts.MaxRevocationEntries < q.RevocationEntriesPerTrustStore {
			ts.MaxRevocationEntries = q.RevocationEntriesPerTrustStore
		}
	}
	if ps := cfg.Validate(); len(ps) > 0 {
		return nil, ps
	}
	d := &derived{cfg: cfg, arns: make([]string, len(cfg.Listeners))}
	for i, l := range st.Listeners {
		d.arns[nFile+i] = l.ListenerArn
	}
	return d, nil
}

// Start builds and starts the server from the derived configuration with
// start (which builds, checks and calls server.Start). A state that no
// longer starts does not stop edge: an API listener that cannot bind is
// left out (and tried again at every later call), and an API layer that
// does not build leaves the file layer alone serving; each is logged as an
// error. Other errors are start's.
func (cp *ControlPlane) Start(start func(*config.Config) (*server.Server, error)) (*server.Server, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	fl, st := cp.file.Load(), cp.applied.Load()
	file := fl.cfg
	fileOnly := false
	for {
		var d *derived
		var err error
		if fileOnly {
			d, err = &derived{cfg: file, arns: make([]string, len(file.Listeners))}, nil
		} else if d, err = derive(st, file, cp.quotas, cp.excluded); err != nil {
			cp.reportState(err)
			fileOnly = true
			continue
		}
		srv, err := start(d.cfg)
		var le *server.ListenError
		switch {
		case err == nil:
			cp.srv = srv
			cp.tags.put(d.cfg, tag{file: fl, st: st})
			srv.OnReload(cp.reloaded)
			return srv, nil
		case errors.As(err, &le) && le.Listener < len(d.arns) && d.arns[le.Listener] != "":
			arn := d.arns[le.Listener]
			cp.log.Error("a listener of the API state cannot bind its address; edge serves without it (every call tries it again; modify its port or delete it)",
				"listener", arn, "address", le.Addr, "err", le.Err)
			cp.excluded[arn] = true
		case !fileOnly && d.cfg != file:
			var ps config.Problems
			if !errors.As(err, &ps) {
				return nil, err
			}
			cp.reportState(err)
			fileOnly = true
		default:
			return nil, err
		}
	}
}

// reportState logs why the API state does not build at start.
func (cp *ControlPlane) reportState(err error) {
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			cp.log.Error("the API state does not build; edge serves the configuration file alone until a call makes it build", "problem", p.String())
		}
		return
	}
	cp.log.Error("the API state does not build; edge serves the configuration file alone until a call makes it build", "err", err)
}

// apply is the ELBv2 service's Applier: it makes st live (with the file
// layer being served) before the call answers.
func (cp *ControlPlane) apply(ctx context.Context, st *elbv2.State) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.srv == nil {
		return errors.New("edge is not serving yet")
	}
	fl := cp.file.Load()
	prev := cp.applied.Load()
	// Listeners left out at start are tried again; one that still does
	// not bind stays out rather than failing an unrelated call.
	skip := map[string]bool{}
	for {
		d, err := derive(st, fl.cfg, cp.quotas, skip)
		if err != nil {
			return &elbv2.BuildError{Err: err}
		}
		cp.tags.put(d.cfg, tag{file: fl, st: st})
		cp.applied.Store(st) // so that a reload of the file meanwhile is seen stale
		err = cp.srv.Reload(d.cfg)
		if err == nil {
			cp.excluded = skip
			// One line per change (the reload itself logs at DEBUG).
			op := awsquery.Action(ctx)
			if op == "" {
				op = "admin API revocation change"
			}
			cp.log.Info("applied", "operation", op, "listeners", len(d.cfg.Listeners))
			return nil
		}
		cp.applied.Store(prev)
		var le *server.ListenError
		if errors.As(err, &le) {
			arn := ""
			if le.Listener < len(d.arns) {
				arn = d.arns[le.Listener]
			}
			if arn != "" && cp.excluded[arn] && !skip[arn] {
				skip[arn] = true
				continue
			}
			return &elbv2.BindError{Addr: le.Addr, Owner: cp.owner(le.Addr, d), Err: le.Err}
		}
		if errors.Is(err, server.ErrStopped) {
			return err
		}
		return &elbv2.BuildError{Err: err}
	}
}

// owner names who holds addr when edge itself does: one of its listeners,
// its AWS endpoint, admin API or API Gateway listener; else "another
// process".
func (cp *ControlPlane) owner(addr string, d *derived) string {
	_, port, _ := net.SplitHostPort(addr)
	snap := cp.srv.Snapshot()
	for i, a := range snap.Addrs() {
		if strconv.Itoa(a.(*net.TCPAddr).Port) != port {
			continue
		}
		l := snap.Listeners[i]
		if l.Index < len(d.arns) && d.arns[l.Index] != "" {
			return "listener " + d.arns[l.Index]
		}
		where := "the configuration file"
		if f := cp.file.Load().cfg.File; f != "" {
			where = f
		}
		return fmt.Sprintf("listeners[%d] of %s", l.Index, where)
	}
	doc := cp.srv.ReadyDocument()
	apigw := ""
	if doc.APIGatewayURL != nil {
		apigw = *doc.APIGatewayURL
	}
	for _, o := range []struct{ what, url string }{
		{"edge's AWS endpoint", cp.url}, {"edge's admin API", doc.AdminURL}, {"edge's API Gateway listener", apigw},
	} {
		if u, err := url.Parse(o.url); err == nil && o.url != "" && u.Port() == port {
			return o.what + " " + o.url
		}
	}
	return "another process"
}

// Loader wraps the file layer's loader (the server's SetLoader source for
// SIGHUP, POST /reload and file watching): it reads the file and merges
// the applied API state.
func (cp *ControlPlane) Loader(load func() (*config.Config, error)) func() (*config.Config, error) {
	return func() (*config.Config, error) {
		file, err := load()
		if err != nil {
			return nil, err
		}
		cp.mu.Lock()
		defer cp.mu.Unlock()
		st := cp.applied.Load()
		d, err := derive(st, file, cp.quotas, cp.excluded)
		if err != nil {
			return nil, err
		}
		cp.tags.put(d.cfg, tag{file: &layer{cfg: file, seq: cp.fileSeq.Add(1)}, st: st})
		return d.cfg, nil
	}
}

// layer is a file layer as loaded; seq orders the loads.
type layer struct {
	cfg *config.Config
	seq int64
}

// tag is what a derived configuration was made of.
type tag struct {
	file *layer
	st   *elbv2.State
}

// tagSet maps the derived configurations that may still be swapped in to
// their tags; a few are enough (one being served, one per reload in
// flight).
type tagSet struct {
	mu   sync.Mutex
	tags map[*config.Config]tag
	fifo []*config.Config
}

func (s *tagSet) put(c *config.Config, t tag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tags == nil {
		s.tags = map[*config.Config]tag{}
	}
	s.tags[c] = t
	s.fifo = append(s.fifo, c)
	if len(s.fifo) > 16 {
		delete(s.tags, s.fifo[0])
		s.fifo = s.fifo[1:]
	}
}

func (s *tagSet) get(c *config.Config) (tag, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tags[c]
	return t, ok
}

// reloaded runs after every successful reload (under the server's reload
// lock: it must not take cp.mu, which an Apply in progress holds). The
// configuration now served records its file layer; when a reload of the
// file and a mutation crossed, so that what is served lacks the other's
// change, a refresh derives and reloads again.
func (cp *ControlPlane) reloaded(_, cur *server.Snapshot) {
	t, ok := cp.tags.get(cur.Config)
	if !ok {
		return
	}
	stale := t.st != cp.applied.Load()
	switch serving := cp.file.Load(); {
	case t.file.seq > serving.seq:
		cp.file.Store(t.file)
	case t.file.seq < serving.seq:
		stale = true
	}
	if stale {
		go cp.refresh()
	}
}

// refresh reloads the derivation of the file layer and API state being
// served (after crossed reloads).
func (cp *ControlPlane) refresh() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	fl, st := cp.file.Load(), cp.applied.Load()
	d, err := derive(st, fl.cfg, cp.quotas, cp.excluded)
	if err != nil {
		cp.log.Error("re-deriving the configuration after crossed reloads", "err", err)
		return
	}
	cp.tags.put(d.cfg, tag{file: fl, st: st})
	cp.srv.Reload(d.cfg)
}
