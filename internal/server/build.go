// Package server turns a configuration into a running edge: Build reads
// every referenced file and produces an immutable Snapshot (or every
// problem found); Start binds the listeners and serves the snapshot.
package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"edge/internal/arn"
	"edge/internal/attributes"
	"edge/internal/config"
	"edge/internal/logfmt"
	"edge/internal/pki"
	"edge/internal/proxy"
	"edge/internal/tlsterm"
	"edge/internal/truststore"
)

// Options adjust how a configuration is built.
type Options struct {
	// DevPKIDir holds the dev CA that issues certificates for listeners
	// without any. Default: .edge beside the configuration file.
	DevPKIDir string
	// CheckOnly reads and checks everything but creates nothing (no dev
	// PKI); used by `edge check`.
	CheckOnly bool
	// Now pins the client-certificate verification time; nil means the
	// clock. Tests use it.
	Now func() time.Time
	// RevocationIDs numbers CRLs across reloads; nil starts a new
	// numbering, which the snapshot then carries to its reloads.
	RevocationIDs *truststore.RevocationIDs
	// ExtraRevocations are CRLs added through the admin API, by trust
	// store; RemovedRevocations are the RevocationInput.Key of CRL files
	// removed through it, by trust store: a file rewritten since is a
	// new CRL and applies.
	ExtraRevocations   map[string][]truststore.RevocationInput
	RemovedRevocations map[string]map[string]bool

	// proxies are the serving snapshot's, by load balancer name, offered
	// to a reload: reused when the load balancer's idle timeout is
	// unchanged, so target connections survive.
	proxies map[string]*proxy.Proxy
}

// StoreVersion identifies a trust store's content, like API Gateway's
// truststore version: a hash of the bundle and CRLs, and when that content
// was first loaded.
type StoreVersion struct {
	Hash   string    `json:"hash"`
	Loaded time.Time `json:"loaded"`
}

// Snapshot is a fully built configuration. Nothing in it changes after
// Build; a reload builds a new Snapshot.
type Snapshot struct {
	Config *config.Config
	// LoadBalancers are the default load balancer (the top-level name,
	// attributes and logs) and then those of load_balancers, in order;
	// each lists its listeners.
	LoadBalancers []*LoadBalancer
	// ELB is the default load balancer's elb log field (app/NAME/ID);
	// each listener logs its own load balancer's (Listener.LoadBalancer).
	ELB         string
	TrustStores map[string]*truststore.Store
	Listeners   []*Listener
	// ConnLog and AccessLog are the default load balancer's destinations.
	ConnLog   logfmt.Destination
	AccessLog logfmt.Destination
	// Notes are things worth telling the user that are not errors.
	Notes []string
	// DevPKI is the dev PKI used, if any listener needed it.
	DevPKI *pki.DevPKI
	// Proxy is the default load balancer's forwarder (each load balancer
	// has its own: LoadBalancer.Proxy); TargetGroups by name, shared.
	Proxy        *proxy.Proxy
	TargetGroups map[string]*proxy.TargetGroup
	// StoreVersions by trust store name.
	StoreVersions map[string]StoreVersion
	// Files lists every file the configuration read, for change watching;
	// stamps has their state from just before they were read.
	Files  []string
	stamps map[string]fileStamp

	// sockets serve Listeners (same order) once the snapshot is served;
	// set before it is published, never changed after.
	sockets []*socket

	opts Options

	// arns names the listeners' certificates, keyed by the first byte
	// of their DER: every copy of a tls.Certificate (certmagic hands out
	// copies) shares it, and a pointer hashes faster than the DER.
	arns map[*byte]string
	// acmDev are the certificate ARNs served with a dev-CA certificate
	// (ACM is not emulated), for the server's log.
	acmDev []string

	// Attributes are the default load balancer's effective attributes; LB
	// their typed values.
	Attributes attributes.Set
	LB         attributes.LoadBalancerValues
	// minIdle is the shortest idle timeout of the load balancers (the
	// idle.Watchdog's tick follows it).
	minIdle time.Duration
}

// keepVersions carries load times over from old for unchanged content.
func (s *Snapshot) keepVersions(old *Snapshot) {
	for name, v := range s.StoreVersions {
		if ov, ok := old.StoreVersions[name]; ok && ov.Hash == v.Hash {
			s.StoreVersions[name] = ov
		}
	}
}

// Listener is one built listener.
type Listener struct {
	Index    int
	Address  string
	Port     int
	Protocol string
	// Term and TLS are nil on HTTP listeners.
	Term    *tlsterm.Termination
	TLS     *tls.Config
	Handler http.Handler
	// TrustStoreName is set in verify mode.
	TrustStoreName string
	// DefaultAction describes the default rule for summaries.
	DefaultAction string
	// Rules is the number of rules besides the default.
	Rules int
	// DevCertificate is true when the dev CA issued the certificate.
	DevCertificate bool
	// LoadBalancer is the one the listener belongs to
	// (listeners[].load_balancer): its elb id, attributes and logs apply.
	LoadBalancer *LoadBalancer
	// ARN is the ListenerArn of a listener the AWS endpoint's API made, ""
	// for the configuration file's.
	ARN string
	// certs describe Term.Certificates.All(), in order.
	certs []certInfo
	// Attributes are the listener's effective attributes; Forwarding the
	// request and response rewriting they and the load balancer's ask
	// for.
	Attributes attributes.Set
	Forwarding *proxy.Forwarding
}

// Addr is host:port as configured.
func (l *Listener) Addr() string { return net.JoinHostPort(l.Address, strconv.Itoa(l.Port)) }

// Close releases what the snapshot holds (certificate caches, idle
// connections to targets).
func (s *Snapshot) Close() {
	for _, lb := range s.LoadBalancers {
		if lb.Proxy != nil && lb.ownsProxy {
			lb.Proxy.Close()
		}
	}
	for _, l := range s.Listeners {
		if l.Term != nil && l.Term.Certificates != nil {
			l.Term.Certificates.Close()
		}
	}
}

// ELBID returns the elb log field for a load balancer name:
// app/<name>/<16 hex>, the hex derived from the name so it is stable
// across restarts (arn.ELB, arn.LoadBalancerID).
func ELBID(name string) string { return arn.ELB(name, arn.LoadBalancerID(name)) }

// builder accumulates problems while building.
type builder struct {
	cfg  *config.Config
	opts Options
	ps   config.Problems
	snap *Snapshot
}

// track records a file the snapshot depends on, stamped before reading.
func (b *builder) track(path string) {
	if _, ok := b.snap.stamps[path]; ok {
		return
	}
	b.snap.stamps[path] = stampOf(path)
	b.snap.Files = append(b.snap.Files, path)
}

func (b *builder) at(path, format string, args ...any) {
	b.ps = append(b.ps, b.cfg.Problem(path, format, args...))
}

// atErr is at with the problem's typed cause, which the Problem wraps.
func (b *builder) atErr(err error, path, format string, args ...any) {
	b.ps = append(b.ps, b.cfg.ProblemErr(err, path, format, args...))
}

// file reports a problem in a referenced file, pointing back at the key
// that references it; err is its typed cause (nil for none), which the
// Problem wraps.
func (b *builder) file(err error, file string, line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.ps = append(b.ps, config.Problem{File: file, Line: line, Msg: fmt.Sprintf("%s (%s at %s:%d)", msg, path, b.cfg.File, b.cfg.Line(path)), Err: err})
}

// Build reads every file cfg references and builds the runtime snapshot.
// On failure the error is a config.Problems listing every problem found.
func Build(cfg *config.Config, opts Options) (*Snapshot, error) {
	if opts.RevocationIDs == nil {
		opts.RevocationIDs = truststore.NewRevocationIDs()
	}
	b := &builder{cfg: cfg, opts: opts, snap: &Snapshot{
		Config:        cfg,
		ELB:           ELBID(cfg.Name),
		TrustStores:   map[string]*truststore.Store{},
		StoreVersions: map[string]StoreVersion{},
		opts:          opts,
		arns:          map[*byte]string{},
		Attributes:    cfg.AttributeSet,
		LB:            cfg.AttributeSet.LoadBalancer(),
	}}
	b.snap.opts.proxies = nil // offered to this build only
	if opts.DevPKIDir == "" {
		b.opts.DevPKIDir = cfg.Path(".edge")
	}
	b.snap.stamps = map[string]fileStamp{}
	if cfg.File != "" {
		b.track(cfg.File)
	}
	b.loadBalancers()
	b.logs()
	b.snap.TargetGroups = map[string]*proxy.TargetGroup{}
	for _, tg := range cfg.TargetGroups {
		b.snap.TargetGroups[tg.Name] = &proxy.TargetGroup{
			Name:    tg.Name,
			ARN:     arn.New(cfg.Region, cfg.AccountID).TargetGroup(tg.Name, arn.TargetGroupID(tg.Name)),
			Scheme:  strings.ToLower(tg.Protocol),
			Targets: tg.Targets,
		}
	}
	for i, ts := range cfg.TrustStores {
		b.trustStore(i, ts)
	}
	for i := range cfg.Listeners {
		b.listener(i, &cfg.Listeners[i])
	}
	b.attributeNotes()
	if len(b.ps) > 0 {
		b.snap.Close()
		return nil, b.ps
	}
	return b.snap, nil
}

// attributeNotes tells the user about attribute values edge accepts (so a
// configuration written for ALB loads) but does not act on.
func (b *builder) attributeNotes() {
	note := func(path string, set attributes.Set) {
		for _, a := range set.List() {
			if k, _ := attributes.Lookup(set.Scope(), a.Key); k.Support == attributes.Stored && set.IsSet(a.Key) && a.Value != k.Default {
				b.snap.Notes = append(b.snap.Notes, fmt.Sprintf("%s: %s=%s is accepted, but edge does not act on it (%s)", path, a.Key, a.Value, k.Doc))
			}
		}
	}
	note("attributes", b.cfg.AttributeSet)
	for i, lb := range b.cfg.LoadBalancers {
		note(fmt.Sprintf("load_balancers[%d].attributes", i), lb.AttributeSet)
	}
	for i, tg := range b.cfg.TargetGroups {
		note(fmt.Sprintf("target_groups[%d].attributes", i), tg.AttributeSet)
	}
	for i, l := range b.cfg.Listeners {
		note(fmt.Sprintf("listeners[%d].attributes", i), l.AttributeSet)
	}
}

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// RelPath shortens p relative to the working directory when that is
// shorter, for messages and printed commands.
func RelPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && len(r) < len(p) {
		return r
	}
	return p
}
