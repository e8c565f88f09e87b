package route

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"edge/internal/proxy"
	"edge/internal/reqinfo"
)

// Redirect is ALB's redirect action. Each component may use the
// placeholders #{protocol}, #{host}, #{port}, #{path} (the path without
// its leading '/') and #{query}; an empty component keeps the request's.
type Redirect struct {
	Protocol, Host, Port, Path, Query string
	// Status is 301 or 302.
	Status int
}

func (rd *Redirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ri := reqinfo.Of(w, r)
	proto := "http"
	if ri.Conn.TLS {
		proto = "https"
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	vars := strings.NewReplacer(
		"#{protocol}", proto,
		"#{host}", host,
		"#{port}", strconv.Itoa(ri.ListenerPort),
		"#{path}", strings.TrimPrefix(r.URL.EscapedPath(), "/"),
		"#{query}", r.URL.RawQuery,
	)
	or := func(v, def string) string {
		if v == "" {
			v = def
		}
		return vars.Replace(v)
	}
	scheme := strings.ToLower(or(rd.Protocol, "#{protocol}"))
	port := or(rd.Port, "#{port}")
	loc := scheme + "://" + or(rd.Host, "#{host}")
	if !(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		loc += ":" + port
	}
	loc += or(rd.Path, "/#{path}")
	if q := or(rd.Query, "#{query}"); q != "" {
		loc += "?" + q
	}
	ri.RedirectURL = loc
	w.Header()["Location"] = []string{loc}
	proxy.WriteError(w, r, rd.Status)
}
