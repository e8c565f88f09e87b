package elbv2

import (
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"
)

var fixedStatus = regexp.MustCompile(`^(2|4|5)\d\d$`)

// fixedContentTypes are the content types ALB's fixed responses accept.
var fixedContentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

// checkActions validates a listener's default actions or a rule's actions
// for load balancer lbArn: what edge's router can do (forward, redirect,
// fixed-response; one action), target groups that exist and belong to no
// other load balancer, and the model's value constraints.
func (w *world) checkActions(actions []Action, member, lbArn, protocol string) error {
	if len(actions) == 0 {
		return validation(nil, member, "Member must not be null")
	}
	if len(actions) > 1 {
		return ErrTooManyActions.With("edge routes one action per rule (authenticate actions are not emulated); %d were given.", len(actions))
	}
	for i, a := range actions {
		m := member + ".member." + strconv.Itoa(i+1)
		if a.Order != nil && (*a.Order < 1 || *a.Order > 50000) {
			v := strconv.Itoa(int(*a.Order))
			return validation(&v, m+".Order", "Member must have value between 1 and 50000")
		}
		switch a.Type {
		case "forward":
			tgs := actionTargetGroups([]Action{a})
			if len(tgs) == 0 {
				return validation(nil, m+".TargetGroupArn", "A forward action needs TargetGroupArn or ForwardConfig.TargetGroups")
			}
			if len(tgs) > w.s.o.Quotas.TargetGroupsPerAction {
				return ErrTooManyTargetGroups.With("%d target groups in one action; the limit is %d.", len(tgs), w.s.o.Quotas.TargetGroupsPerAction)
			}
			if a.TargetGroupArn != "" && a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 &&
				(len(a.ForwardConfig.TargetGroups) != 1 || a.ForwardConfig.TargetGroups[0].TargetGroupArn != a.TargetGroupArn) {
				return ErrInvalidLoadBalancerAction.With("TargetGroupArn and ForwardConfig name different target groups.")
			}
			if a.ForwardConfig != nil {
				for _, t := range a.ForwardConfig.TargetGroups {
					if t.Weight != nil && (*t.Weight < 0 || *t.Weight > 999) {
						v := strconv.Itoa(int(*t.Weight))
						return validation(&v, m+".ForwardConfig.TargetGroups.member.Weight", "Member must have value between 0 and 999")
					}
				}
			}
			for _, arn := range tgs {
				tg := w.targetGroupByARN(arn)
				if tg == nil {
					return ErrTargetGroupNotFound.With("Target group %q not found.", arn)
				}
				for _, other := range w.loadBalancersOfTargetGroup(arn) {
					if other != lbArn {
						return ErrTargetGroupAssociationLimit.With("Target group %s is already used by load balancer %s; ALB allows one load balancer per target group.", tg.TargetGroupName, other)
					}
				}
			}
		case "redirect":
			rc := a.RedirectConfig
			if rc == nil {
				return validation(nil, m+".RedirectConfig", "Member must not be null for a redirect action")
			}
			if rc.StatusCode != "HTTP_301" && rc.StatusCode != "HTTP_302" {
				return validation(&rc.StatusCode, m+".RedirectConfig.StatusCode", "Member must satisfy enum value set: [HTTP_301, HTTP_302]")
			}
			switch rc.Protocol {
			case "", "HTTP", "HTTPS", "#{protocol}":
			default:
				return validation(&rc.Protocol, m+".RedirectConfig.Protocol", "Member must satisfy regular expression pattern: ^(HTTPS?|#\\{protocol\\})$")
			}
			if rc.Protocol == "HTTP" && protocol == "HTTPS" {
				return ErrInvalidLoadBalancerAction.With("A redirect from HTTPS to HTTP is not allowed.")
			}
			for name, v := range map[string]string{"Host": rc.Host, "Path": rc.Path, "Query": rc.Query} {
				if len(v) > 128 {
					return validation(&v, m+".RedirectConfig."+name, "Member must have length less than or equal to 128")
				}
			}
			if rc.Path != "" && rc.Path[0] != '/' {
				return ErrInvalidLoadBalancerAction.With("The redirect path must start with /.")
			}
		case "fixed-response":
			fr := a.FixedResponseConfig
			if fr == nil {
				return validation(nil, m+".FixedResponseConfig", "Member must not be null for a fixed-response action")
			}
			if !fixedStatus.MatchString(fr.StatusCode) {
				return validation(&fr.StatusCode, m+".FixedResponseConfig.StatusCode", "Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$")
			}
			if fr.ContentType != "" && !slices.Contains(fixedContentTypes, fr.ContentType) {
				return ErrInvalidLoadBalancerAction.With("Content type %q is not one of %v.", fr.ContentType, fixedContentTypes)
			}
			if utf8.RuneCountInString(fr.MessageBody) > 1024 {
				return validation(nil, m+".FixedResponseConfig.MessageBody", "Member must have length less than or equal to 1024")
			}
		case "authenticate-oidc", "authenticate-cognito", "jwt-validation":
			return ErrInvalidLoadBalancerAction.With("edge does not emulate %s actions; use forward, redirect or fixed-response.", a.Type)
		default:
			return validation(&actions[i].Type, m+".Type", "Member must satisfy enum value set: [forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response, jwt-validation]")
		}
	}
	return nil
}

// normalizeActions fills what AWS echoes: a single-group forward names
// its group in both TargetGroupArn and ForwardConfig.
func normalizeActions(actions []Action) list[Action] {
	out := make(list[Action], len(actions))
	for i, a := range actions {
		if a.Type == "forward" && a.TargetGroupArn != "" && a.ForwardConfig == nil {
			w := int32(1)
			a.ForwardConfig = &ForwardConfig{TargetGroups: list[TargetGroupTuple]{{TargetGroupArn: a.TargetGroupArn, Weight: &w}}}
		}
		if a.Type == "forward" && a.TargetGroupArn == "" && a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) == 1 {
			a.TargetGroupArn = a.ForwardConfig.TargetGroups[0].TargetGroupArn
		}
		out[i] = a
	}
	return out
}
