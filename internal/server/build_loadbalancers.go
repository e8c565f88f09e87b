package server

import (
	"time"

	"edge/internal/arn"
	"edge/internal/attributes"
	"edge/internal/logfmt"
	"edge/internal/proxy"
)

// LoadBalancer is one built load balancer: the default one (the top-level
// name, attributes and logs) or one of load_balancers. Its listeners log
// its elb id to its destinations and apply its attributes.
type LoadBalancer struct {
	// Name is its name; ID the 16 hex digits of its ARN
	// (load_balancers[].id, or derived from the name: arn.LoadBalancerID).
	Name, ID string
	// ELB is the elb field of its log lines, app/NAME/ID; ARN its
	// LoadBalancerArn.
	ELB, ARN string
	// Default is true for the top-level load balancer.
	Default bool
	// Attributes are its effective attributes; Values their typed values.
	Attributes attributes.Set
	Values     attributes.LoadBalancerValues
	// ConnLog and AccessLog are its destinations: its own
	// connection_logs.s3.* / access_logs.s3.* directories, or the
	// top-level logs (shared with the default load balancer, each line
	// carrying its own elb id).
	ConnLog, AccessLog logfmt.Destination
	// Proxy forwards its listeners' requests; targets must answer within
	// its idle timeout.
	Proxy *proxy.Proxy
	// Listeners are its listeners, in configuration order.
	Listeners []*Listener

	// ownsProxy tells Snapshot.Close to close Proxy: false while a
	// reload's new snapshot shares its predecessor's, until the reload
	// hands it over (under Server.reloadMu).
	ownsProxy bool
	// idleTimeout is idle_timeout.timeout_seconds (client and target);
	// keepAlive client_keep_alive.seconds: a request on a connection
	// older than it gets Connection: close.
	idleTimeout, keepAlive time.Duration
}

// loadBalancers builds the default load balancer and those of
// load_balancers, each with its proxy (the serving snapshot's of the same
// name when its idle timeout is unchanged).
func (b *builder) loadBalancers() {
	cfg := b.cfg
	def := b.loadBalancer(cfg.Name, "", cfg.AttributeSet, time.Duration(cfg.IdleTimeoutSeconds)*time.Second)
	def.Default = true
	for _, lc := range cfg.LoadBalancers {
		b.loadBalancer(lc.Name, lc.ID, lc.AttributeSet, 0)
	}
	b.snap.ELB, b.snap.Proxy = def.ELB, def.Proxy
	b.snap.minIdle = def.idleTimeout
	for _, lb := range b.snap.LoadBalancers {
		b.snap.minIdle = min(b.snap.minIdle, lb.idleTimeout)
	}
}

// loadBalancer adds one load balancer; idle overrides its attributes'
// idle timeout when positive (the top-level idle_timeout_seconds).
func (b *builder) loadBalancer(name, id string, set attributes.Set, idle time.Duration) *LoadBalancer {
	if id == "" {
		id = arn.LoadBalancerID(name)
	}
	lb := &LoadBalancer{Name: name, ID: id, ELB: arn.ELB(name, id), ARN: arn.New(b.cfg.Region, b.cfg.AccountID).LoadBalancer(name, id),
		Attributes: set, Values: set.LoadBalancer()}
	lb.keepAlive = lb.Values.ClientKeepAlive
	lb.idleTimeout = lb.Values.IdleTimeout
	if idle > 0 {
		lb.idleTimeout = idle
	}
	if lb.idleTimeout <= 0 {
		lb.idleTimeout = 60 * time.Second // ELBv2's default (a configuration built without Validate)
	}
	if p := b.opts.proxies[name]; p != nil && p.IdleTimeout() == lb.idleTimeout {
		lb.Proxy = p // the serving snapshot's: keep its connections
	} else {
		lb.Proxy, lb.ownsProxy = proxy.New(lb.idleTimeout), true
	}
	b.snap.LoadBalancers = append(b.snap.LoadBalancers, lb)
	return lb
}

// loadBalancerOf returns the load balancer named (the default for "";
// names are validated).
func (b *builder) loadBalancerOf(name string) *LoadBalancer {
	for _, lb := range b.snap.LoadBalancers {
		if lb.Name == name {
			return lb
		}
	}
	return b.snap.LoadBalancers[0]
}
