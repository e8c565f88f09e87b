package server

import (
	"fmt"

	"edge/internal/config"
	"edge/internal/proxy"
	"edge/internal/tlsterm"
)

func (b *builder) listener(i int, lc *config.Listener) {
	p := fmt.Sprintf("listeners[%d]", i)
	lb := b.loadBalancerOf(lc.LoadBalancer)
	l := &Listener{Index: i, Address: lc.Address, Port: *lc.Port, Protocol: lc.Protocol, Attributes: lc.AttributeSet, LoadBalancer: lb, ARN: lc.ARN}
	lb.Listeners = append(lb.Listeners, l)
	l.Forwarding = proxy.NewForwarding(lb.Values, lc.AttributeSet.Listener())
	b.routes(l, lc, p)
	b.snap.Listeners = append(b.snap.Listeners, l)
	if lc.Protocol != "HTTPS" {
		return
	}
	policy, err := tlsterm.LookupPolicy(lc.SSLPolicy)
	if err != nil {
		b.atErr(err, p+".ssl_policy", "%v", err)
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
	for j, c := range certs {
		if len(c.Certificate) > 0 && len(c.Certificate[0]) > 0 {
			a := l.certs[j].arn
			if a == "" {
				a = certARN(b.snap, c.Certificate[0])
			}
			b.snap.arns[&c.Certificate[0][0]] = a
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
		b.atErr(err, p+".certificates", "%v", err)
		return
	}
	term.Certificates = cache
	if l.TLS, err = term.Config(); err != nil {
		b.atErr(err, p, "%v", err)
	}
}
