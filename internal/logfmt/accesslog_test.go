package logfmt

import (
	"strings"
	"testing"
	"time"
)

// A request refused before the rules ran logs matched_rule_priority "-",
// as ALB does; 0 (the default rule) and -1 (a rule-evaluation error) stay
// numbers.
func TestAccessRulePriority(t *testing.T) {
	for prio, want := range map[int]string{-2: " - ", -1: " -1 ", 0: " 0 ", 7: " 7 "} {
		line := string(AppendAccess(nil, &AccessRecord{Type: "https", Time: time.Unix(0, 0), MatchedRulePriority: prio, RequestCreation: time.Unix(0, 0)}))
		// The priority precedes request_creation_time.
		if !strings.Contains(line, `"-" "-"`+want+"1970-01-01T00:00:00.000000Z") {
			t.Errorf("priority %d: %q; want %q before request_creation_time", prio, line, strings.TrimSpace(want))
		}
	}
}
