package server_test

import (
	"strings"
	"testing"

	"edge/internal/testutil"
)

// Issue 11.5: path-pattern rules see the path after URI normalization, as
// ALB evaluates them, so dot segments, duplicate slashes and
// percent-encoded dots cannot walk around a rule; the target still gets
// the request target as the client sent it.
func TestPathRulesSeeTheNormalizedPath(t *testing.T) {
	seed := testutil.NewSeed(t)
	target := newRecordingTarget(t, nil)
	rules := `[{priority: 1, conditions: [{field: path-pattern, values: ["/admin/*"]}], actions: [{type: fixed-response, fixed_response_config: {status_code: "403", message_body: denied}}]},
	  {priority: 2, conditions: [{field: path-pattern, values: ["/docs/index.html"]}], actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: docs}}]}]`
	e := startEdge(t, seed, listenerYAML{rules: rules, top: "target_groups:\n" + tgYAML("app", strings.TrimPrefix(target.URL, "http://")),
		defaultAction: "{type: forward, target_group: app}"})
	for _, path := range []string{
		"/admin/x",
		"/public/../admin/x",
		"//admin/x",
		"/./admin/x",
		"/public/%2e%2e/admin/x",
		"/public/%2E%2E/admin/x",
		"/%2e/admin/x",
		"/public/..%2fadmin/x",
		"/public/.%2e/admin/x",
		"/%61dmin/x",
		"/public/./../admin/./x",
		"/a/b/../../admin/x",
		"/admin/x/..",
	} {
		resp, body := rawExchange(t, e, "GET "+path+" HTTP/1.1\r\nHost: example.test\r\n\r\n")
		if resp.StatusCode != 403 || body != "denied" {
			t.Errorf("GET %s: %d %q; the /admin/* rule must match it", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/docs/./index.html", "/docs//index.html", "/x/../docs/index.html", "/docs/%69ndex.html"} {
		if resp, body := rawExchange(t, e, "GET "+path+" HTTP/1.1\r\nHost: example.test\r\n\r\n"); body != "docs" {
			t.Errorf("GET %s: %d %q; the /docs/index.html rule must match it", path, resp.StatusCode, body)
		}
	}
	// Paths no rule matches are forwarded as sent: ALB's rules do not
	// rewrite the path.
	for _, path := range []string{"/public/./x/../y", "/public//y", "/public/%2e%2e/y", "/admin"} {
		resp, _ := rawExchange(t, e, "GET "+path+" HTTP/1.1\r\nHost: example.test\r\n\r\n")
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d; want the target's 200", path, resp.StatusCode)
			continue
		}
		if got := target.last(t).URI; got != path {
			t.Errorf("GET %s: the target received %q; want the path as sent", path, got)
		}
	}
}
