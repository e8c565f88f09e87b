// Package certfmt renders certificate fields the way ALB writes them in
// connection logs and X-Amzn-Mtls-* headers: RFC 4514 distinguished names
// (most specific RDN first), uppercase hex serials and NotBefore/NotAfter
// validity strings.
package certfmt

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"time"
)

// DN renders a DER-encoded Name (a certificate's RawSubject or RawIssuer)
// in RFC 4514 form: RDNs in reverse ASN.1 order (CN first for the usual
// C,ST,L,O,OU,CN order), ',' without spaces, special characters escaped,
// attribute order and multi-valued RDNs kept as encoded. Go's
// pkix.Name.String() would rebuild the name from parsed fields and lose
// that order, so the raw bytes are parsed here instead.
func DN(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return ""
	}
	return seq.String()
}

// AppendSerial appends the serial number as ALB writes it: uppercase hex of
// the magnitude's big-endian bytes, always an even number of digits
// ("02", "01C0FFEE"). Zero is "00".
func AppendSerial(dst []byte, c *x509.Certificate) []byte {
	b := c.SerialNumber.Bytes() // magnitude; sign is dropped
	if len(b) == 0 {
		return append(dst, "00"...)
	}
	const digits = "0123456789ABCDEF"
	for _, x := range b {
		dst = append(dst, digits[x>>4], digits[x&0xf])
	}
	return dst
}

// Serial returns AppendSerial as a string.
func Serial(c *x509.Certificate) string { return string(AppendSerial(nil, c)) }

// AppendValidity appends "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z".
func AppendValidity(dst []byte, c *x509.Certificate) []byte {
	dst = append(dst, "NotBefore="...)
	dst = c.NotBefore.UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, ";NotAfter="...)
	return c.NotAfter.UTC().AppendFormat(dst, time.RFC3339)
}

// Validity returns AppendValidity as a string.
func Validity(c *x509.Certificate) string { return string(AppendValidity(nil, c)) }

// URLEncodePEM returns the certificates as PEM, URL-encoded the way ALB's
// published X-Amzn-Mtls-Clientcert examples are: letters, digits and
// "-_.~+/" stay, everything else (space, newline, '=') becomes %XX with
// uppercase hex.
func URLEncodePEM(certs ...*x509.Certificate) string {
	var p []byte
	for _, c := range certs {
		p = append(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return URLEncode(p)
}

// URLEncode is the encoding of URLEncodePEM for any bytes.
func URLEncode(p []byte) string {
	b := make([]byte, 0, len(p)+len(p)/8)
	const hex = "0123456789ABCDEF"
	for _, ch := range p {
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

// HeaderSafe makes a DN usable as an HTTP header value: control
// characters, which RFC 4514 strings may hold but headers may not, become
// RFC 4514 hex escapes (\0A).
func HeaderSafe(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			b = append(b, '\\', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}
