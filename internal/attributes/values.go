package attributes

import "time"

// XFFMode is routing.http.xff_header_processing.mode.
type XFFMode uint8

const (
	// XFFAppend adds the client's address to the X-Forwarded-For the
	// client sent (or creates it).
	XFFAppend XFFMode = iota
	// XFFPreserve sends the client's X-Forwarded-For unchanged (none when
	// it sent none).
	XFFPreserve
	// XFFRemove sends no X-Forwarded-For.
	XFFRemove
)

// S3Logs is one log's access_logs.s3.* / connection_logs.s3.* values.
type S3Logs struct {
	Enabled        bool
	Bucket, Prefix string
}

// LoadBalancerValues are the load balancer attributes edge acts on, typed.
type LoadBalancerValues struct {
	// IdleTimeout is idle_timeout.timeout_seconds.
	IdleTimeout time.Duration
	// ClientKeepAlive is client_keep_alive.seconds.
	ClientKeepAlive time.Duration
	XFFMode         XFFMode
	// XFFClientPort is routing.http.xff_client_port.enabled (append mode
	// only).
	XFFClientPort bool
	// PreserveHostHeader is routing.http.preserve_host_header.enabled.
	PreserveHostHeader bool
	// DropInvalidHeaderFields is
	// routing.http.drop_invalid_header_fields.enabled.
	DropInvalidHeaderFields bool
	// TLSHeaders is routing.http.x_amzn_tls_version_and_cipher_suite.enabled.
	TLSHeaders                 bool
	AccessLogs, ConnectionLogs S3Logs
}

// LoadBalancer returns the typed load balancer values of a load balancer
// Set.
func (s Set) LoadBalancer() LoadBalancerValues {
	v := LoadBalancerValues{
		IdleTimeout:             s.seconds("idle_timeout.timeout_seconds"),
		ClientKeepAlive:         s.seconds("client_keep_alive.seconds"),
		XFFClientPort:           s.bool("routing.http.xff_client_port.enabled"),
		PreserveHostHeader:      s.bool("routing.http.preserve_host_header.enabled"),
		DropInvalidHeaderFields: s.bool("routing.http.drop_invalid_header_fields.enabled"),
		TLSHeaders:              s.bool("routing.http.x_amzn_tls_version_and_cipher_suite.enabled"),
		AccessLogs:              S3Logs{s.bool("access_logs.s3.enabled"), s.values["access_logs.s3.bucket"], s.values["access_logs.s3.prefix"]},
		ConnectionLogs:          S3Logs{s.bool("connection_logs.s3.enabled"), s.values["connection_logs.s3.bucket"], s.values["connection_logs.s3.prefix"]},
	}
	switch s.values["routing.http.xff_header_processing.mode"] {
	case "preserve":
		v.XFFMode = XFFPreserve
	case "remove":
		v.XFFMode = XFFRemove
	}
	return v
}

// Header is one header name and value.
type Header struct{ Name, Value string }

// RequestHeaders are the names under which edge sends ALB's mTLS and TLS
// request headers on one listener.
type RequestHeaders struct {
	ClientCert, ClientCertSerialNumber, ClientCertIssuer, ClientCertSubject, ClientCertValidity, ClientCertLeaf string
	TLSVersion, TLSCipherSuite                                                                                  string
}

// ListenerValues are the listener attributes, typed.
type ListenerValues struct {
	// Names are the request header names, ALB's unless renamed.
	Names RequestHeaders
	// Renamed lists the renamed headers' new names.
	Renamed []string
	// ServerHeader is routing.http.response.server.enabled.
	ServerHeader bool
	// ResponseHeaders are the routing.http.response.*.header_value headers
	// that have a value, in key order.
	ResponseHeaders []Header
}

// requestHeaders: each rename key and ALB's header name.
var requestHeaders = []struct{ key, def string }{
	{"routing.http.request.x_amzn_mtls_clientcert.header_name", "X-Amzn-Mtls-Clientcert"},
	{"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", "X-Amzn-Mtls-Clientcert-Serial-Number"},
	{"routing.http.request.x_amzn_mtls_clientcert_issuer.header_name", "X-Amzn-Mtls-Clientcert-Issuer"},
	{"routing.http.request.x_amzn_mtls_clientcert_subject.header_name", "X-Amzn-Mtls-Clientcert-Subject"},
	{"routing.http.request.x_amzn_mtls_clientcert_validity.header_name", "X-Amzn-Mtls-Clientcert-Validity"},
	{"routing.http.request.x_amzn_mtls_clientcert_leaf.header_name", "X-Amzn-Mtls-Clientcert-Leaf"},
	{"routing.http.request.x_amzn_tls_version.header_name", "X-Amzn-Tls-Version"},
	{"routing.http.request.x_amzn_tls_cipher_suite.header_name", "X-Amzn-Tls-Cipher-Suite"},
}

// responseHeaders: each response-header key and the header it sets.
var responseHeaders = []struct{ key, name string }{
	{"routing.http.response.access_control_allow_credentials.header_value", "Access-Control-Allow-Credentials"},
	{"routing.http.response.access_control_allow_headers.header_value", "Access-Control-Allow-Headers"},
	{"routing.http.response.access_control_allow_methods.header_value", "Access-Control-Allow-Methods"},
	{"routing.http.response.access_control_allow_origin.header_value", "Access-Control-Allow-Origin"},
	{"routing.http.response.access_control_expose_headers.header_value", "Access-Control-Expose-Headers"},
	{"routing.http.response.access_control_max_age.header_value", "Access-Control-Max-Age"},
	{"routing.http.response.content_security_policy.header_value", "Content-Security-Policy"},
	{"routing.http.response.strict_transport_security.header_value", "Strict-Transport-Security"},
	{"routing.http.response.x_content_type_options.header_value", "X-Content-Type-Options"},
	{"routing.http.response.x_frame_options.header_value", "X-Frame-Options"},
}

// HeaderName returns the name a rename key gives its header: the
// configured one, or ALB's when the key is unset or empty. Other keys
// return "".
func (s Set) HeaderName(key string) string {
	for _, h := range requestHeaders {
		if h.key == key {
			if v := s.values[key]; v != "" {
				return v
			}
			return h.def
		}
	}
	return ""
}

// Listener returns the typed listener values of a listener Set.
func (s Set) Listener() ListenerValues {
	name := func(i int) string { return s.HeaderName(requestHeaders[i].key) }
	v := ListenerValues{
		Names: RequestHeaders{
			ClientCert: name(0), ClientCertSerialNumber: name(1), ClientCertIssuer: name(2), ClientCertSubject: name(3),
			ClientCertValidity: name(4), ClientCertLeaf: name(5), TLSVersion: name(6), TLSCipherSuite: name(7),
		},
		ServerHeader: s.values["routing.http.response.server.enabled"] != "false",
	}
	for _, h := range requestHeaders {
		if s.values[h.key] != "" {
			v.Renamed = append(v.Renamed, s.values[h.key])
		}
	}
	for _, h := range responseHeaders {
		if val := s.values[h.key]; val != "" {
			v.ResponseHeaders = append(v.ResponseHeaders, Header{h.name, val})
		}
	}
	return v
}
