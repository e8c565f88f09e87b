package apigateway

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteSummary prints what the compiled file layer st of c serves, for
// `edge check`: the listener and log destinations, each custom domain with
// its endpoint type, security policy, certificate, mutual TLS truststore
// (where it comes from, how many certificates API Gateway will use, and
// its truststoreWarnings) and base path mappings, then each REST API with
// its id, stages, routes and whether its execute-api endpoint is disabled.
// st is Compile's result for c.
func WriteSummary(w io.Writer, c *Config, st *State) {
	dest := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	fmt.Fprintf(w, "api_gateway: HTTPS %s, one listener for every custom domain (chosen by SNI)\n", c.Listen)
	fmt.Fprintf(w, "  access log: %s; execution log: %s\n", dest(c.AccessLog, DefaultAccessLog), dest(c.ExecutionLog, DefaultExecutionLog))
	names := map[string]string{}
	for _, a := range st.RestAPIs {
		names[a.ID] = a.Name
	}
	for i, d := range st.DomainNames {
		dc := c.DomainNames[i]
		cert := "a dev-CA certificate for the domain"
		if dc.Certificate != nil {
			cert = dc.Certificate.Cert
		}
		fmt.Fprintf(w, "  domain %s: %s, %s, certificate %s\n", d.Name, strings.Join(d.EndpointConfiguration.Types, ","), d.SecurityPolicy, cert)
		if d.MutualTLS == nil {
			fmt.Fprintf(w, "    mutual TLS: off\n")
		} else {
			from := dc.MutualTLS.Truststore
			if from == "" {
				from = dc.MutualTLS.TruststoreURI
				if v := dc.MutualTLS.TruststoreVersion; v != "" {
					from += " version " + v
				}
			}
			n := 0
			if d.file != nil {
				if ts, _, err := ParseTruststore(d.file.truststore, timeNow()); err == nil {
					n = ts.Len()
				}
			}
			fmt.Fprintf(w, "    mutual TLS: truststore %s, %d certificate%s\n", from, n, plural(n))
			for _, warn := range d.MutualTLS.TruststoreWarnings {
				fmt.Fprintf(w, "    truststore warning: %s\n", warn)
			}
		}
		ms := append([]*BasePathMapping(nil), d.Mappings...)
		sort.Slice(ms, func(a, b int) bool { return ms[a].BasePath < ms[b].BasePath })
		if len(ms) == 0 {
			fmt.Fprintf(w, "    no base path mappings: every request answers 403 Forbidden\n")
		}
		for _, m := range ms {
			bp, stage := m.BasePath, m.Stage
			if bp == "" {
				bp = "(none)"
			}
			if stage == "" {
				stage = "(the next path segment)"
			}
			fmt.Fprintf(w, "    base path %s -> REST API %s (id %s), stage %s\n", bp, names[m.RestAPIID], m.RestAPIID, stage)
		}
	}
	for i, a := range st.RestAPIs {
		ac := c.RestAPIs[i]
		var stages []string
		for _, s := range ac.Stages {
			stages = append(stages, s.Name)
		}
		exec := "execute-api endpoint on (it bypasses mutual TLS)"
		if a.DisableExecuteAPIEndpoint {
			exec = "execute-api endpoint disabled"
		}
		fmt.Fprintf(w, "  REST API %s (id %s): stage%s %s; %s\n", a.Name, a.ID, plural(len(stages)), strings.Join(stages, ", "), exec)
		for _, r := range ac.Routes {
			target := r.Integration.Type
			if r.Integration.URI != "" {
				target += " " + r.Integration.URI
			}
			fmt.Fprintf(w, "    %s %s -> %s\n", strings.ToUpper(r.Method), r.Path, target)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
