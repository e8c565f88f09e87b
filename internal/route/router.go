package route

import (
	"net/http"
	"net/netip"
	"sort"

	"edge/internal/proxy"
	"edge/internal/reqinfo"
)

// Rule is a listener rule: all Conditions must match (values within a
// condition are alternatives); then Action answers.
type Rule struct {
	Priority   int
	Conditions []Condition
	// Kind is the action type as the access log names it.
	Kind   string
	Action http.Handler
}

// Router evaluates a listener's rules by ascending priority, then the
// default rule (priority 0 in the access log).
type Router struct {
	rules   []Rule
	def     http.Handler
	defKind string
}

// NewRouter sorts rules by priority.
func NewRouter(rules []Rule, defKind string, def http.Handler) *Router {
	sorted := append([]Rule(nil), rules...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Priority < sorted[j].Priority })
	return &Router{rules: sorted, def: def, defKind: defKind}
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ri := reqinfo.Of(w, r)
	var existing string
	if v := r.Header[proxy.HeaderTraceID]; len(v) > 0 { // canonical key: no Get needed
		existing = v[0]
	}
	ri.TraceID = proxy.TraceHeader(existing, ri.Received)
	client := ri.Conn.Remote.Addr()
	for i := range rt.rules {
		rule := &rt.rules[i]
		if matchAll(rule.Conditions, r, client) {
			ri.Priority, ri.Actions = rule.Priority, rule.Kind
			rule.Action.ServeHTTP(w, r)
			return
		}
	}
	ri.Priority, ri.Actions = 0, rt.defKind
	rt.def.ServeHTTP(w, r)
}

func matchAll(conds []Condition, r *http.Request, client netip.Addr) bool {
	for _, c := range conds {
		if !c.Match(r, client) {
			return false
		}
	}
	return true
}
