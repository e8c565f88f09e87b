package apigateway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// hopHeaders are not forwarded (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// invoke finds the resource and method and runs the integration.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, rc *reqContext, st *cStage, segs []string) {
	rc.stage, rc.apiID, rc.deploymentID, rc.stageVars = st.name, st.api.id, st.deploymentID, st.variables
	res := st.root.match(segs, rc.pathParams)
	var m *Method
	if res != nil {
		m = res.methods[r.Method]
		if m == nil {
			m = res.methods["ANY"]
		}
	}
	if m == nil {
		// What API Gateway answers for a path or method the API lacks.
		gatewayError(w, rc, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token", "MISSING_AUTHENTICATION_TOKEN")
		return
	}
	rc.resourcePath, rc.resourceID = res.path, res.id
	it := m.Integration
	if it == nil {
		gatewayError(w, rc, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error", "DEFAULT_5XX")
		return
	}
	switch it.Type {
	case "MOCK":
		mock(w, rc, it)
	default:
		s.forward(w, r, rc, it)
	}
}

// mock answers from the default integration response (selectionPattern
// ""; else 200): its status and its application/json template as the body,
// verbatim (edge does not evaluate VTL).
func mock(w http.ResponseWriter, rc *reqContext, it *Integration) {
	status, body := http.StatusOK, ""
	for code, ir := range it.IntegrationResponses {
		if ir.SelectionPattern == "" {
			status = atoiDefault(code, http.StatusOK)
			body = ir.ResponseTemplates["application/json"]
			for k, v := range ir.ResponseParameters {
				if name, ok := strings.CutPrefix(k, "method.response.header."); ok && len(v) >= 2 && v[0] == '\'' {
					w.Header().Set(name, v[1:len(v)-1])
				}
			}
			break
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func atoiDefault(s string, d int) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return d
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 {
		return d
	}
	return n
}

var uriParam = regexp.MustCompile(`\{([^{}]+)\}`)

// forward sends the request to an HTTP or HTTP_PROXY integration. The
// uri's {name} placeholders take integration.request.path.NAME mappings,
// else the method's path parameter NAME ({proxy+} fills {proxy}).
// HTTP_PROXY passes the client's headers, query and body through and the
// target's answer back as it is; HTTP sends mapped parameters and the body
// and answers with the status of the matching integration response.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, rc *reqContext, it *Integration) {
	proxy := it.Type == "HTTP_PROXY"
	h := http.Header{}
	q := map[string][]string{}
	path := map[string]string{}
	if proxy {
		for k, v := range r.Header {
			h[k] = append([]string(nil), v...)
		}
		for k, v := range r.URL.Query() {
			q[k] = v
		}
		for _, k := range hopHeaders {
			h.Del(k)
		}
	} else if ct := r.Header.Get("Content-Type"); ct != "" {
		h.Set("Content-Type", ct)
	}
	rc.applyMappings(it.RequestParameters, h, q, path)
	target := uriParam.ReplaceAllStringFunc(it.URI, func(m string) string {
		name := strings.TrimSuffix(m[1:len(m)-1], "+")
		v, ok := path[name]
		if !ok {
			v, ok = rc.pathParams[name]
		}
		if !ok {
			return m
		}
		return escapePathKeepSlash(v)
	})
	u, err := url.Parse(target)
	if err != nil {
		gatewayError(w, rc, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error", "DEFAULT_5XX")
		return
	}
	if len(q) > 0 {
		uq := u.Query()
		for k, v := range q {
			uq[k] = v
		}
		u.RawQuery = uq.Encode()
	}
	method := it.HTTPMethod
	if method == "ANY" || method == "" {
		method = r.Method
	}
	timeout := time.Duration(it.TimeoutInMillis) * time.Millisecond
	if timeout <= 0 {
		timeout = 29 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, method, u.String(), r.Body)
	if err != nil {
		gatewayError(w, rc, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error", "DEFAULT_5XX")
		return
	}
	out.ContentLength = r.ContentLength
	out.Header = h
	if prior := r.Header.Get("X-Forwarded-For"); prior != "" && proxy {
		out.Header.Set("X-Forwarded-For", prior+", "+rc.sourceIP)
	} else {
		out.Header.Set("X-Forwarded-For", rc.sourceIP)
	}
	out.Header.Set("X-Forwarded-Proto", "https")
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		out.Header.Set("X-Forwarded-Port", port)
	} else {
		out.Header.Set("X-Forwarded-Port", "443")
	}
	out.Header.Set("X-Amzn-Apigateway-Api-Id", rc.apiID)
	start := time.Now()
	resp, err := s.client.Do(out)
	rc.integration.latency = time.Since(start)
	if err != nil {
		rc.integration.err = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			gatewayError(w, rc, http.StatusGatewayTimeout, "InternalServerErrorException", "Endpoint request timed out", "INTEGRATION_TIMEOUT")
			return
		}
		gatewayError(w, rc, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error", "INTEGRATION_FAILURE")
		return
	}
	defer resp.Body.Close()
	rc.integration.status = resp.StatusCode
	status := resp.StatusCode
	if !proxy {
		status = selectResponse(it, resp.StatusCode)
	}
	for k, v := range resp.Header {
		if k == "Content-Length" && !proxy {
			continue
		}
		w.Header()[k] = v
	}
	for _, k := range hopHeaders {
		w.Header().Del(k)
	}
	w.WriteHeader(status)
	io.Copy(w, resp.Body)
}

// selectResponse picks an HTTP integration's answer status: the
// integration response whose selectionPattern matches the target's status
// code, else the default one (pattern ""), else the target's status.
func selectResponse(it *Integration, got int) int {
	gs := itoa(got)
	def := 0
	for c, ir := range it.IntegrationResponses {
		if ir.SelectionPattern == "" {
			def = atoiDefault(c, 0)
			continue
		}
		if re, err := regexp.Compile("^(?:" + ir.SelectionPattern + ")$"); err == nil && re.MatchString(gs) {
			return atoiDefault(c, got)
		}
	}
	if def != 0 {
		return def
	}
	return got
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// escapePathKeepSlash escapes a path parameter for a URL path, keeping the
// '/' of a greedy {proxy+} value.
func escapePathKeepSlash(v string) string {
	parts := strings.Split(v, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
