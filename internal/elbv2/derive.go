package elbv2

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	attrtable "edge/internal/attributes"
	"edge/internal/config"
	"edge/internal/truststore"
)

// Derive returns the complete configuration edge serves: the file layer
// (nil for none) plus the API state, in edge's config schema. API trust
// stores and CRLs reference the state's immutable blob copies by absolute
// path; target groups, trust stores and rules are referenced by name, as
// in edge.yaml. The result has not been validated (run Validate, or let
// server.Build report problems); file-layer values are copied shallowly
// (pointers and maps are shared with file).
//
// The API's resources take the schema's control-plane forms, so that the
// running edge and `edge export` carry the API's identities:
//   - every API load balancer is a load_balancers entry with its name, the
//     16 hex digits of its ARN as id (so the elb log field is
//     app/NAME/ID, the ARN's) and its attributes; its listeners name it in
//     load_balancer. The top-level name stays the file layer's default
//     load balancer; when no file listener uses it and an API load balancer
//     has its name, the top-level one is renamed (DefaultLoadBalancerName)
//     so the names stay unique;
//   - revocations carry their RevocationId (revocation_id), so ids survive
//     a reload, a restart and a round trip through YAML;
//   - listener certificates are certificate_arn entries (the default one
//     first, then AddListenerCertificates'): ACM is not emulated, edge
//     serves a dev-CA certificate for localhost, 127.0.0.1 and the
//     listener's address under that ARN (the server logs it once per ARN);
//   - attributes (load balancer, listener, target group) are the ones the
//     call set; keys edge's attribute table does not know are left out.
func Derive(st *State, file *config.Config) (*config.Config, error) {
	out := &config.Config{}
	if file != nil {
		c := *file
		out = &c
		out.TrustStores = append([]config.TrustStore(nil), file.TrustStores...)
		out.TargetGroups = append([]config.TargetGroup(nil), file.TargetGroups...)
		out.Listeners = append([]config.Listener(nil), file.Listeners...)
		out.LoadBalancers = append([]config.LoadBalancer(nil), file.LoadBalancers...)
	}
	lbName := map[string]string{}
	taken := map[string]bool{}
	for _, lb := range out.LoadBalancers {
		taken[lb.Name] = true
	}
	for _, lb := range st.LoadBalancers {
		out.LoadBalancers = append(out.LoadBalancers, config.LoadBalancer{Name: lb.LoadBalancerName, ID: lastID(lb.LoadBalancerArn),
			Attributes: knownAttributes(attrtable.LoadBalancer, "", lb.Attributes)})
		lbName[lb.LoadBalancerArn] = lb.LoadBalancerName
		taken[lb.LoadBalancerName] = true
	}
	if top := orDefault(out.Name, "edge"); taken[top] {
		for _, l := range out.Listeners {
			if l.LoadBalancer == "" || l.LoadBalancer == top {
				return nil, fmt.Errorf("load balancer %s is defined in %s and through the API", top, orDefault(out.File, "the configuration"))
			}
		}
		out.Name = DefaultLoadBalancerName
		for i := 2; taken[out.Name]; i++ {
			out.Name = DefaultLoadBalancerName + "-" + strconv.Itoa(i)
		}
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
		// The ids edge gives the file's CRLs (pinned or numbered as the
		// server numbers them), pinned from here on so that removals and
		// additions keep every other id.
		pinned := make([]int64, len(ts.Revocations))
		for j, r := range ts.Revocations {
			pinned[j] = r.RevocationID
		}
		for j, id := range truststore.FirstIDs(pinned) {
			if !removed[id] {
				revs = append(revs, config.Revocation{File: out.Path(ts.Revocations[j].File), RevocationID: id})
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
		g := config.TargetGroup{Name: tg.TargetGroupName, Protocol: tg.Protocol, Attributes: knownAttributes(attrtable.TargetGroup, "", tg.Attributes)}
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
		cl := config.Listener{Port: &port, Protocol: l.Protocol, SSLPolicy: l.SslPolicy, LoadBalancer: lbName[l.LoadBalancerArn], ARN: l.ListenerArn,
			Attributes: knownAttributes(attrtable.Listener, l.Protocol, l.Attributes)}
		if cl.LoadBalancer == "" {
			return nil, fmt.Errorf("listener %s: load balancer %s is not defined", l.ListenerArn, l.LoadBalancerArn)
		}
		for _, c := range append(append([]Certificate{}, l.Certificates...), l.ExtraCertificates...) {
			cl.Certificates = append(cl.Certificates, config.Certificate{CertificateArn: c.CertificateArn})
		}
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
	return out, nil
}

// DefaultLoadBalancerName is the top-level (default) load balancer's name
// in a derived configuration when an API load balancer has taken the file
// layer's and no file listener uses it.
const DefaultLoadBalancerName = "edge-default"

// knownAttributes returns the attributes of given that edge's attribute
// table accepts for scope (and protocol, for listeners); nil for none.
func knownAttributes(scope attrtable.Scope, protocol string, given map[string]string) config.Attributes {
	var out config.Attributes
	for k, v := range given {
		if _, err := attrtable.Resolve(scope, protocol, map[string]string{k: v}); err != nil {
			continue
		}
		if out == nil {
			out = config.Attributes{}
		}
		out[k] = v
	}
	return out
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
