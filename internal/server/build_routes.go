package server

import (
	"fmt"
	"net/http"
	"strings"

	"edge/internal/config"
	"edge/internal/proxy"
	"edge/internal/route"
)

func (b *builder) routes(l *Listener, lc *config.Listener, p string) {
	var rules []route.Rule
	for j, rc := range lc.Rules {
		rp := fmt.Sprintf("%s.rules[%d]", p, j)
		h, _ := b.action(rc.Actions[0], rp+".actions[0]", l)
		var conds []route.Condition
		for k, c := range rc.Conditions {
			cond, err := condition(c)
			if err != nil {
				b.atErr(err, fmt.Sprintf("%s.conditions[%d]", rp, k), "%v", err)
				continue
			}
			conds = append(conds, cond)
		}
		rules = append(rules, route.Rule{Priority: rc.Priority, Conditions: conds, Kind: rc.Actions[0].Type, Action: h})
	}
	def, desc := b.action(lc.DefaultActions[0], p+".default_actions[0]", l)
	l.Handler = route.NewRouter(rules, lc.DefaultActions[0].Type, def)
	l.DefaultAction = desc
	l.Rules = len(rules)
}

// action builds one validated action of listener l (its rewriting, its
// load balancer's forwarder) and describes it for summaries.
func (b *builder) action(a config.Action, p string, l *Listener) (http.Handler, string) {
	switch a.Type {
	case "fixed-response":
		fr := a.FixedResponseConfig
		h, err := route.NewFixedResponse(fr.StatusCode, fr.ContentType, fr.MessageBody)
		if err != nil {
			b.atErr(err, p, "%v", err)
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
		f := l.LoadBalancer.Proxy.NewForward(ws)
		f.Forwarding = l.Forwarding
		return f, "forward to " + strings.Join(names, ", ")
	}
	return http.NotFoundHandler(), a.Type // unreachable: validated
}

// condition turns a validated rule condition into its matcher.
func condition(c config.Condition) (route.Condition, error) {
	vals := c.ConditionValues()
	switch c.Field {
	case "host-header":
		return route.NewHostHeader(vals), nil
	case "path-pattern":
		return route.NewPathPattern(vals), nil
	case "http-header":
		return route.NewHTTPHeader(c.HTTPHeaderConfig.HTTPHeaderName, vals), nil
	case "http-request-method":
		return route.NewMethod(vals), nil
	case "query-string":
		var kvs []route.KeyValue
		for _, kv := range c.QueryStringConfig.Values {
			kvs = append(kvs, route.KeyValue{Key: kv.Key, Value: kv.Value})
		}
		return route.NewQueryString(kvs), nil
	case "source-ip":
		return route.NewSourceIP(vals)
	}
	return nil, fmt.Errorf("unknown condition field %q", c.Field)
}
