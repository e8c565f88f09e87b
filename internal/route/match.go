package route

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Condition reports whether a request matches one rule condition.
type Condition interface {
	Match(r *http.Request, client netip.Addr) bool
}

// wildcard matches s against pattern with '*' (any run) and '?' (exactly
// one character), as ALB's condition values do.
func wildcard(pattern, s string) bool {
	// Iterative glob with single-star backtracking: linear for the
	// patterns ALB allows.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func anyWildcard(patterns []string, s string, fold bool) bool {
	if fold {
		s = strings.ToLower(s)
	}
	for _, p := range patterns {
		if wildcard(p, s) {
			return true
		}
	}
	return false
}

// HostHeader matches the Host header without its port, case-insensitively.
type HostHeader struct{ Values []string }

func (c HostHeader) Match(r *http.Request, _ netip.Addr) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return anyWildcard(c.Values, host, true)
}

// PathPattern matches the URL path (not the query), case-sensitively,
// after URI normalization (NormalizePath), as ALB does.
type PathPattern struct{ Values []string }

func (c PathPattern) Match(r *http.Request, _ netip.Addr) bool {
	p, _ := NormalizePath(r.URL.Path)
	return anyWildcard(c.Values, p, false)
}

// HTTPHeader matches any value of one header, case-insensitively.
type HTTPHeader struct {
	Name   string
	Values []string
}

func (c HTTPHeader) Match(r *http.Request, _ netip.Addr) bool {
	for _, v := range r.Header.Values(c.Name) {
		if anyWildcard(c.Values, v, true) {
			return true
		}
	}
	return false
}

// Method matches the request method exactly (case-sensitive, no wildcards).
type Method struct{ Values []string }

func (c Method) Match(r *http.Request, _ netip.Addr) bool {
	for _, v := range c.Values {
		if r.Method == v {
			return true
		}
	}
	return false
}

// KeyValue is one query-string match; an empty Key matches any key.
type KeyValue struct{ Key, Value string }

// QueryString matches when any query parameter matches any pair, keys and
// values case-insensitively with wildcards.
type QueryString struct{ Values []KeyValue }

func (c QueryString) Match(r *http.Request, _ netip.Addr) bool {
	q := r.URL.Query()
	for _, kv := range c.Values {
		for k, vals := range q {
			if kv.Key != "" && !wildcard(kv.Key, strings.ToLower(k)) {
				continue
			}
			for _, v := range vals {
				if wildcard(kv.Value, strings.ToLower(v)) {
					return true
				}
			}
		}
	}
	return false
}

// SourceIP matches the client's address (the peer, not X-Forwarded-For).
type SourceIP struct{ Prefixes []netip.Prefix }

func (c SourceIP) Match(_ *http.Request, client netip.Addr) bool {
	client = client.Unmap()
	for _, p := range c.Prefixes {
		if p.Contains(client) {
			return true
		}
	}
	return false
}
