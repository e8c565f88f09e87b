// Package attributes is the one table of the ELBv2 attributes edge knows:
// load balancer, listener and target group attribute keys exactly as
// ModifyLoadBalancerAttributes, ModifyListenerAttributes and
// ModifyTargetGroupAttributes name them, each with its default, its value
// rule and whether edge acts on it.
//
// The configuration validates `attributes:` maps through Validate and
// Resolve, the server builds its per-reload settings from the typed views
// (Set.LoadBalancer, Set.Listener), and `edge check` lists Set.List, which
// is what DescribeLoadBalancerAttributes / DescribeListenerAttributes /
// DescribeTargetGroupAttributes would return. Keys, defaults and ranges are
// from the ELBv2 API reference (LoadBalancerAttribute, ListenerAttribute,
// TargetGroupAttribute) and the ALB guide (edit-load-balancer-attributes,
// header-modification, x-forwarded-headers).
package attributes

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"edge/internal/suggest"
)

// Scope is the kind of resource an attribute belongs to.
type Scope uint8

const (
	LoadBalancer Scope = iota + 1
	Listener
	TargetGroup
)

func (s Scope) String() string {
	switch s {
	case LoadBalancer:
		return "load balancer"
	case Listener:
		return "listener"
	case TargetGroup:
		return "target group"
	}
	return "unknown scope"
}

// Support says what edge does with an attribute.
type Support uint8

const (
	// Emulated attributes change edge's behaviour as they change ALB's.
	Emulated Support = iota + 1
	// Stored attributes are validated and listed with their values, but
	// edge behaves the same whatever they are (no WAF, zones, health
	// checks, stickiness...).
	Stored
)

// Key is one attribute of the table.
type Key struct {
	// Name is the ELBv2 key, e.g. "idle_timeout.timeout_seconds".
	Name  string
	Scope Scope
	// Default is the value ELBv2 reports when the key was never set.
	Default string
	// Valid says which values are accepted, for messages: "true or
	// false", "an integer from 1 to 4000", ...
	Valid string
	// Support says whether edge acts on the key.
	Support Support
	// HTTPSOnly keys apply to HTTPS listeners only (the mTLS/TLS header
	// renames); an HTTP listener neither accepts nor lists them.
	HTTPSOnly bool
	// Doc is one line on what the key does (in edge).
	Doc string

	check func(v string) bool
}

// Attribute is one key and its value, as ELBv2's LoadBalancerAttribute,
// ListenerAttribute and TargetGroupAttribute carry them.
type Attribute struct {
	Key, Value string
}

// ValidationError is the error code ELBv2 answers invalid attributes with
// (AWS's common error for a request that fails input validation).
const ValidationError = "ValidationError"

// Sentinels for errors.Is on an *Error.
var (
	ErrUnknownKey   = errors.New("unknown attribute key")
	ErrInvalidValue = errors.New("invalid attribute value")
	// ErrConflict: each value is valid alone, not together (logging
	// enabled without a bucket, two headers renamed to one name).
	ErrConflict = errors.New("conflicting attribute values")
)

// Error is a rejected attribute.
type Error struct {
	// Code is AWS's error code: always ValidationError.
	Code  string
	Scope Scope
	Key   string
	Value string
	// Kind is ErrUnknownKey, ErrInvalidValue or ErrConflict.
	Kind error
	// Message is the whole explanation, as the API would return it.
	Message string
	// Valid lists the valid values (ErrInvalidValue), or Nearest the
	// closest known key (ErrUnknownKey).
	Valid   string
	Nearest string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is matches the sentinel of e's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Keys returns the keys of scope in name order.
func Keys(scope Scope) []Key {
	var out []Key
	for _, k := range table {
		if k.Scope == scope {
			out = append(out, k)
		}
	}
	return out
}

// Lookup finds a key of scope by its exact name.
func Lookup(scope Scope, name string) (Key, bool) {
	for _, k := range table {
		if k.Scope == scope && k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// Defaults returns every key of scope with its default, in name order (for
// the listener scope, those of an HTTPS listener).
func Defaults(scope Scope) []Attribute {
	var out []Attribute
	for _, k := range Keys(scope) {
		out = append(out, Attribute{k.Name, k.Default})
	}
	return out
}

// Validate checks one key and value of scope alone. The error is an *Error
// (ErrUnknownKey or ErrInvalidValue).
func Validate(scope Scope, key, value string) error {
	k, ok := Lookup(scope, key)
	if !ok {
		near := nearest(scope, key)
		return &Error{Code: ValidationError, Scope: scope, Key: key, Value: value, Kind: ErrUnknownKey, Nearest: near,
			Message: fmt.Sprintf("%s attribute key %s is not recognized (did you mean '%s'?)", capital(scope.String()), show(key), near)}
	}
	if !k.check(value) {
		return &Error{Code: ValidationError, Scope: scope, Key: key, Value: value, Kind: ErrInvalidValue, Valid: k.Valid,
			Message: fmt.Sprintf("%s is not a valid value for %s attribute '%s': it must be %s", show(value), scope, key, k.Valid)}
	}
	return nil
}

// nearest is the known key closest to a misspelt one: among the keys that
// share the most words with it ("serial" in ..._serial.header_name), the
// one at the least edit distance.
func nearest(scope Scope, key string) string {
	words := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '_' }) {
			m[w] = true
		}
		return m
	}
	mine := words(key)
	best, bestN := []string(nil), -1
	for _, k := range Keys(scope) {
		n := 0
		for w := range words(k.Name) {
			if mine[w] {
				n++
			}
		}
		switch {
		case n > bestN:
			best, bestN = []string{k.Name}, n
		case n == bestN:
			best = append(best, k.Name)
		}
	}
	return suggest.Nearest(key, best)
}

// show quotes a user's key or value for a message on one line: control
// characters escaped, at most 80 characters.
func show(v string) string {
	var b strings.Builder
	b.WriteByte('\'')
	n := 0
	for _, r := range v {
		if n == 80 {
			b.WriteString("...")
			break
		}
		n++
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// Set is the effective attributes of one resource: every key of its scope,
// given values over defaults. Build one with Resolve. The zero Set lists
// no keys; its typed views give ALB's behaviour with every attribute at its
// default, except that durations are 0 (off).
type Set struct {
	scope  Scope
	https  bool
	values map[string]string
	given  map[string]bool
}

// Resolve validates the given attributes of one resource, each alone
// (Validate) and together (logging enabled needs a bucket; renamed headers
// must keep distinct names), and returns the effective set. protocol is
// the listener's ("HTTP" or "HTTPS") for the listener scope and ignored
// otherwise: an HTTP listener does not take the HTTPS-only keys. On error
// it returns every problem, joined (errors.Join) and each an *Error.
func Resolve(scope Scope, protocol string, given map[string]string) (Set, error) {
	s := Set{scope: scope, https: scope != Listener || protocol != "HTTP", values: map[string]string{}, given: map[string]bool{}}
	for _, k := range Keys(scope) {
		s.values[k.Name] = k.Default
	}
	var errs []error
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := given[name]
		if err := Validate(scope, name, v); err != nil {
			errs = append(errs, err)
			continue
		}
		if k, _ := Lookup(scope, name); k.HTTPSOnly && !s.https {
			errs = append(errs, &Error{Code: ValidationError, Scope: scope, Key: name, Value: v, Kind: ErrInvalidValue, Valid: "not set on an HTTP listener",
				Message: fmt.Sprintf("listener attribute '%s' applies to HTTPS listeners only", name)})
			continue
		}
		if v == "" {
			// Header modification: an empty value restores the default.
			continue
		}
		s.values[name], s.given[name] = v, true
	}
	errs = append(errs, s.conflicts()...)
	return s, errors.Join(errs...)
}

// MustResolve is Resolve for values known to be valid (defaults, tests).
func MustResolve(scope Scope, protocol string, given map[string]string) Set {
	s, err := Resolve(scope, protocol, given)
	if err != nil {
		panic(err)
	}
	return s
}

func (s Set) conflicts() []error {
	var errs []error
	conflict := func(key, msg string) {
		errs = append(errs, &Error{Code: ValidationError, Scope: s.scope, Key: key, Value: s.values[key], Kind: ErrConflict, Message: msg})
	}
	switch s.scope {
	case LoadBalancer:
		for _, l := range []string{"access_logs", "connection_logs", "health_check_logs"} {
			if s.values[l+".s3.enabled"] == "true" && s.values[l+".s3.bucket"] == "" {
				conflict(l+".s3.enabled", fmt.Sprintf("%s.s3.bucket is required when %s.s3.enabled is true", l, l))
			}
		}
	case Listener:
		if !s.https {
			break
		}
		seen := map[string]string{}
		for _, h := range requestHeaders {
			name := s.HeaderName(h.key)
			canon := strings.ToLower(name)
			if prev, dup := seen[canon]; dup {
				conflict(h.key, fmt.Sprintf("'%s' renames %s to %s, which %s already sends; each header needs its own name", h.key, h.def, name, prev))
				continue
			}
			if reservedHeader[canon] {
				conflict(h.key, fmt.Sprintf("'%s' renames %s to %s, a header edge sets or that frames the request; choose another name", h.key, h.def, name))
			}
			seen[canon] = h.def
		}
	case TargetGroup:
		if s.values["load_balancing.algorithm.anomaly_mitigation"] == "on" && s.values["load_balancing.algorithm.type"] != "weighted_random" {
			conflict("load_balancing.algorithm.anomaly_mitigation", "load_balancing.algorithm.anomaly_mitigation is available only when load_balancing.algorithm.type is weighted_random")
		}
	}
	return errs
}

// reservedHeader are names a renamed header may not take (lower case):
// the fields that frame a request or that edge itself sets.
var reservedHeader = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true, "upgrade": true, "te": true, "trailer": true,
	"x-forwarded-for": true, "x-forwarded-proto": true, "x-forwarded-port": true, "x-amzn-trace-id": true,
}

// Scope returns the set's scope.
func (s Set) Scope() Scope { return s.scope }

// Get returns the effective value of key ("" for a key the scope lacks).
func (s Set) Get(key string) string { return s.values[key] }

// IsSet reports whether key was given a non-empty value (as opposed to
// keeping its default).
func (s Set) IsSet(key string) bool { return s.given[key] }

// List returns every key of the set's scope with its effective value, in
// name order: what Describe*Attributes returns. An HTTP listener's list
// leaves out the HTTPS-only keys.
func (s Set) List() []Attribute {
	var out []Attribute
	for _, k := range Keys(s.scope) {
		if k.HTTPSOnly && !s.https {
			continue
		}
		out = append(out, Attribute{k.Name, s.values[k.Name]})
	}
	return out
}

func (s Set) bool(key string) bool { return s.values[key] == "true" }

func (s Set) seconds(key string) time.Duration {
	n, _ := strconv.Atoi(s.values[key])
	return time.Duration(n) * time.Second
}
