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

// WriteSummary describes the snapshot for `edge check`: the load balancer,
// each trust store in DescribeTrustStores terms, and each listener. With
// allAttributes every attribute key is listed with its effective value, as
// the Describe*Attributes operations return them; otherwise only the keys
// whose value differs from ELBv2's default.
func (s *Snapshot) WriteSummary(w io.Writer, allAttributes bool) {
	fmt.Fprintf(w, "load balancer %s (elb %s)\n", s.Config.Name, s.ELB)
	fmt.Fprintf(w, "  connection log: %s\n  access log: %s\n", s.ConnLog, s.AccessLog)
	writeAttributes(w, "DescribeLoadBalancerAttributes", s.Attributes, allAttributes)
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
	for _, l := range s.Listeners {
		fmt.Fprintf(w, "listener %d: %s %s\n", l.Index, l.Protocol, l.Addr())
		if l.Protocol == "HTTPS" {
			if t := l.Term; t != nil {
				p := t.Policy
				fmt.Fprintf(w, "  ssl policy %s: %s-%s, %d ciphers", p.Name, tlsterm.VersionName(p.MinVersion), tlsterm.VersionName(p.MaxVersion), len(p.Ciphers))
				if u := p.Unsupported(); len(u) > 0 {
					fmt.Fprintf(w, " (not offered, Go lacks them: %s)", strings.Join(u, " "))
				}
				fmt.Fprintln(w)
				if l.DevCertificate {
					fmt.Fprintf(w, "  certificate: issued at start by the dev CA for localhost, the loopback addresses and the listener's address (every address of the machine for 0.0.0.0)\n")
				}
				for i, c := range t.Certificates.All() {
					role := "SNI"
					if i == 0 {
						role = "default"
					}
					fmt.Fprintf(w, "  certificate (%s) %q for %s, expires %s\n", role, certfmt.DN(c.Leaf.RawSubject), strings.Join(names(c.Leaf.DNSNames, c.Leaf.IPAddresses), ", "), c.Leaf.NotAfter.UTC().Format("2006-01-02"))
				}
				fmt.Fprintf(w, "  mutual authentication: %s", t.Mode)
				if l.TrustStoreName != "" {
					fmt.Fprintf(w, ", trust store %s, ignore expiry %t, advertise CA names %t, refusals %s", l.TrustStoreName, t.IgnoreExpiry, t.AdvertiseCANames, t.Rejection)
				}
				fmt.Fprintln(w)
			}
		}
		fmt.Fprintf(w, "  default action: %s\n", l.DefaultAction)
		writeAttributes(w, "DescribeListenerAttributes", l.Attributes, allAttributes)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
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
