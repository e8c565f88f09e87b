// Package server turns a configuration into a running edge: Build reads
// every referenced file and produces an immutable Snapshot (or every
// problem found); Start binds the listeners and serves the snapshot.
package server

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"edge/internal/attributes"
	"edge/internal/config"
	"edge/internal/logfmt"
	"edge/internal/pki"
	"edge/internal/proxy"
	"edge/internal/route"
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

	// proxy is the serving snapshot's, offered to a reload: reused when
	// the target settings are unchanged, so target connections survive.
	proxy *proxy.Proxy
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
	// ELB is the load balancer id logged in the elb field.
	ELB         string
	TrustStores map[string]*truststore.Store
	Listeners   []*Listener
	ConnLog     logfmt.Destination
	AccessLog   logfmt.Destination
	// Notes are things worth telling the user that are not errors.
	Notes []string
	// DevPKI is the dev PKI used, if any listener needed it.
	DevPKI *pki.DevPKI
	// Proxy forwards to the target groups; TargetGroups by name.
	Proxy        *proxy.Proxy
	TargetGroups map[string]*proxy.TargetGroup
	// ownsProxy tells Close to close Proxy: false while a reload's new
	// snapshot shares its predecessor's, until the reload hands it over
	// (under Server.reloadMu).
	ownsProxy bool
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

	// Attributes are the load balancer's effective attributes; LB their
	// typed values.
	Attributes attributes.Set
	LB         attributes.LoadBalancerValues
	// keepAlive is client_keep_alive.seconds: a request on a connection
	// older than it gets Connection: close.
	keepAlive time.Duration
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
	if s.Proxy != nil && s.ownsProxy {
		s.Proxy.Close()
	}
	for _, l := range s.Listeners {
		if l.Term != nil && l.Term.Certificates != nil {
			l.Term.Certificates.Close()
		}
	}
}

// ELBID returns the elb log field for a load balancer name:
// app/<name>/<16 hex>, the hex derived from the name so it is stable
// across restarts.
func ELBID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "app/" + name + "/" + hex.EncodeToString(sum[:8])
}

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

// file reports a problem in a referenced file, pointing back at the key
// that references it.
func (b *builder) file(file string, line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.ps = append(b.ps, config.Problem{File: file, Line: line, Msg: fmt.Sprintf("%s (%s at %s:%d)", msg, path, b.cfg.File, b.cfg.Line(path))})
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
	b.snap.keepAlive = b.snap.LB.ClientKeepAlive
	b.snap.opts.proxy = nil // offered to this build only
	if opts.DevPKIDir == "" {
		b.opts.DevPKIDir = cfg.Path(".edge")
	}
	b.snap.stamps = map[string]fileStamp{}
	if cfg.File != "" {
		b.track(cfg.File)
	}
	b.logs()
	idle := time.Duration(cfg.IdleTimeoutSeconds) * time.Second
	if p := opts.proxy; p != nil && p.IdleTimeout() == idle {
		b.snap.Proxy = p // the serving snapshot's: keep its connections
	} else {
		b.snap.Proxy, b.snap.ownsProxy = proxy.New(idle), true
	}
	b.snap.TargetGroups = map[string]*proxy.TargetGroup{}
	for _, tg := range cfg.TargetGroups {
		b.snap.TargetGroups[tg.Name] = &proxy.TargetGroup{
			Name:    tg.Name,
			ARN:     proxy.TargetGroupARN(cfg.Region, cfg.AccountID, tg.Name),
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

// logs chooses each log's destination: logs.connection / logs.access, or
// the connection_logs.s3.* / access_logs.s3.* attributes, which stand for
// dir:<logs.s3_root>/<bucket>/<prefix>. Both may be given only when they
// name the same place.
func (b *builder) logs() {
	for _, l := range []struct {
		path string
		v    *string
		s3   attributes.S3Logs
		attr string
		dst  *logfmt.Destination
	}{
		{"logs.connection", b.cfg.Logs.Connection, b.snap.LB.ConnectionLogs, "connection_logs.s3", &b.snap.ConnLog},
		{"logs.access", b.cfg.Logs.Access, b.snap.LB.AccessLogs, "access_logs.s3", &b.snap.AccessLog},
	} {
		s := "stdout"
		if l.v != nil {
			s = *l.v
		}
		d, err := logfmt.ParseDestination(s)
		if err != nil {
			b.at(l.path, "%v", err)
			continue
		}
		if d.Kind == "file" || d.Kind == "dir" {
			d.Path = b.cfg.Path(d.Path)
		}
		if l.s3.Enabled {
			s3 := logfmt.Destination{Kind: "dir", Path: filepath.Join(b.cfg.Path(b.cfg.Logs.S3Root), l.s3.Bucket, filepath.FromSlash(l.s3.Prefix))}
			if l.v != nil && d != s3 {
				b.at(l.path, "%s disagrees with the %s attributes (%s:%d), which write to %s: keep one", s, l.attr, b.cfg.File, b.cfg.Line("attributes."+l.attr+".enabled"), s3)
				continue
			}
			d = s3
		}
		d.Layout = logfmt.DirLayout{
			Account: b.cfg.AccountID, Region: b.cfg.Region, ELB: ELBID(b.cfg.Name), NodeIP: nodeIP(b.cfg),
			Connection: l.path == "logs.connection", Interval: time.Duration(b.cfg.Logs.RotationSeconds) * time.Second,
		}
		*l.dst = d
	}
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
	for i, tg := range b.cfg.TargetGroups {
		note(fmt.Sprintf("target_groups[%d].attributes", i), tg.AttributeSet)
	}
	for i, l := range b.cfg.Listeners {
		note(fmt.Sprintf("listeners[%d].attributes", i), l.AttributeSet)
	}
}

func (b *builder) trustStore(i int, ts config.TrustStore) {
	p := fmt.Sprintf("trust_stores[%d]", i)
	bundlePath := b.cfg.Path(ts.CACertificatesBundle)
	if bundlePath == "" {
		return // reported by Validate
	}
	b.track(bundlePath)
	cas, data, err := truststore.LoadBundle(bundlePath)
	var be *truststore.BundleError
	var pe *os.PathError
	switch {
	case errors.As(err, &pe):
		b.file(bundlePath, 0, p+".ca_certificates_bundle", "cannot read the CA bundle: %v", pe.Err)
		return
	case errors.As(err, &be):
		for _, prob := range be.Problems {
			msg := "InvalidCaCertificatesBundle: " + prob.Reason
			if prob.Index > 0 {
				msg = fmt.Sprintf("InvalidCaCertificatesBundle: certificate #%d: %s", prob.Index, prob.Reason)
			}
			b.file(bundlePath, prob.Line, p+".ca_certificates_bundle", "%s", msg)
		}
		return
	case err != nil:
		b.file(bundlePath, 0, p+".ca_certificates_bundle", "%v", err)
		return
	}
	version := sha256.New()
	version.Write(data)
	var crls []truststore.RevocationInput
	for j, r := range ts.Revocations {
		rp := fmt.Sprintf("%s.revocations[%d]", p, j)
		path := b.cfg.Path(r.File)
		b.track(path)
		in, err := truststore.LoadCRL(path)
		switch {
		case errors.As(err, &pe):
			b.file(path, 0, rp, "cannot read the CRL: %v", pe.Err)
			continue
		case err != nil:
			b.file(path, 0, rp, "%v", err)
			continue
		}
		if b.opts.RemovedRevocations[ts.Name][in.Key()] {
			continue // removed through the admin API; a rewrite of the file is a new CRL
		}
		version.Write(in.Digest[:])
		crls = append(crls, in)
	}
	for _, in := range b.opts.ExtraRevocations[ts.Name] {
		version.Write(in.Digest[:])
		crls = append(crls, in)
	}
	mode, _ := truststore.ParseRevocationMode(ts.RevocationCheck) // validated already
	store, err := truststore.New(ts.Name, cas, crls, truststore.Options{
		Revocation:           mode,
		MaxRevocationEntries: ts.MaxRevocationEntries,
		IDs:                  b.opts.RevocationIDs,
	})
	if err != nil {
		for _, e := range unjoin(err) {
			b.at(p+".revocations", "%v", e)
		}
		return
	}
	b.snap.Notes = append(b.snap.Notes, store.Notes()...)
	now := time.Now()
	for _, c := range store.CRLs {
		if c.Stale(now) {
			b.snap.Notes = append(b.snap.Notes, fmt.Sprintf("%s: CRL is past its nextUpdate (%s); edge still applies it, as ALB does", c.Source, c.List.NextUpdate.UTC().Format(time.RFC3339)))
		}
	}
	b.snap.TrustStores[ts.Name] = store
	b.snap.StoreVersions[ts.Name] = StoreVersion{Hash: hex.EncodeToString(version.Sum(nil)[:8]), Loaded: time.Now().UTC()}
}

func (b *builder) listener(i int, lc *config.Listener) {
	p := fmt.Sprintf("listeners[%d]", i)
	l := &Listener{Index: i, Address: lc.Address, Port: *lc.Port, Protocol: lc.Protocol, Attributes: lc.AttributeSet}
	l.Forwarding = proxy.NewForwarding(b.snap.LB, lc.AttributeSet.Listener())
	b.routes(l, lc, p)
	b.snap.Listeners = append(b.snap.Listeners, l)
	if lc.Protocol != "HTTPS" {
		return
	}
	policy, err := tlsterm.LookupPolicy(lc.SSLPolicy)
	if err != nil {
		b.at(p+".ssl_policy", "%v", err)
	}
	term := &tlsterm.Termination{Policy: policy, Now: b.opts.Now}
	term.Rejection, _ = tlsterm.ParseRejection(b.cfg.TLSRejection) // validated already
	if ma := lc.MutualAuthentication; ma != nil {
		term.Mode, _ = tlsterm.ParseMode(ma.Mode) // validated already
		term.IgnoreExpiry = ma.IgnoreClientCertificateExpiry
		term.AdvertiseCANames = ma.AdvertiseTrustStoreCaNames == "on"
		if term.Mode == tlsterm.ModeVerify {
			term.TrustStore = b.snap.TrustStores[ma.TrustStore]
			l.TrustStoreName = ma.TrustStore
		}
	}
	l.Term = term
	certs := b.certificates(l, lc, p)
	for _, c := range certs {
		if len(c.Certificate) > 0 && len(c.Certificate[0]) > 0 {
			b.snap.arns[&c.Certificate[0][0]] = certARN(b.snap, c.Certificate[0])
		}
	}
	if term.Mode == tlsterm.ModeVerify && term.TrustStore == nil {
		return // the trust store's own problems are reported
	}
	if certs == nil {
		return // problems reported, or CheckOnly with a dev certificate
	}
	cache, err := tlsterm.NewCertificates(certs)
	if err != nil {
		b.at(p+".certificates", "%v", err)
		return
	}
	term.Certificates = cache
	if l.TLS, err = term.Config(); err != nil {
		b.at(p, "%v", err)
	}
}

func (b *builder) routes(l *Listener, lc *config.Listener, p string) {
	var rules []route.Rule
	for j, rc := range lc.Rules {
		rp := fmt.Sprintf("%s.rules[%d]", p, j)
		h, _ := b.action(rc.Actions[0], rp+".actions[0]", l.Forwarding)
		var conds []route.Condition
		for k, c := range rc.Conditions {
			cond, err := condition(c)
			if err != nil {
				b.at(fmt.Sprintf("%s.conditions[%d]", rp, k), "%v", err)
				continue
			}
			conds = append(conds, cond)
		}
		rules = append(rules, route.Rule{Priority: rc.Priority, Conditions: conds, Kind: rc.Actions[0].Type, Action: h})
	}
	def, desc := b.action(lc.DefaultActions[0], p+".default_actions[0]", l.Forwarding)
	l.Handler = route.NewRouter(rules, lc.DefaultActions[0].Type, def)
	l.DefaultAction = desc
	l.Rules = len(rules)
}

// action builds one validated action and describes it for summaries; fw
// is its listener's rewriting.
func (b *builder) action(a config.Action, p string, fw *proxy.Forwarding) (http.Handler, string) {
	switch a.Type {
	case "fixed-response":
		fr := a.FixedResponseConfig
		h, err := route.NewFixedResponse(fr.StatusCode, fr.ContentType, fr.MessageBody)
		if err != nil {
			b.at(p, "%v", err)
		}
		ct := fr.ContentType
		if ct == "" {
			ct = "no content type"
		}
		return h, fmt.Sprintf("fixed-response %s (%s, %d bytes)", fr.StatusCode, ct, len(fr.MessageBody))
	case "redirect":
		rc := a.RedirectConfig
		status := http.StatusMovedPermanently
		if rc.StatusCode == "HTTP_302" {
			status = http.StatusFound
		}
		rd := &route.Redirect{Protocol: rc.Protocol, Host: rc.Host, Port: rc.Port, Path: rc.Path, Query: rc.Query, Status: status}
		return rd, fmt.Sprintf("redirect %s", rc.StatusCode)
	case "forward":
		var ws []proxy.Weighted
		var names []string
		if a.TargetGroup != "" {
			ws = append(ws, proxy.Weighted{Group: b.snap.TargetGroups[a.TargetGroup], Weight: 1})
			names = append(names, a.TargetGroup)
		}
		for _, w := range a.TargetGroups {
			ws = append(ws, proxy.Weighted{Group: b.snap.TargetGroups[w.Name], Weight: w.Weight})
			names = append(names, fmt.Sprintf("%s (weight %d)", w.Name, w.Weight))
		}
		f := b.snap.Proxy.NewForward(ws)
		f.Forwarding = fw
		return f, "forward to " + strings.Join(names, ", ")
	}
	return http.NotFoundHandler(), a.Type // unreachable: validated
}

// condition turns a validated rule condition into its matcher.
func condition(c config.Condition) (route.Condition, error) {
	vals := c.ConditionValues()
	switch c.Field {
	case "host-header":
		return route.HostHeader{Values: lowerAll(vals)}, nil
	case "path-pattern":
		return route.PathPattern{Values: vals}, nil
	case "http-header":
		return route.HTTPHeader{Name: c.HTTPHeaderConfig.HTTPHeaderName, Values: lowerAll(vals)}, nil
	case "http-request-method":
		return route.Method{Values: vals}, nil
	case "query-string":
		var kvs []route.KeyValue
		for _, kv := range c.QueryStringConfig.Values {
			kvs = append(kvs, route.KeyValue{Key: strings.ToLower(kv.Key), Value: strings.ToLower(kv.Value)})
		}
		return route.QueryString{Values: kvs}, nil
	case "source-ip":
		var ps []netip.Prefix
		for _, v := range vals {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p.Masked())
		}
		return route.SourceIP{Prefixes: ps}, nil
	}
	return nil, fmt.Errorf("unknown condition field %q", c.Field)
}

func lowerAll(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.ToLower(v)
	}
	return out
}

// certificates loads a listener's server certificates, or issues one from
// the dev CA when it has none.
func (b *builder) certificates(l *Listener, lc *config.Listener, p string) []tls.Certificate {
	if len(lc.Certificates) == 0 {
		l.DevCertificate = true
		if b.opts.CheckOnly {
			return nil
		}
		return b.devCertificate(lc, p)
	}
	var out []tls.Certificate
	ok := true
	for j, c := range lc.Certificates {
		cp := fmt.Sprintf("%s.certificates[%d]", p, j)
		tc, err := b.loadCertificate(c, cp)
		if err != nil {
			ok = false
			continue
		}
		out = append(out, tc)
	}
	if !ok {
		return nil
	}
	return out
}

func (b *builder) loadCertificate(c config.Certificate, p string) (tls.Certificate, error) {
	fail := errors.New("failed")
	certPath, keyPath := b.cfg.Path(c.Certificate), b.cfg.Path(c.PrivateKey)
	b.track(certPath)
	b.track(keyPath)
	if c.CertificateChain != "" {
		b.track(b.cfg.Path(c.CertificateChain))
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		b.file(certPath, 0, p+".certificate", "cannot read the certificate: %v", unwrapPath(err))
		return tls.Certificate{}, fail
	}
	certs, err := pki.ReadCertsPEM(certPath, certPEM)
	if err != nil {
		b.file(certPath, 0, p+".certificate", "%v", err)
		return tls.Certificate{}, fail
	}
	if c.CertificateChain != "" {
		chainPath := b.cfg.Path(c.CertificateChain)
		chainPEM, err := os.ReadFile(chainPath)
		if err != nil {
			b.file(chainPath, 0, p+".certificate_chain", "cannot read the certificate chain: %v", unwrapPath(err))
			return tls.Certificate{}, fail
		}
		chain, err := pki.ReadCertsPEM(chainPath, chainPEM)
		if err != nil {
			b.file(chainPath, 0, p+".certificate_chain", "%v", err)
			return tls.Certificate{}, fail
		}
		certs = append(certs, chain...)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		b.file(keyPath, 0, p+".private_key", "cannot read the private key: %v", unwrapPath(err))
		return tls.Certificate{}, fail
	}
	key, err := pki.ParseKeyPEM(keyPEM)
	if err != nil {
		b.file(keyPath, 0, p+".private_key", "%v", err)
		return tls.Certificate{}, fail
	}
	leaf := certs[0]
	if pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
		b.file(keyPath, 0, p+".private_key", "the private key does not match the certificate in %s", certPath)
		return tls.Certificate{}, fail
	}
	if time.Now().After(leaf.NotAfter) {
		b.snap.Notes = append(b.snap.Notes, fmt.Sprintf("%s: the server certificate expired at %s", certPath, leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range certs {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, nil
}

func (b *builder) devCertificate(lc *config.Listener, p string) []tls.Certificate {
	dev := b.snap.DevPKI
	if dev == nil {
		var err error
		if dev, err = pki.EnsureDev(b.opts.DevPKIDir); err != nil {
			b.at(p, "cannot prepare the dev CA for a listener without certificates: %v", err)
			return nil
		}
		b.snap.DevPKI = dev
	}
	var o pki.Options
	o.DNSNames, o.IPs = pki.DevServerNames(lc.Address)
	is, err := dev.Intermediate.IssueServer(o)
	if err != nil {
		b.at(p, "issuing a dev certificate: %v", err)
		return nil
	}
	return []tls.Certificate{is.TLSCertificate()}
}

// nodeIP is the address the log file names carry: the first listener's
// address when it is an IP, else 127.0.0.1.
func nodeIP(cfg *config.Config) string {
	for _, l := range cfg.Listeners {
		if ip := net.ParseIP(l.Address); ip != nil && !ip.IsUnspecified() {
			return ip.String()
		}
	}
	return "127.0.0.1"
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
