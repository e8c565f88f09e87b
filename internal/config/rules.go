package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"edge/internal/attributes"
)

// ALB rule quotas and formats (listener-rules, rule-condition-types).
const (
	MaxConditionValues       = 5 // per rule
	MaxValuesPerCondition    = 3
	MaxWildcardsPerRule      = 5
	MaxTargetGroupsPerAction = 5
	MaxRedirectComponent     = 128
)

var (
	tgName     = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)
	hostValue  = regexp.MustCompile(`^[A-Za-z0-9.*?-]{1,128}$`)
	pathValue  = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&*?]{1,128}$`)
	methodName = regexp.MustCompile(`^[A-Za-z_-]{1,40}$`)
)

// ConditionFields are the rule condition types ALB supports.
var ConditionFields = []string{"host-header", "path-pattern", "http-header", "http-request-method", "query-string", "source-ip"}

func (c *Config) validateTargetGroups(add func(string, string, ...any)) map[string]bool {
	groups := map[string]bool{}
	for i := range c.TargetGroups {
		tg := &c.TargetGroups[i]
		p := fmt.Sprintf("target_groups[%d]", i)
		switch {
		case !tgName.MatchString(tg.Name):
			add(p+".name", "%q is not a valid target group name (1-32 letters, digits or inner hyphens)", tg.Name)
		case groups[tg.Name]:
			add(p+".name", "target group %q is defined twice", tg.Name)
		}
		groups[tg.Name] = true
		switch tg.Protocol {
		case "":
			tg.Protocol = "HTTP"
		case "HTTP", "HTTPS":
		default:
			add(p+".protocol", "%q is not a target group protocol (want HTTP or HTTPS)", tg.Protocol)
		}
		tg.AttributeSet = c.resolveAttributes(attributes.TargetGroup, "", p+".attributes", tg.Attributes, add)
		for j, t := range tg.Targets {
			if _, err := netip.ParseAddrPort(t); err != nil {
				host, port, ok := strings.Cut(t, ":")
				if !ok || host == "" || port == "" || !validHost(host) {
					add(fmt.Sprintf("%s.targets[%d]", p, j), "%q is not host:port", t)
				}
			}
		}
	}
	return groups
}

func (c *Config) validateRules(l *Listener, p string, groups map[string]bool, add func(string, string, ...any)) {
	prios := map[int]string{}
	for j, r := range l.Rules {
		rp := fmt.Sprintf("%s.rules[%d]", p, j)
		if r.Priority < 1 || r.Priority > 50000 {
			add(rp+".priority", "%d is outside 1-50000", r.Priority)
		} else if prev, dup := prios[r.Priority]; dup {
			add(rp+".priority", "priority %d is already used by %s", r.Priority, prev)
		}
		prios[r.Priority] = rp
		if len(r.Conditions) == 0 {
			add(rp+".conditions", "a rule needs at least one condition")
		}
		seen := map[string]bool{}
		values, wildcards := 0, 0
		for k, cond := range r.Conditions {
			cp := fmt.Sprintf("%s.conditions[%d]", rp, k)
			n, w := c.validateCondition(cond, cp, add)
			values += n
			wildcards += w
			if cond.Field != "http-header" && cond.Field != "query-string" {
				if seen[cond.Field] {
					add(cp+".field", "a rule may have only one %s condition", cond.Field)
				}
				seen[cond.Field] = true
			}
		}
		if values > MaxConditionValues {
			add(rp+".conditions", "%d condition values; ALB allows at most %d per rule", values, MaxConditionValues)
		}
		if wildcards > MaxWildcardsPerRule {
			add(rp+".conditions", "%d wildcards; ALB allows at most %d per rule", wildcards, MaxWildcardsPerRule)
		}
		if len(r.Actions) != 1 {
			add(rp+".actions", "exactly one action is required, found %d", len(r.Actions))
			continue
		}
		c.validateAction(l, r.Actions[0], rp+".actions[0]", groups, add)
	}
}

// ConditionValues returns a condition's match values, wherever they were
// given.
func (cond Condition) ConditionValues() []string {
	for _, vc := range []*ValuesConfig{cond.HostHeaderConfig, cond.PathPatternConfig, cond.HTTPRequestMethodConfig, cond.SourceIPConfig} {
		if vc != nil {
			return vc.Values
		}
	}
	if cond.HTTPHeaderConfig != nil {
		return cond.HTTPHeaderConfig.Values
	}
	if cond.QueryStringConfig != nil {
		out := make([]string, len(cond.QueryStringConfig.Values))
		for i, kv := range cond.QueryStringConfig.Values {
			out[i] = kv.Key + "=" + kv.Value
		}
		return out
	}
	return cond.Values
}

func (c *Config) validateCondition(cond Condition, p string, add func(string, string, ...any)) (values, wildcards int) {
	vals := cond.ConditionValues()
	if len(vals) == 0 {
		add(p, "%s condition needs at least one value", cond.Field)
		return 0, 0
	}
	if len(vals) > MaxValuesPerCondition && cond.Field != "query-string" {
		add(p, "%d values; ALB allows at most %d per condition", len(vals), MaxValuesPerCondition)
	}
	for _, v := range vals {
		wildcards += strings.Count(v, "*") + strings.Count(v, "?")
	}
	switch cond.Field {
	case "host-header":
		for _, v := range vals {
			if !hostValue.MatchString(v) {
				add(p, "host-header value %q: up to 128 of A-Z a-z 0-9 - . * ?", v)
			}
		}
	case "path-pattern":
		for _, v := range vals {
			if !pathValue.MatchString(v) {
				add(p, "path-pattern value %q: up to 128 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & * ?", v)
			}
		}
	case "http-header":
		if cond.HTTPHeaderConfig == nil || cond.HTTPHeaderConfig.HTTPHeaderName == "" {
			add(p, "http-header needs http_header_config with http_header_name")
		}
	case "http-request-method":
		wildcards = 0
		for _, v := range vals {
			if !methodName.MatchString(v) {
				add(p, "http-request-method value %q: letters, '_' and '-' only, no wildcards", v)
			}
		}
	case "query-string":
		if cond.QueryStringConfig == nil {
			add(p, "query-string needs query_string_config with values of {key, value}")
		}
	case "source-ip":
		wildcards = 0
		for _, v := range vals {
			pfx, err := netip.ParsePrefix(v)
			if err != nil {
				add(p, "source-ip value %q is not a CIDR block (e.g. 10.0.0.0/8)", v)
			} else if pfx.Addr().Is4() && pfx.Bits() == 32 && pfx.Addr() == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
				add(p, "source-ip value 255.255.255.255/32 is not allowed")
			}
		}
	default:
		add(p+".field", "%q is not a condition field (want one of %s)", cond.Field, strings.Join(ConditionFields, ", "))
	}
	return len(vals), wildcards
}

func (c *Config) validateAction(l *Listener, a Action, p string, groups map[string]bool, add func(string, string, ...any)) {
	switch a.Type {
	case "fixed-response":
		fr := a.FixedResponseConfig
		if fr == nil {
			add(p, "fixed-response needs fixed_response_config")
			return
		}
		fp := p + ".fixed_response_config"
		if !fixedStatus.MatchString(fr.StatusCode) {
			add(fp+".status_code", "%q does not match ^(2|4|5)\\d\\d$", fr.StatusCode)
		}
		if fr.ContentType != "" && !contains(FixedResponseContentTypes, fr.ContentType) {
			add(fp+".content_type", "%q is not one of %v", fr.ContentType, FixedResponseContentTypes)
		}
		if n := len([]rune(fr.MessageBody)); n > MaxFixedResponseBody {
			add(fp+".message_body", "is %d characters; ALB allows at most %d", n, MaxFixedResponseBody)
		}
	case "forward":
		switch {
		case a.TargetGroup != "" && len(a.TargetGroups) > 0:
			add(p, "give target_group or target_groups, not both")
		case a.TargetGroup != "":
			if !groups[a.TargetGroup] {
				add(p+".target_group", "no target group named %q", a.TargetGroup)
			}
		case len(a.TargetGroups) > 0:
			if len(a.TargetGroups) > MaxTargetGroupsPerAction {
				add(p+".target_groups", "%d target groups; ALB allows at most %d per action", len(a.TargetGroups), MaxTargetGroupsPerAction)
			}
			for k, w := range a.TargetGroups {
				wp := fmt.Sprintf("%s.target_groups[%d]", p, k)
				if !groups[w.Name] {
					add(wp+".name", "no target group named %q", w.Name)
				}
				if w.Weight < 0 || w.Weight > 999 {
					add(wp+".weight", "%d is outside 0-999", w.Weight)
				}
			}
		default:
			add(p, "forward needs target_group or target_groups")
		}
	case "redirect":
		rc := a.RedirectConfig
		if rc == nil {
			add(p, "redirect needs redirect_config")
			return
		}
		rp := p + ".redirect_config"
		switch rc.StatusCode {
		case "HTTP_301", "HTTP_302":
		default:
			add(rp+".status_code", "%q is not HTTP_301 or HTTP_302", rc.StatusCode)
		}
		switch strings.ToUpper(rc.Protocol) {
		case "", "#{PROTOCOL}":
		case "HTTP":
			if l.Protocol == "HTTPS" {
				add(rp+".protocol", "ALB does not redirect from HTTPS to HTTP")
			}
		case "HTTPS":
		default:
			add(rp+".protocol", "%q is not HTTP, HTTPS or #{protocol}", rc.Protocol)
		}
		if rc.Path != "" && !strings.HasPrefix(rc.Path, "/") {
			add(rp+".path", "%q must start with /", rc.Path)
		}
		for name, v := range map[string]string{"host": rc.Host, "path": rc.Path, "query": rc.Query} {
			if len(v) > MaxRedirectComponent {
				add(rp+"."+name, "is %d characters; ALB allows at most %d", len(v), MaxRedirectComponent)
			}
		}
		unchanged := func(v, placeholder string) bool { return v == "" || v == placeholder }
		if unchanged(rc.Protocol, "#{protocol}") && unchanged(rc.Host, "#{host}") && unchanged(rc.Port, "#{port}") && unchanged(rc.Path, "/#{path}") {
			add(rp, "a redirect must change at least one of protocol, host, port or path (it would loop)")
		}
	default:
		add(p+".type", "%q is not an action type (want forward, redirect or fixed-response)", a.Type)
	}
}
