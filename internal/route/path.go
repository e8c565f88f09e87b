package route

import "strings"

// NormalizePath returns the path rules are evaluated against, after URI
// normalization as ALB performs it before path-pattern evaluation ("The
// rule evaluation is performed only after URI normalization occurs", ALB
// guide, Path conditions). p is the decoded path (net/http's URL.Path: every
// percent-encoding decoded once, so %2e%2e is "..", %2F is "/" and %61 is
// "a"); runs of '/' become one and "." and ".." segments are resolved
// (RFC 3986 §5.2.4). A trailing slash is kept ("/a/b/.." is "/a/").
//
// aboveRoot reports a ".." that would climb above "/": the result then
// stays at the root, as RFC 3986 resolves it; callers refuse such a request
// (400), as nginx does. An empty p is "/". A p not starting with '/' (the
// asterisk form) is returned unchanged. Paths that need no change (the
// common case) are returned without allocating.
func NormalizePath(p string) (norm string, aboveRoot bool) {
	if p == "" {
		return "/", false
	}
	if p[0] != '/' || !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return p, false
	}
	segs := make([]string, 0, strings.Count(p, "/"))
	trailing := false
	for rest := p[1:]; ; {
		seg, tail, more := strings.Cut(rest, "/")
		trailing = false
		switch seg {
		case "", ".":
			trailing = true
		case "..":
			if len(segs) == 0 {
				aboveRoot = true
			} else {
				segs = segs[:len(segs)-1]
			}
			trailing = true
		default:
			segs = append(segs, seg)
		}
		if !more {
			break
		}
		rest = tail
	}
	var b strings.Builder
	b.Grow(len(p))
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(s)
	}
	if trailing || len(segs) == 0 {
		b.WriteByte('/')
	}
	return b.String(), aboveRoot
}
