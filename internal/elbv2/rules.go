package elbv2

import (
	"context"
	"sort"
	"strconv"
)

// conditionFields are the rule condition fields edge routes on.
var conditionFields = map[string]bool{"host-header": true, "path-pattern": true, "http-header": true, "http-request-method": true, "query-string": true, "source-ip": true}

// conditionValues returns a condition's values, wherever given.
func conditionValues(c RuleCondition) []string {
	for _, v := range []*ValuesConfig{c.HostHeaderConfig, c.PathPatternConfig, c.HttpRequestMethodConfig, c.SourceIpConfig} {
		if v != nil {
			return v.Values
		}
	}
	if c.HttpHeaderConfig != nil {
		return c.HttpHeaderConfig.Values
	}
	if c.QueryStringConfig != nil {
		out := make([]string, len(c.QueryStringConfig.Values))
		for i, kv := range c.QueryStringConfig.Values {
			out[i] = kv.Key + "=" + kv.Value
		}
		return out
	}
	return c.Values
}

func checkConditions(conds []RuleCondition) error {
	if len(conds) == 0 {
		return validation(nil, "Conditions", "Member must not be null")
	}
	total := 0
	for i, c := range conds {
		m := "Conditions.member." + strconv.Itoa(i+1)
		if !conditionFields[c.Field] {
			return validation(&conds[i].Field, m+".Field", "Member must be one of host-header, path-pattern, http-header, http-request-method, query-string, source-ip")
		}
		vals := conditionValues(c)
		if len(vals) == 0 {
			return validation(nil, m+".Values", "A condition needs at least one value")
		}
		if c.Field == "http-header" && (c.HttpHeaderConfig == nil || c.HttpHeaderConfig.HttpHeaderName == "") {
			return validation(nil, m+".HttpHeaderConfig.HttpHeaderName", "Member must not be null for an http-header condition")
		}
		total += len(vals)
	}
	if total > 5 {
		return ErrTooManyRules.With("A rule has %d condition values; ALB allows at most 5.", total)
	}
	return nil
}

// CreateRuleInput is the model's input.
type CreateRuleInput struct {
	ListenerArn string              `aws:"required"`
	Conditions  list[RuleCondition] `aws:"required"`
	Priority    int32               `aws:"required"`
	Actions     list[Action]        `aws:"required"`
	Tags        list[Tag]
}

// RulesOutput is the output of Create/Modify/DescribeRule(s) and
// SetRulePriorities.
type RulesOutput struct {
	Rules      list[RuleInfo]
	NextMarker *string `xml:",omitempty"`
}

func checkPriority(p int32, member string) error {
	if p < 1 || p > 50000 {
		v := strconv.Itoa(int(p))
		return validation(&v, member, "Member must have value between 1 and 50000")
	}
	return nil
}

func (s *Service) createRule(ctx context.Context, in *CreateRuleInput) (*RulesOutput, error) {
	if err := checkPriority(in.Priority, "Priority"); err != nil {
		return nil, err
	}
	if err := checkConditions(in.Conditions); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	return mutate(ctx, s, func(w *world) (*RulesOutput, error) {
		l := w.listenerByARN(in.ListenerArn)
		if l == nil {
			return nil, ErrListenerNotFound
		}
		if l.file != nil {
			return nil, readOnly("listener", l.ListenerArn, l.file)
		}
		prio := strconv.Itoa(int(in.Priority))
		for _, r := range w.rulesOf(l.ListenerArn) {
			if r.Priority == prio {
				return nil, ErrPriorityInUse.With("Priority %d is used by rule %s.", in.Priority, r.RuleArn)
			}
		}
		n := 0
		for _, o := range w.listenersOf(l.LoadBalancerArn) {
			n += len(w.rulesOf(o.ListenerArn))
		}
		if n+1 > s.o.Quotas.RulesPerLoadBalancer {
			return nil, ErrTooManyRules.With("The limit is %d rules per load balancer.", s.o.Quotas.RulesPerLoadBalancer)
		}
		if err := w.checkActions(in.Actions, "Actions", l.LoadBalancerArn, l.Protocol); err != nil {
			return nil, err
		}
		r := &Rule{RuleInfo: RuleInfo{RuleArn: s.arn.rule(l.ListenerArn, randomID()), Priority: prio,
			Conditions: in.Conditions, Actions: normalizeActions(in.Actions)}, ListenerArn: l.ListenerArn, Tags: append([]Tag(nil), in.Tags...)}
		w.api.Rules = append(w.api.Rules, r)
		return &RulesOutput{Rules: list[RuleInfo]{r.RuleInfo}}, nil
	})
}

// defaultRule returns the default rule of the listener whose default rule
// ARN is arn.
func (w *world) defaultRule(arn string) (*Listener, RuleInfo) {
	for _, l := range w.listeners() {
		if l.DefaultRuleArn == arn {
			return l, defaultRuleInfo(l)
		}
	}
	return nil, RuleInfo{}
}

func defaultRuleInfo(l *Listener) RuleInfo {
	return RuleInfo{RuleArn: l.DefaultRuleArn, Priority: "default", Conditions: list[RuleCondition]{}, Actions: l.DefaultActions, IsDefault: true}
}

// DescribeRulesInput is the model's input.
type DescribeRulesInput struct {
	ListenerArn string
	RuleArns    list[string]
	Marker      *string
	PageSize    *int32
}

func (s *Service) describeRules(_ context.Context, in *DescribeRulesInput) (*RulesOutput, error) {
	w := s.view()
	var sel []RuleInfo
	switch {
	case len(in.RuleArns) > 0:
		for _, arn := range in.RuleArns {
			if r := w.ruleByARN(arn); r != nil {
				sel = append(sel, r.RuleInfo)
			} else if l, d := w.defaultRule(arn); l != nil {
				sel = append(sel, d)
			} else {
				return nil, ErrRuleNotFound.With("Rule %q not found.", arn)
			}
		}
	case in.ListenerArn != "":
		l := w.listenerByARN(in.ListenerArn)
		if l == nil {
			return nil, ErrListenerNotFound
		}
		rules := w.rulesOf(l.ListenerArn)
		sort.SliceStable(rules, func(i, j int) bool {
			a, _ := strconv.Atoi(rules[i].Priority)
			b, _ := strconv.Atoi(rules[j].Priority)
			return a < b
		})
		for _, r := range rules {
			sel = append(sel, r.RuleInfo)
		}
		sel = append(sel, defaultRuleInfo(l))
	default:
		return nil, validation(nil, "ListenerArn", "You must specify either listener ARN or rule ARNs")
	}
	pg, next, err := page(sel, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &RulesOutput{Rules: list[RuleInfo](append([]RuleInfo{}, pg...)), NextMarker: next}, nil
}

// ModifyRuleInput is the model's input.
type ModifyRuleInput struct {
	RuleArn    string `aws:"required"`
	Conditions list[RuleCondition]
	Actions    list[Action]
}

func (s *Service) modifyRule(ctx context.Context, in *ModifyRuleInput) (*RulesOutput, error) {
	if in.Conditions != nil {
		if err := checkConditions(in.Conditions); err != nil {
			return nil, err
		}
	}
	return mutate(ctx, s, func(w *world) (*RulesOutput, error) {
		r := w.ruleByARN(in.RuleArn)
		if r == nil {
			l, _ := w.defaultRule(in.RuleArn)
			if l == nil {
				return nil, ErrRuleNotFound
			}
			if l.file != nil {
				return nil, readOnly("listener", l.ListenerArn, l.file)
			}
			if in.Conditions != nil {
				return nil, ErrOperationNotPermitted.With("The default rule has no conditions.")
			}
			if in.Actions != nil {
				if err := w.checkActions(in.Actions, "Actions", l.LoadBalancerArn, l.Protocol); err != nil {
					return nil, err
				}
				l.DefaultActions = normalizeActions(in.Actions)
			}
			return &RulesOutput{Rules: list[RuleInfo]{defaultRuleInfo(l)}}, nil
		}
		if r.file != nil {
			return nil, readOnly("rule", r.RuleArn, r.file)
		}
		l := w.listenerByARN(r.ListenerArn)
		if in.Conditions != nil {
			r.Conditions = in.Conditions
		}
		if in.Actions != nil {
			if err := w.checkActions(in.Actions, "Actions", l.LoadBalancerArn, l.Protocol); err != nil {
				return nil, err
			}
			r.Actions = normalizeActions(in.Actions)
		}
		return &RulesOutput{Rules: list[RuleInfo]{r.RuleInfo}}, nil
	})
}

// RuleArnInput names one rule.
type RuleArnInput struct {
	RuleArn string `aws:"required"`
}

func (s *Service) deleteRule(ctx context.Context, in *RuleArnInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		r := w.ruleByARN(in.RuleArn)
		if r == nil {
			if l, _ := w.defaultRule(in.RuleArn); l != nil {
				return nil, ErrOperationNotPermitted.With("The default rule cannot be deleted; delete the listener.")
			}
			return nil, ErrRuleNotFound
		}
		if r.file != nil {
			return nil, readOnly("rule", r.RuleArn, r.file)
		}
		w.api.Rules = deleteFrom(w.api.Rules, func(o *Rule) bool { return o.RuleArn == r.RuleArn })
		return nil, nil
	})
}

// RulePriorityPair is the model's RulePriorityPair.
type RulePriorityPair struct {
	RuleArn  string
	Priority int32
}

// SetRulePrioritiesInput is the model's input.
type SetRulePrioritiesInput struct {
	RulePriorities list[RulePriorityPair] `aws:"required"`
}

func (s *Service) setRulePriorities(ctx context.Context, in *SetRulePrioritiesInput) (*RulesOutput, error) {
	for i, p := range in.RulePriorities {
		if err := checkPriority(p.Priority, "RulePriorities.member."+strconv.Itoa(i+1)+".Priority"); err != nil {
			return nil, err
		}
	}
	return mutate(ctx, s, func(w *world) (*RulesOutput, error) {
		var changed []*Rule
		for _, p := range in.RulePriorities {
			r := w.ruleByARN(p.RuleArn)
			if r == nil {
				if l, _ := w.defaultRule(p.RuleArn); l != nil {
					return nil, ErrOperationNotPermitted.With("The default rule's priority cannot be set.")
				}
				return nil, ErrRuleNotFound.With("Rule %q not found.", p.RuleArn)
			}
			if r.file != nil {
				return nil, readOnly("rule", r.RuleArn, r.file)
			}
			r.Priority = strconv.Itoa(int(p.Priority))
			changed = append(changed, r)
		}
		seen := map[string]string{}
		for _, r := range w.rules() {
			key := r.ListenerArn + "|" + r.Priority
			if other, dup := seen[key]; dup {
				return nil, ErrPriorityInUse.With("Priority %s would be used by %s and %s.", r.Priority, other, r.RuleArn)
			}
			seen[key] = r.RuleArn
		}
		out := &RulesOutput{Rules: list[RuleInfo]{}}
		for _, r := range changed {
			out.Rules = append(out.Rules, r.RuleInfo)
		}
		return out, nil
	})
}
