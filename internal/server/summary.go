package server

import (
	"fmt"
	"io"
	"strings"
	"time"

	"edge/internal/attributes"
	"edge/internal/certfmt"
	"edge/internal/tlsterm"
)

// WriteSummary describes the snapshot for `edge check`: each load balancer
// (its elb id, log destinations and attributes) followed by its listeners,
// the target groups and each trust store in DescribeTrustStores terms. With
// allAttributes every attribute key is listed with its effective value, as
// the Describe*Attributes operations return them; otherwise only the keys
// whose value differs from ELBv2's default. A configuration without
// listeners (API Gateway only) describes no load balancer, and the default
// load balancer is left out when every listener belongs to another.
func (s *Snapshot) WriteSummary(w io.Writer, allAttributes bool) {
	lbs := s.LoadBalancers
	if len(s.Config.Listeners) == 0 {
		// An API Gateway only configuration: the default load balancer
		// serves nothing, so it is not summarized.
		lbs = nil
	} else {
		if len(lbs) > 1 && len(lbs[0].Listeners) == 0 {
			// Every listener belongs to a named load balancer (an edge
			// export of the API's): the default one serves nothing.
			lbs = lbs[1:]
		}
		writeLoadBalancer(w, lbs[0], allAttributes)
	}
	for _, tg := range s.Config.TargetGroups {
		fmt.Fprintf(w, "target group %s: %s, targets %s\n", tg.Name, tg.Protocol, strings.Join(tg.Targets, ", "))
		writeAttributes(w, "DescribeTargetGroupAttributes", tg.AttributeSet, allAttributes)
	}
	for _, ts := range s.Config.TrustStores {
		st := s.TrustStores[ts.Name]
		if st == nil {
			continue
		}
		fmt.Fprintf(w, "trust store %s: NumberOfCaCertificates=%d TotalRevokedEntries=%d revocation_check=%s\n", st.Name, len(st.CAs), st.TotalRevokedEntries(), st.Mode)
		for i, c := range st.CAs {
			fmt.Fprintf(w, "  CA #%d %q, serial %s, expires %s\n", i+1, certfmt.DN(c.RawSubject), certfmt.Serial(c), c.NotAfter.UTC().Format("2006-01-02"))
		}
		for _, c := range st.CRLs {
			fmt.Fprintf(w, "  RevocationId=%d %s issuer %q NumberOfRevokedEntries=%d nextUpdate %s\n", c.ID, c.Source, certfmt.DN(c.List.RawIssuer), c.NumberOfRevokedEntries(), c.List.NextUpdate.UTC().Format(time.RFC3339))
		}
	}
	for i, lb := range lbs {
		if i > 0 {
			writeLoadBalancer(w, lb, allAttributes)
		}
		for _, l := range lb.Listeners {
			writeListener(w, s, l, allAttributes)
		}
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func writeLoadBalancer(w io.Writer, lb *LoadBalancer, allAttributes bool) {
	fmt.Fprintf(w, "load balancer %s (elb %s)\n", lb.Name, lb.ELB)
	fmt.Fprintf(w, "  connection log: %s\n  access log: %s\n", lb.ConnLog, lb.AccessLog)
	writeAttributes(w, "DescribeLoadBalancerAttributes", lb.Attributes, allAttributes)
}

func writeListener(w io.Writer, s *Snapshot, l *Listener, allAttributes bool) {
	fmt.Fprintf(w, "listener %d: %s %s\n", l.Index, l.Protocol, l.Addr())
	if t := l.Term; l.Protocol == "HTTPS" && t != nil {
		p := t.Policy
		fmt.Fprintf(w, "  ssl policy %s: %s-%s, %d ciphers", p.Name, tlsterm.VersionName(p.MinVersion), tlsterm.VersionName(p.MaxVersion), len(p.Ciphers))
		if u := p.Unsupported(); len(u) > 0 {
			fmt.Fprintf(w, " (not offered, Go lacks them: %s)", strings.Join(u, " "))
		}
		fmt.Fprintln(w)
		if l.DevCertificate && len(l.certs) == 1 && l.certs[0].arn == "" {
			fmt.Fprintf(w, "  certificate: issued at start by the dev CA for localhost, the loopback addresses and the listener's address (every address of the machine for 0.0.0.0)\n")
		}
		for i, info := range l.certs {
			if info.dev && info.arn != "" {
				fmt.Fprintf(w, "  certificate %s: ACM is not emulated: issued at start by the dev CA for localhost, the loopback addresses and the listener's address\n", info.arn)
			} else if info.arn != "" && i >= len(t.Certificates.All()) {
				fmt.Fprintf(w, "  certificate %s\n", info.arn)
			}
		}
		for i, c := range t.Certificates.All() {
			role := "SNI"
			if i == 0 {
				role = "default"
			}
			arn := ""
			if i < len(l.certs) && l.certs[i].arn != "" {
				arn = " (" + l.certs[i].arn + ")"
			}
			fmt.Fprintf(w, "  certificate (%s) %q for %s, expires %s%s\n", role, certfmt.DN(c.Leaf.RawSubject), strings.Join(names(c.Leaf.DNSNames, c.Leaf.IPAddresses), ", "), c.Leaf.NotAfter.UTC().Format("2006-01-02"), arn)
		}
		fmt.Fprintf(w, "  mutual authentication: %s", t.Mode)
		if l.TrustStoreName != "" {
			fmt.Fprintf(w, ", trust store %s, ignore expiry %t, advertise CA names %t, refusals %s", l.TrustStoreName, t.IgnoreExpiry, t.AdvertiseCANames, t.Rejection)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  default action: %s\n", l.DefaultAction)
	writeAttributes(w, "DescribeListenerAttributes", l.Attributes, allAttributes)
}

// writeAttributes lists the keys of set with their effective values, as the
// Describe operation named would return them (all of them, or only those
// that differ from the default); keys edge accepts without acting on them
// are marked, and an empty header name says which name is sent.
func writeAttributes(w io.Writer, describe string, set attributes.Set, all bool) {
	list := set.List()
	if !all {
		var changed []attributes.Attribute
		for _, a := range list {
			if k, _ := attributes.Lookup(set.Scope(), a.Key); a.Value != k.Default {
				changed = append(changed, a)
			}
		}
		if len(changed) == 0 {
			fmt.Fprintf(w, "  attributes: %d keys, all at their defaults (edge check --attributes lists them)\n", len(list))
			return
		}
		fmt.Fprintf(w, "  attributes set (%d of %d keys; edge check --attributes lists all):\n", len(changed), len(list))
		list = changed
	} else {
		fmt.Fprintf(w, "  attributes (%s):\n", describe)
	}
	for _, a := range list {
		k, _ := attributes.Lookup(set.Scope(), a.Key)
		suffix := ""
		switch {
		case k.Support == attributes.Stored:
			suffix = " (not emulated)"
		case a.Value == "" && set.HeaderName(a.Key) != "":
			suffix = " (sends " + set.HeaderName(a.Key) + ")"
		}
		fmt.Fprintf(w, "    %s=%s%s\n", a.Key, a.Value, suffix)
	}
}

func names[T fmt.Stringer](dns []string, ips []T) []string {
	out := append([]string(nil), dns...)
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		out = []string{"(no subjectAltName)"}
	}
	return out
}
