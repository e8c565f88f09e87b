package elbv2

import (
	"fmt"
	"net"
	"strconv"
	"sync"

	awsarn "edge/internal/arn"
	"edge/internal/config"
	"edge/internal/tlsterm"
	"edge/internal/truststore"
)

// The file layer: resources of edge.yaml shown through the API with
// deterministic ARNs (package arn: the same ids edge logs in the elb and
// target_group_arn fields and the admin API shows) and read-only,
// except trust store revocations.

type fileCache struct {
	mu  sync.Mutex
	cfg *config.Config
	st  *State
}

// fileState returns the file layer as a State of resources marked file.
func (s *Service) fileState() *State {
	cfg := s.o.FileLayer()
	s.file.mu.Lock()
	defer s.file.mu.Unlock()
	if cfg == nil {
		return NewState()
	}
	if s.file.cfg != cfg {
		s.file.cfg, s.file.st = cfg, s.fromConfig(cfg)
	}
	return s.file.st
}

func (s *Service) where(cfg *config.Config, path string) *fileInfo {
	f := cfg.File
	if f == "" {
		f = "the configuration file"
	}
	if n := cfg.Line(path); n > 0 {
		return &fileInfo{where: fmt.Sprintf("%s line %d (%s)", f, n, path)}
	}
	return &fileInfo{where: fmt.Sprintf("%s (%s)", f, path)}
}

// FileTrustStoreARN is the ARN of a trust store defined in edge.yaml.
func FileTrustStoreARN(region, account, name string) string {
	return awsarn.New(region, account).TrustStore(name, awsarn.TrustStoreID(name))
}

func (s *Service) fromConfig(cfg *config.Config) *State {
	st := NewState()
	created := s.now()
	// The top-level load balancer appears when the file names it or one
	// of its listeners uses it; load_balancers entries always do.
	lbArn := map[string]string{}
	newLB := func(name, id, path string, attrs config.Attributes) *LoadBalancer {
		lb := &LoadBalancer{LoadBalancerInfo: LoadBalancerInfo{
			LoadBalancerArn: s.arn.loadBalancer(name, id), LoadBalancerName: name,
			DNSName: s.o.ListenAddress, CanonicalHostedZoneId: hostedZone(s.o.Region), CreatedTime: created,
			Scheme: "internet-facing", VpcId: "vpc-edge", State: LoadBalancerState{Code: "active"}, Type: "application",
			AvailabilityZones: list[AvailabilityZone]{}, SecurityGroups: list[string]{}, IpAddressType: "ipv4",
		}, Attributes: map[string]string{}, file: s.where(cfg, path)}
		for k, v := range attrs {
			lb.Attributes[k] = v
		}
		lbArn[name] = lb.LoadBalancerArn
		return lb
	}
	used := cfg.Line("name") > 0
	for _, l := range cfg.Listeners {
		used = used || l.LoadBalancer == "" || l.LoadBalancer == cfg.Name
	}
	if used {
		lb := newLB(cfg.Name, nameID(cfg.Name), "name", cfg.Attributes)
		if cfg.IdleTimeoutSeconds != 0 {
			lb.Attributes["idle_timeout.timeout_seconds"] = strconv.Itoa(cfg.IdleTimeoutSeconds)
		}
		st.LoadBalancers = append(st.LoadBalancers, lb)
	}
	for i, l := range cfg.LoadBalancers {
		id := l.ID
		if id == "" {
			id = nameID(l.Name)
		}
		st.LoadBalancers = append(st.LoadBalancers, newLB(l.Name, id, fmt.Sprintf("load_balancers[%d]", i), l.Attributes))
	}
	tsArn := map[string]string{}
	for i, t := range cfg.TrustStores {
		p := fmt.Sprintf("trust_stores[%d]", i)
		f := s.where(cfg, p)
		f.path = cfg.Path(t.CACertificatesBundle)
		ts := &TrustStore{Name: t.Name, Arn: FileTrustStoreARN(s.o.Region, s.o.AccountID, t.Name),
			NumberOfCaCertificates: fileBundleCount(f.path), Created: created.Time, file: f}
		var next int64
		pins := make([]int64, len(t.Revocations))
		for j, crl := range t.Revocations {
			pins[j] = crl.RevocationID
		}
		ids := truststore.FirstIDs(pins) // as the server numbers them
		for j, crl := range t.Revocations {
			path := cfg.Path(crl.File)
			id := ids[j]
			next = max(next, id)
			ts.Revocations = append(ts.Revocations, &Revocation{ID: id, Entries: fileCRLEntries(path), Path: path})
		}
		ts.NextRevocationID = next
		tsArn[t.Name] = ts.Arn
		st.TrustStores = append(st.TrustStores, ts)
	}
	tgArn := map[string]string{}
	for i, g := range cfg.TargetGroups {
		tg := &TargetGroup{TargetGroupInfo: defaultTargetGroupInfo(g.Protocol), file: s.where(cfg, fmt.Sprintf("target_groups[%d]", i))}
		tg.TargetGroupName = g.Name
		tg.TargetGroupArn = s.arn.targetGroup(g.Name, awsarn.TargetGroupID(g.Name))
		tg.TargetType = "ip"
		for _, t := range g.Targets {
			host, port, err := net.SplitHostPort(t)
			p, _ := strconv.Atoi(port)
			if err != nil {
				host = t
			}
			p32 := int32(p)
			tg.Targets = append(tg.Targets, TargetDescription{Id: host, Port: &p32})
		}
		tgArn[g.Name] = tg.TargetGroupArn
		st.TargetGroups = append(st.TargetGroups, tg)
	}
	for i, l := range cfg.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		port := 0
		if l.Port != nil {
			port = *l.Port
		}
		addr := net.JoinHostPort(l.Address, strconv.Itoa(port))
		lb := lbArn[orDefault(l.LoadBalancer, cfg.Name)]
		li := &Listener{ListenerInfo: ListenerInfo{
			ListenerArn: s.arn.listener(lb, nameID("listener/"+addr)), LoadBalancerArn: lb,
			Port: int32(port), Protocol: l.Protocol,
		}, file: s.where(cfg, p)}
		li.DefaultRuleArn = s.arn.rule(li.ListenerArn, nameID("rule/"+addr+"/default"))
		if l.Protocol == "HTTPS" {
			li.SslPolicy = l.SSLPolicy
			if li.SslPolicy == "" {
				li.SslPolicy = tlsterm.DefaultPolicy
			}
			ma := &MutualAuthentication{Mode: "off"}
			if m := l.MutualAuthentication; m != nil && m.Mode != "" {
				ma.Mode = m.Mode
				if m.Mode == "verify" {
					ma.TrustStoreArn = tsArn[m.TrustStore]
					ignore := m.IgnoreClientCertificateExpiry
					ma.IgnoreClientCertificateExpiry = &ignore
					ma.AdvertiseTrustStoreCaNames = m.AdvertiseTrustStoreCaNames
					ma.TrustStoreAssociationStatus = "active"
				}
			}
			li.MutualAuthentication = ma
		}
		for _, a := range l.DefaultActions {
			li.DefaultActions = append(li.DefaultActions, actionFromConfig(a, tgArn))
		}
		for j, r := range l.Rules {
			rule := &Rule{ListenerArn: li.ListenerArn, file: s.where(cfg, fmt.Sprintf("%s.rules[%d]", p, j))}
			rule.RuleArn = s.arn.rule(li.ListenerArn, nameID("rule/"+addr+"/"+strconv.Itoa(r.Priority)))
			rule.Priority = strconv.Itoa(r.Priority)
			for _, c := range r.Conditions {
				rule.Conditions = append(rule.Conditions, conditionFromConfig(c))
			}
			for _, a := range r.Actions {
				rule.Actions = append(rule.Actions, actionFromConfig(a, tgArn))
			}
			st.Rules = append(st.Rules, rule)
		}
		st.Listeners = append(st.Listeners, li)
	}
	return st
}

// fileTrustStores returns the file layer's trust stores with the API's
// revocation changes applied.
func (w *world) fileTrustStores() []*TrustStore {
	out := make([]*TrustStore, 0, len(w.file.TrustStores))
	for _, base := range w.file.TrustStores {
		ts := *base
		ov := w.api.FileRevocations[ts.Name]
		if ov != nil {
			removed := map[int64]bool{}
			for _, id := range ov.Removed {
				removed[id] = true
			}
			ts.Revocations = nil
			for _, r := range base.Revocations {
				if !removed[r.ID] {
					ts.Revocations = append(ts.Revocations, r)
				}
			}
			ts.Revocations = append(ts.Revocations, ov.Added...)
			ts.NextRevocationID = max(ts.NextRevocationID, ov.NextRevocationID)
		}
		out = append(out, &ts)
	}
	return out
}

func actionFromConfig(a config.Action, tgArn map[string]string) Action {
	out := Action{Type: a.Type}
	switch a.Type {
	case "forward":
		if a.TargetGroup != "" {
			out.TargetGroupArn = tgArn[a.TargetGroup]
		}
		if len(a.TargetGroups) > 0 {
			fc := &ForwardConfig{}
			for _, t := range a.TargetGroups {
				wt := int32(t.Weight)
				fc.TargetGroups = append(fc.TargetGroups, TargetGroupTuple{TargetGroupArn: tgArn[t.Name], Weight: &wt})
			}
			out.ForwardConfig = fc
		}
	case "fixed-response":
		if f := a.FixedResponseConfig; f != nil {
			out.FixedResponseConfig = &FixedResponseConfig{MessageBody: f.MessageBody, StatusCode: f.StatusCode, ContentType: f.ContentType}
		}
	case "redirect":
		if r := a.RedirectConfig; r != nil {
			out.RedirectConfig = &RedirectConfig{Protocol: r.Protocol, Port: r.Port, Host: r.Host, Path: r.Path, Query: r.Query, StatusCode: r.StatusCode}
		}
	}
	return out
}

func valuesFromConfig(v *config.ValuesConfig) *ValuesConfig {
	if v == nil {
		return nil
	}
	return &ValuesConfig{Values: list[string](v.Values)}
}

func conditionFromConfig(c config.Condition) RuleCondition {
	out := RuleCondition{Field: c.Field, Values: list[string](c.Values),
		HostHeaderConfig: valuesFromConfig(c.HostHeaderConfig), PathPatternConfig: valuesFromConfig(c.PathPatternConfig),
		HttpRequestMethodConfig: valuesFromConfig(c.HTTPRequestMethodConfig), SourceIpConfig: valuesFromConfig(c.SourceIPConfig)}
	if h := c.HTTPHeaderConfig; h != nil {
		out.HttpHeaderConfig = &HttpHeaderConfig{HttpHeaderName: h.HTTPHeaderName, Values: list[string](h.Values)}
	}
	if q := c.QueryStringConfig; q != nil {
		qs := &QueryStringConfig{}
		for _, kv := range q.Values {
			qs.Values = append(qs.Values, KeyValue{Key: kv.Key, Value: kv.Value})
		}
		out.QueryStringConfig = qs
	}
	return out
}
