package elbv2

// Lookups over both layers: file-layer resources first, then the API's in
// creation order (the order Describe lists them in).

func both[T any](file, api []*T) []*T {
	out := make([]*T, 0, len(file)+len(api))
	return append(append(out, file...), api...)
}

func find[T any](items []*T, match func(*T) bool) *T {
	for _, x := range items {
		if match(x) {
			return x
		}
	}
	return nil
}

func (w *world) trustStores() []*TrustStore {
	return both(w.fileTrustStores(), w.api.TrustStores)
}

func (w *world) loadBalancers() []*LoadBalancer {
	return both(w.file.LoadBalancers, w.api.LoadBalancers)
}

func (w *world) targetGroups() []*TargetGroup {
	return both(w.file.TargetGroups, w.api.TargetGroups)
}

func (w *world) listeners() []*Listener {
	return both(w.file.Listeners, w.api.Listeners)
}

func (w *world) rules() []*Rule {
	return both(w.file.Rules, w.api.Rules)
}

func (w *world) trustStoreByARN(arn string) *TrustStore {
	return find(w.trustStores(), func(t *TrustStore) bool { return t.Arn == arn })
}

func (w *world) trustStoreByName(name string) *TrustStore {
	return find(w.trustStores(), func(t *TrustStore) bool { return t.Name == name })
}

func (w *world) loadBalancerByARN(arn string) *LoadBalancer {
	return find(w.loadBalancers(), func(l *LoadBalancer) bool { return l.LoadBalancerArn == arn })
}

func (w *world) targetGroupByARN(arn string) *TargetGroup {
	return find(w.targetGroups(), func(t *TargetGroup) bool { return t.TargetGroupArn == arn })
}

func (w *world) listenerByARN(arn string) *Listener {
	return find(w.listeners(), func(l *Listener) bool { return l.ListenerArn == arn })
}

func (w *world) ruleByARN(arn string) *Rule {
	return find(w.rules(), func(r *Rule) bool { return r.RuleArn == arn })
}

func (w *world) listenersOf(lbArn string) []*Listener {
	var out []*Listener
	for _, l := range w.listeners() {
		if l.LoadBalancerArn == lbArn {
			out = append(out, l)
		}
	}
	return out
}

func (w *world) rulesOf(listenerArn string) []*Rule {
	var out []*Rule
	for _, r := range w.rules() {
		if r.ListenerArn == listenerArn {
			out = append(out, r)
		}
	}
	return out
}

// actionTargetGroups lists the target group ARNs actions forward to.
func actionTargetGroups(actions []Action) []string {
	var out []string
	for _, a := range actions {
		if a.TargetGroupArn != "" {
			out = append(out, a.TargetGroupArn)
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				out = append(out, t.TargetGroupArn)
			}
		}
	}
	return out
}

// loadBalancersOfTargetGroup lists the load balancers whose listeners or
// rules forward to the target group.
func (w *world) loadBalancersOfTargetGroup(tgArn string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(lb string, actions []Action) {
		for _, a := range actionTargetGroups(actions) {
			if a == tgArn && !seen[lb] {
				seen[lb] = true
				out = append(out, lb)
			}
		}
	}
	for _, l := range w.listeners() {
		add(l.LoadBalancerArn, l.DefaultActions)
		for _, r := range w.rulesOf(l.ListenerArn) {
			add(l.LoadBalancerArn, r.Actions)
		}
	}
	return out
}
