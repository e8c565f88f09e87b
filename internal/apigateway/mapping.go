package apigateway

import (
	"net/http"
	"strings"
)

// Request-parameter mappings of an integration:
//
//	integration.request.{header|querystring|path}.NAME : SOURCE
//
// where SOURCE is method.request.{header|querystring|path}.NAME,
// context.VARIABLE (e.g. context.identity.clientCert.subjectDN),
// stageVariables.NAME or a 'static value' [doc: API Gateway request
// parameter mapping reference].

// checkMapping validates one mapping as PutIntegration does.
func checkMapping(target, source string) error {
	kind, name, ok := cutTarget(target)
	if !ok || name == "" {
		return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", target)
	}
	_ = kind
	switch {
	case len(source) >= 2 && source[0] == '\'' && source[len(source)-1] == '\'':
	case strings.HasPrefix(source, "method.request.header."), strings.HasPrefix(source, "method.request.querystring."),
		strings.HasPrefix(source, "method.request.path."), strings.HasPrefix(source, "stageVariables."):
		if strings.HasSuffix(source, ".") {
			return badRequest("Invalid mapping expression specified: %s", source)
		}
	case strings.HasPrefix(source, "context."):
		if !contextVariables[strings.TrimPrefix(source, "context.")] {
			return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: %s]", source)
		}
	default:
		return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: %s]", source)
	}
	return nil
}

func cutTarget(t string) (kind, name string, ok bool) {
	for _, k := range []string{"header", "querystring", "path"} {
		if n, found := strings.CutPrefix(t, "integration.request."+k+"."); found {
			return k, n, true
		}
	}
	return "", "", false
}

// evalSource evaluates a mapping source for this request; ok is false
// when it has no value (the parameter is then not sent).
func (c *reqContext) evalSource(src string) (string, bool) {
	switch {
	case len(src) >= 2 && src[0] == '\'' && src[len(src)-1] == '\'':
		return src[1 : len(src)-1], true
	case strings.HasPrefix(src, "method.request.header."):
		v := c.req.Header.Get(strings.TrimPrefix(src, "method.request.header."))
		return v, v != ""
	case strings.HasPrefix(src, "method.request.querystring."):
		q := c.req.URL.Query()
		k := strings.TrimPrefix(src, "method.request.querystring.")
		return q.Get(k), q.Has(k)
	case strings.HasPrefix(src, "method.request.path."):
		v, ok := c.pathParams[strings.TrimPrefix(src, "method.request.path.")]
		return v, ok
	case strings.HasPrefix(src, "stageVariables."):
		v, ok := c.stageVars[strings.TrimPrefix(src, "stageVariables.")]
		return v, ok
	case strings.HasPrefix(src, "context."):
		v := c.value(strings.TrimPrefix(src, "context."))
		return v, v != ""
	}
	return "", false
}

// headerValue makes a mapped value fit an HTTP header: the client
// certificate PEM's line breaks cannot be sent, so a value with control
// characters is URL-encoded (the clientCertPem header is the URL-encoded
// PEM, as ALB's X-Amzn-Mtls-Clientcert).
func headerValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 && v[i] != '\t' || v[i] == 0x7f {
			return urlEncode(v)
		}
	}
	return v
}

func urlEncode(p string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+len(p)/8)
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == '~', ch == '+', ch == '/':
			b = append(b, ch)
		default:
			b = append(b, '%', hex[ch>>4], hex[ch&0xf])
		}
	}
	return string(b)
}

// applyMappings evaluates an integration's request parameters into the
// outgoing request's headers, query and path parameters.
func (c *reqContext) applyMappings(m map[string]string, h http.Header, q map[string][]string, path map[string]string) {
	for target, src := range m {
		kind, name, _ := cutTarget(target)
		v, ok := c.evalSource(src)
		if !ok {
			continue
		}
		switch kind {
		case "header":
			h.Set(name, headerValue(v))
		case "querystring":
			q[name] = []string{v}
		case "path":
			path[name] = v
		}
	}
}
