package logfmt

import (
	"net/netip"
	"strconv"
	"time"
)

// AccessRecord is one access-log entry: one per request (one per
// WebSocket connection, written when it closes).
type AccessRecord struct {
	// Type: http, https, h2, ws or wss.
	Type string
	// Time the response was sent (WebSockets: closed).
	Time   time.Time
	ELB    string
	Client netip.AddrPort
	// Target is "host:port", empty when the request reached none.
	Target string
	// The three processing times; negative renders as -1.
	RequestProcessing, TargetProcessing, ResponseProcessing time.Duration
	ELBStatus                                               int
	// TargetStatus is 0 when the target sent no response.
	TargetStatus             int
	ReceivedBytes, SentBytes int64
	// RequestLine is `GET https://host:443/path?q HTTP/1.1`; when empty,
	// the line is built from Method, Scheme, Host, Port, URI and Proto.
	RequestLine                      string
	Method, Scheme, Host, URI, Proto string
	Port                             int
	UserAgent                        string
	// Cipher and Protocol are empty on HTTP listeners.
	Cipher, Protocol string
	TargetGroupARN   string
	TraceID          string
	DomainName       string
	ChosenCertARN    string
	// MatchedRulePriority: 0 for the default rule, -1 for ALB's
	// rule-evaluation error; any lower value renders "-" (a request
	// refused before the rules ran).
	MatchedRulePriority int
	RequestCreation     time.Time
	ActionsExecuted     string
	RedirectURL         string
	ErrorReason         string
	ConnTraceID         string
}

// AppendAccess appends r as one access-log line in ALB's 33-field order,
// newline included.
func AppendAccess(b []byte, r *AccessRecord) []byte {
	b = appendField(b, r.Type)
	b = append(b, ' ')
	b = AppendTime(b, r.Time)
	b = append(b, ' ')
	b = appendField(b, r.ELB)
	b = append(b, ' ')
	b = appendAddr(b, r.Client.Addr())
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(r.Client.Port()), 10)
	b = append(b, ' ')
	b = appendField(b, r.Target)
	b = append(b, ' ')
	b = appendProcessing(b, r.RequestProcessing)
	b = append(b, ' ')
	b = appendProcessing(b, r.TargetProcessing)
	b = append(b, ' ')
	b = appendProcessing(b, r.ResponseProcessing)
	b = append(b, ' ')
	b = appendStatus(b, r.ELBStatus)
	b = append(b, ' ')
	b = appendStatus(b, r.TargetStatus)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.ReceivedBytes, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.SentBytes, 10)
	b = append(b, ' ', '"')
	if r.RequestLine != "" {
		b = appendQuotedRaw(b, r.RequestLine)
	} else {
		// METHOD scheme://host:port/uri PROTO, from its parts.
		b = appendQuotedRaw(b, r.Method)
		b = append(b, ' ')
		b = append(b, r.Scheme...)
		b = append(b, ':', '/', '/')
		b = appendQuotedRaw(b, r.Host)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(r.Port), 10)
		b = appendQuotedRaw(b, r.URI)
		b = append(b, ' ')
		b = appendQuotedRaw(b, r.Proto)
	}
	b = append(b, '"', ' ', '"')
	b = appendQuotedRaw(b, truncate(r.UserAgent, 8192))
	b = append(b, '"', ' ')
	b = appendField(b, r.Cipher)
	b = append(b, ' ')
	b = appendField(b, r.Protocol)
	b = append(b, ' ')
	b = appendField(b, r.TargetGroupARN)
	b = append(b, ' ', '"')
	b = appendQuotedRaw(b, r.TraceID)
	b = append(b, '"', ' ', '"')
	b = appendQuotedRaw(b, r.DomainName)
	b = append(b, '"', ' ', '"')
	b = appendQuotedRaw(b, r.ChosenCertARN)
	b = append(b, '"', ' ')
	if r.MatchedRulePriority < -1 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, int64(r.MatchedRulePriority), 10)
	}
	b = append(b, ' ')
	b = AppendTime(b, r.RequestCreation)
	b = append(b, ' ', '"')
	b = appendQuotedRaw(b, r.ActionsExecuted)
	b = append(b, '"', ' ', '"')
	b = appendQuotedRaw(b, r.RedirectURL)
	b = append(b, '"', ' ', '"')
	b = appendQuotedRaw(b, r.ErrorReason)
	b = append(b, '"', ' ', '"')
	b = appendField(b, r.Target) // target:port_list
	b = append(b, '"', ' ', '"')
	if r.TargetStatus > 0 {
		b = strconv.AppendInt(b, int64(r.TargetStatus), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, `" "-" "-" `...) // classification, classification_reason
	b = appendField(b, r.ConnTraceID)
	b = append(b, ` "-" "-" "-"`...) // transformed_host, transformed_uri, request_transform_status
	return append(b, '\n')
}

// appendProcessing writes seconds with 3 decimals, or -1.
func appendProcessing(b []byte, d time.Duration) []byte {
	if d < 0 {
		return append(b, '-', '1')
	}
	return AppendSeconds(b, d)
}

func appendStatus(b []byte, code int) []byte {
	if code <= 0 {
		return append(b, '-')
	}
	return strconv.AppendInt(b, int64(code), 10)
}

// appendQuotedRaw writes the inside of a quoted field: "-" when empty;
// '"', '\' and control bytes are escaped as \xNN so the value stays one
// field.
func appendQuotedRaw(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEscape[c] {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// mustEscape marks '"', '\\' and the control bytes: one table lookup per
// byte instead of four comparisons.
var mustEscape = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c == 0x7f
	}
	return t
}()

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
