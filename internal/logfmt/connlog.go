// Package logfmt renders ALB log lines and writes them to their
// destinations. A line is a record rendered by one pure function that owns
// quoting and escaping; writers (stdout, stderr, file) are separate.
package logfmt

import (
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
)

// ConnRecord is one connection-log entry: one per connection attempt,
// successful or not. Empty strings and zero values render as ALB's "-".
type ConnRecord struct {
	// Time the connection was established or failed.
	Time       time.Time
	ClientAddr netip.AddrPort
	// ListenerPort is the port the listener is configured with.
	ListenerPort int
	// Protocol ("TLSv1.3") and Cipher (OpenSSL name); empty for non-TLS
	// connections or when the handshake ended before they were chosen.
	Protocol, Cipher string
	// Latency of the handshake; negative means "-" (non-TLS or failed).
	Latency time.Duration
	// Subject (RFC 4514), Validity and Serial of the leaf client
	// certificate, already formatted; empty when there was none.
	Subject, Validity, Serial string
	// Status is the tls_verify_status token ("Success", "Failed:...", "-").
	Status string
	// TraceID is the conn_trace_id, "TID_" + 32 lowercase hex.
	TraceID string
	// KeyExchange is the negotiated group ("x25519", "secp256r1", ...).
	KeyExchange string
	// ELB is the load balancer id, "app/<name>/<16 hex>".
	ELB string
	// ListenerIP is the IP address of the node that took the connection.
	ListenerIP netip.Addr
}

// AppendConn appends r as one connection-log line, newline included, in
// ALB's 15-field order:
//
//	time client_ip client_port listener_port tls_protocol tls_cipher
//	tls_handshake_latency "leaf_client_cert_subject" leaf_client_cert_validity
//	leaf_client_cert_serial_number tls_verify_status conn_trace_id
//	tls_keyexchange elb ip_address
func AppendConn(b []byte, r *ConnRecord) []byte {
	b = AppendTime(b, r.Time)
	b = append(b, ' ')
	b = appendAddr(b, r.ClientAddr.Addr())
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.ClientAddr.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.ListenerPort), 10)
	b = append(b, ' ')
	b = appendField(b, r.Protocol)
	b = append(b, ' ')
	b = appendField(b, r.Cipher)
	b = append(b, ' ')
	b = AppendSeconds(b, r.Latency)
	b = append(b, ' ', '"')
	b = appendQuoted(b, r.Subject)
	b = append(b, '"', ' ')
	b = appendField(b, r.Validity)
	b = append(b, ' ')
	b = appendField(b, r.Serial)
	b = append(b, ' ')
	b = appendField(b, r.Status)
	b = append(b, ' ')
	b = appendField(b, r.TraceID)
	b = append(b, ' ')
	b = appendField(b, r.KeyExchange)
	b = append(b, ' ')
	b = appendField(b, r.ELB)
	b = append(b, ' ')
	b = appendAddr(b, r.ListenerIP)
	return append(b, '\n')
}

// AppendTime appends t in UTC as 2006-01-02T15:04:05.000000Z without the
// general layout machinery of time.AppendFormat (it runs twice per
// request). The part up to the seconds is formatted once per second.
func AppendTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	p := lastSecond.Load()
	if p == nil || p.unix != sec {
		p = &secondPrefix{unix: sec}
		p.text = appendSecond(p.buf[:0], t)
		lastSecond.Store(p)
	}
	b = append(b, p.text...)
	b = appendInt(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// secondPrefix is "2006-01-02T15:04:05." for one second.
type secondPrefix struct {
	unix int64
	text []byte
	buf  [24]byte
}

var lastSecond atomic.Pointer[secondPrefix]

func appendSecond(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	b = appendInt(b, year, 4)
	b = append(b, '-')
	b = appendInt(b, int(month), 2)
	b = append(b, '-')
	b = appendInt(b, day, 2)
	b = append(b, 'T')
	b = appendInt(b, hour, 2)
	b = append(b, ':')
	b = appendInt(b, min, 2)
	b = append(b, ':')
	b = appendInt(b, sec, 2)
	return append(b, '.')
}

// appendInt appends v (non-negative) zero-padded to width digits.
func appendInt(b []byte, v, width int) []byte {
	var d [8]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

// AppendSeconds appends d in seconds with millisecond precision ("0.004"),
// or "-" when d is negative.
func AppendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 {
		return append(b, '-')
	}
	ms := (d + 500*time.Microsecond) / time.Millisecond
	b = strconv.AppendInt(b, int64(ms/1000), 10)
	b = append(b, '.')
	frac := ms % 1000
	b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, '-')
	}
	return a.Unmap().AppendTo(b)
}

// appendField appends an unquoted field. Such fields are produced by edge
// itself, but a stray space or control byte would shift every later
// column, so they are replaced rather than trusted.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	n := len(b)
	b = append(b, s...)
	for i := n; i < len(b); i++ {
		if notInField[b[i]] {
			b[i] = '_'
		}
	}
	return b
}

// notInField marks the bytes appendField replaces.
var notInField = func() (t [256]bool) {
	for c := range t {
		t[c] = c <= ' ' || c == '"' || c == 0x7f
	}
	return t
}()

// appendQuoted appends the inside of a double-quoted field: "-" when empty;
// '"', '\' before '"', and control bytes are written as RFC 4514 hex escapes
// (\22, \0A) so the value stays one field and a valid DN.
func appendQuoted(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '"':
			b = append(b, '\\', '2', '2')
			i++
		case c == '"' || c < 0x20 || c == 0x7f:
			b = append(b, '\\', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
