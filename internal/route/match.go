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

// The conditions are built with their New functions, which normalise the
// values once (lower case where ALB matches case-insensitively, masked
// CIDR blocks): a request is then matched without allocating for them.

// HostHeader matches the Host header without its port, case-insensitively.
type HostHeader struct{ values []string }

// NewHostHeader matches any of values, ALB host-header values with the
// wildcards '*' and '?', in any case.
func NewHostHeader(values []string) HostHeader { return HostHeader{lower(values)} }

func (c HostHeader) Match(r *http.Request, _ netip.Addr) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return anyWildcard(c.values, host, true)
}

// PathPattern matches the URL path (not the query), case-sensitively,
// after URI normalization (NormalizePath), as ALB does.
type PathPattern struct{ values []string }

// NewPathPattern matches any of values, with the wildcards '*' and '?'.
func NewPathPattern(values []string) PathPattern { return PathPattern{values} }

func (c PathPattern) Match(r *http.Request, _ netip.Addr) bool {
	p, _ := NormalizePath(r.URL.Path)
	return anyWildcard(c.values, p, false)
}

// HTTPHeader matches any value of one header, case-insensitively.
type HTTPHeader struct {
	name   string
	values []string
}

// NewHTTPHeader matches header name (in any case) having a value that
// matches any of values (wildcards '*' and '?', any case).
func NewHTTPHeader(name string, values []string) HTTPHeader {
	return HTTPHeader{http.CanonicalHeaderKey(name), lower(values)}
}

func (c HTTPHeader) Match(r *http.Request, _ netip.Addr) bool {
	for _, v := range r.Header[c.name] {
		if anyWildcard(c.values, v, true) {
			return true
		}
	}
	return false
}

// Method matches the request method exactly (case-sensitive, no wildcards).
type Method struct{ values []string }

// NewMethod matches any of values (GET, POST, ... or a custom method).
func NewMethod(values []string) Method { return Method{values} }

func (c Method) Match(r *http.Request, _ netip.Addr) bool {
	for _, v := range c.values {
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
type QueryString struct{ values []KeyValue }

// NewQueryString matches any of pairs (wildcards '*' and '?', any case).
func NewQueryString(pairs []KeyValue) QueryString {
	out := make([]KeyValue, len(pairs))
	for i, kv := range pairs {
		out[i] = KeyValue{strings.ToLower(kv.Key), strings.ToLower(kv.Value)}
	}
	return QueryString{out}
}

func (c QueryString) Match(r *http.Request, _ netip.Addr) bool {
	q := r.URL.Query()
	for _, kv := range c.values {
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
type SourceIP struct{ prefixes []netip.Prefix }

// NewSourceIP matches any of the CIDR blocks values ("10.0.0.0/8",
// "2001:db8::/32"; host bits are ignored); the error names a value that is
// not a CIDR block.
func NewSourceIP(values []string) (SourceIP, error) {
	var ps []netip.Prefix
	for _, v := range values {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return SourceIP{}, err
		}
		ps = append(ps, p.Masked())
	}
	return SourceIP{ps}, nil
}

func (c SourceIP) Match(_ *http.Request, client netip.Addr) bool {
	client = client.Unmap()
	for _, p := range c.prefixes {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

func lower(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.ToLower(v)
	}
	return out
}
