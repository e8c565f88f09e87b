package route

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "example.com", false},
		{"/api/*", "/api/", true},
		{"/api/*", "/api", false},
		{"/img/?.png", "/img/a.png", true},
		{"/img/?.png", "/img/ab.png", false},
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"exact", "exact", true},
	} {
		if got := wildcard(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v; want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestConditions(t *testing.T) {
	client := netip.MustParseAddr("10.1.2.3")
	req := func(target string, hdr ...string) *httptestRequest {
		r := httptest.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Add(hdr[i], hdr[i+1])
		}
		return &httptestRequest{r}
	}
	for _, tc := range []struct {
		name string
		c    Condition
		r    *httptestRequest
		want bool
	}{
		{"host wildcard, case-insensitive, port ignored", NewHostHeader([]string{"*.example.com"}), req("http://API.Example.com:8443/"), true},
		{"host apex does not match *.", NewHostHeader([]string{"*.example.com"}), req("http://example.com/"), false},
		{"path case-sensitive", NewPathPattern([]string{"/API/*"}), req("http://h/api/x"), false},
		{"path wildcard", NewPathPattern([]string{"/api/*"}), req("http://h/api/x?q=1"), true},
		{"path ignores query", NewPathPattern([]string{"*q=1"}), req("http://h/api/x?q=1"), false},
		{"header any value, case-insensitive", NewHTTPHeader("X-Env", []string{"prod*"}), req("http://h/", "X-Env", "dev", "x-env", "PRODUCTION"), true},
		{"header missing", NewHTTPHeader("X-Env", []string{"*"}), req("http://h/"), false},
		{"method exact", NewMethod([]string{"GET"}), req("http://h/"), true},
		{"method case-sensitive", NewMethod([]string{"get"}), req("http://h/"), false},
		{"query key and value", NewQueryString([]KeyValue{{"version", "v*"}}), req("http://h/?Version=V2"), true},
		{"query value only", NewQueryString([]KeyValue{{"", "beta"}}), req("http://h/?a=1&b=BETA"), true},
		{"query miss", NewQueryString([]KeyValue{{"version", "v1"}}), req("http://h/?version=v2"), false},
		{"source ip in CIDR", mustSourceIP("10.0.0.0/8"), req("http://h/", "X-Forwarded-For", "192.0.2.1"), true},
		{"source ip ignores X-Forwarded-For", mustSourceIP("192.0.2.0/24"), req("http://h/", "X-Forwarded-For", "192.0.2.1"), false},
	} {
		if got := tc.c.Match(tc.r.Request, client); got != tc.want {
			t.Errorf("%s: got %v; want %v", tc.name, got, tc.want)
		}
	}
}

type httptestRequest struct{ *http.Request }

func mustSourceIP(v string) SourceIP {
	c, err := NewSourceIP([]string{v})
	if err != nil {
		panic(err)
	}
	return c
}
