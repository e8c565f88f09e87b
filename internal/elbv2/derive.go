package elbv2

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"edge/internal/config"
)

// Derive returns the complete configuration edge serves: the file layer
// (nil for none) plus the API state, in today's config types. API trust
// stores and CRLs reference the state's immutable blob copies by absolute
// path; target groups, trust stores and rules are referenced by name, as
// in edge.yaml. The result has not been validated (run Validate, or let
// server.Build report problems).
//
// Known limits of today's config schema, which Derive cannot express:
//   - one load balancer: listeners of every API load balancer are served
//     by the one process and logged under the file layer's name (or the
//     first API load balancer's when there is no file layer);
//   - revocation ids: server.Build numbers CRLs in list order, so the ids
//     the running trust store reports may differ from the API's after a
//     revocation was removed (the API's ids stay authoritative);
//   - load balancer / listener attributes other than
//     idle_timeout.timeout_seconds are stored and echoed, not served;
//   - ACM: a CertificateArn edge does not know gives the listener no
//     certificate, so server.Build issues the dev-CA certificate for
//     localhost, 127.0.0.1 and the listener's address (see
//     UnknownCertificates for the log line).
func Derive(st *State, file *config.Config) (*config.Config, error) {
	out := &config.Config{}
	if file != nil {
		c := *file
		out = &c
		out.TrustStores = append([]config.TrustStore(nil), file.TrustStores...)
		out.TargetGroups = append([]config.TargetGroup(nil), file.TargetGroups...)
		out.Listeners = append([]config.Listener(nil), file.Listeners...)
	}
	if out.Name == "" && len(st.LoadBalancers) > 0 {
		out.Name = st.LoadBalancers[0].LoadBalancerName
	}
	// Revocations the API added to (or removed from) file-layer stores.
	for i := range out.TrustStores {
		ts := &out.TrustStores[i]
		ov := st.FileRevocations[ts.Name]
		if ov == nil {
			continue
		}
		removed := map[int64]bool{}
		for _, id := range ov.Removed {
			removed[id] = true
		}
		var revs []config.Revocation
		var next int64
		for _, r := range ts.Revocations {
			id := r.RevocationID
			if id == 0 {
				id = next + 1
			}
			next = max(next, id)
			if !removed[id] {
				revs = append(revs, config.Revocation{File: out.Path(r.File), RevocationID: id})
			}
		}
		for _, r := range ov.Added {
			revs = append(revs, config.Revocation{File: st.BlobPath(r.CRL), RevocationID: r.ID})
		}
		ts.Revocations = revs
	}
	tsName := map[string]string{}
	for _, ts := range st.TrustStores {
		t := config.TrustStore{Name: ts.Name, CACertificatesBundle: st.BlobPath(ts.Bundle)}
		for _, r := range ts.Revocations {
			t.Revocations = append(t.Revocations, config.Revocation{File: st.BlobPath(r.CRL), RevocationID: r.ID})
		}
		out.TrustStores = append(out.TrustStores, t)
		tsName[ts.Arn] = ts.Name
	}
	if file != nil {
		for _, ts := range file.TrustStores {
			tsName[FileTrustStoreARN(orDefault(file.Region, "us-east-1"), orDefault(file.AccountID, "123456789012"), ts.Name)] = ts.Name
		}
	}
	tgName := map[string]string{}
	for _, tg := range st.TargetGroups {
		g := config.TargetGroup{Name: tg.TargetGroupName, Protocol: tg.Protocol}
		for _, t := range tg.Targets {
			port := tg.Port
			if t.Port != nil {
				port = t.Port
			}
			if port != nil {
				g.Targets = append(g.Targets, net.JoinHostPort(t.Id, strconv.Itoa(int(*port))))
			}
		}
		out.TargetGroups = append(out.TargetGroups, g)
		tgName[tg.TargetGroupArn] = tg.TargetGroupName
	}
	rules := map[string][]*Rule{}
	for _, r := range st.Rules {
		rules[r.ListenerArn] = append(rules[r.ListenerArn], r)
	}
	for _, l := range st.Listeners {
		port := int(l.Port)
		cl := config.Listener{Port: &port, Protocol: l.Protocol, SSLPolicy: l.SslPolicy}
		if ma := l.MutualAuthentication; ma != nil && ma.Mode != "" {
			m := &config.MutualAuthentication{Mode: ma.Mode, AdvertiseTrustStoreCaNames: ma.AdvertiseTrustStoreCaNames}
			if ma.Mode == "verify" {
				name, ok := tsName[ma.TrustStoreArn]
				if !ok {
					return nil, fmt.Errorf("listener %s: trust store %s is not defined", l.ListenerArn, ma.TrustStoreArn)
				}
				m.TrustStore = name
				m.IgnoreClientCertificateExpiry = ma.IgnoreClientCertificateExpiry != nil && *ma.IgnoreClientCertificateExpiry
			} else {
				m.AdvertiseTrustStoreCaNames = ""
			}
			cl.MutualAuthentication = m
		}
		for _, a := range l.DefaultActions {
			ca, err := actionToConfig(a, tgName)
			if err != nil {
				return nil, fmt.Errorf("listener %s: %w", l.ListenerArn, err)
			}
			cl.DefaultActions = append(cl.DefaultActions, ca)
		}
		rs := rules[l.ListenerArn]
		sort.Slice(rs, func(i, j int) bool {
			a, _ := strconv.Atoi(rs[i].Priority)
			b, _ := strconv.Atoi(rs[j].Priority)
			return a < b
		})
		for _, r := range rs {
			p, _ := strconv.Atoi(r.Priority)
			cr := config.Rule{Priority: p}
			for _, c := range r.Conditions {
				cr.Conditions = append(cr.Conditions, conditionToConfig(c))
			}
			for _, a := range r.Actions {
				ca, err := actionToConfig(a, tgName)
				if err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.RuleArn, err)
				}
				cr.Actions = append(cr.Actions, ca)
			}
			cl.Rules = append(cl.Rules, cr)
		}
		out.Listeners = append(out.Listeners, cl)
	}
	for _, lb := range st.LoadBalancers {
		if v, ok := lb.Attributes["idle_timeout.timeout_seconds"]; ok && (file == nil || lb == st.LoadBalancers[0]) {
			out.IdleTimeoutSeconds, _ = strconv.Atoi(v)
		}
	}
	return out, nil
}

func actionToConfig(a Action, tgName map[string]string) (config.Action, error) {
	ca := config.Action{Type: a.Type}
	name := func(arn string) (string, error) {
		if n, ok := tgName[arn]; ok {
			return n, nil
		}
		// A file-layer target group: its name is in its ARN.
		if p := strings.Split(arn, "/"); arnKind(arn) == "targetgroup" && len(p) == 3 {
			return p[1], nil
		}
		return "", fmt.Errorf("target group %s is not defined", arn)
	}
	switch a.Type {
	case "forward":
		if fc := a.ForwardConfig; fc != nil && len(fc.TargetGroups) > 1 {
			for _, t := range fc.TargetGroups {
				n, err := name(t.TargetGroupArn)
				if err != nil {
					return ca, err
				}
				w := 1
				if t.Weight != nil {
					w = int(*t.Weight)
				}
				ca.TargetGroups = append(ca.TargetGroups, config.WeightedTarget{Name: n, Weight: w})
			}
			return ca, nil
		}
		arn := a.TargetGroupArn
		if arn == "" && a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) == 1 {
			arn = a.ForwardConfig.TargetGroups[0].TargetGroupArn
		}
		n, err := name(arn)
		ca.TargetGroup = n
		return ca, err
	case "fixed-response":
		if f := a.FixedResponseConfig; f != nil {
			ca.FixedResponseConfig = &config.FixedResponseConfig{StatusCode: f.StatusCode, ContentType: f.ContentType, MessageBody: f.MessageBody}
		}
	case "redirect":
		if r := a.RedirectConfig; r != nil {
			ca.RedirectConfig = &config.RedirectConfig{Protocol: r.Protocol, Host: r.Host, Port: r.Port, Path: r.Path, Query: r.Query, StatusCode: r.StatusCode}
		}
	}
	return ca, nil
}

func valuesToConfig(v *ValuesConfig) *config.ValuesConfig {
	if v == nil {
		return nil
	}
	return &config.ValuesConfig{Values: v.Values}
}

func conditionToConfig(c RuleCondition) config.Condition {
	out := config.Condition{Field: c.Field, Values: c.Values,
		HostHeaderConfig: valuesToConfig(c.HostHeaderConfig), PathPatternConfig: valuesToConfig(c.PathPatternConfig),
		HTTPRequestMethodConfig: valuesToConfig(c.HttpRequestMethodConfig), SourceIPConfig: valuesToConfig(c.SourceIpConfig)}
	if h := c.HttpHeaderConfig; h != nil {
		out.HTTPHeaderConfig = &config.HTTPHeaderConfig{HTTPHeaderName: h.HttpHeaderName, Values: h.Values}
	}
	if q := c.QueryStringConfig; q != nil {
		qs := &config.QueryStringConfig{}
		for _, kv := range q.Values {
			qs.Values = append(qs.Values, config.KeyValue{Key: kv.Key, Value: kv.Value})
		}
		out.QueryStringConfig = qs
	}
	return out
}

// UnknownCertificates returns one line per API listener certificate ARN
// edge cannot serve (ACM is not emulated), for the log: such a listener is
// served with a dev-CA certificate for localhost and 127.0.0.1.
func UnknownCertificates(st *State) []string {
	var out []string
	for _, l := range st.Listeners {
		for _, c := range append(append([]Certificate{}, l.Certificates...), l.ExtraCertificates...) {
			out = append(out, fmt.Sprintf("listener %s: certificate %s is not known to edge (ACM is not emulated); serving a dev-CA certificate for localhost and 127.0.0.1", l.ListenerArn, c.CertificateArn))
		}
	}
	return out
}
