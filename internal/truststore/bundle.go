package truststore

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"

	"fmt"
	"strings"

	"edge/internal/certfmt"
	"edge/internal/pemfile"
)

// ALB's CA bundle limits (Elastic Load Balancing quotas: "CA certificate
// size" and "CA certificates per trust store").
const (
	MaxBundleCertificates = 25
	MaxCACertificateSize  = 16 * 1024 // bytes of DER
)

// BundleProblem is one reason a bundle is rejected. Line is 1-based and 0
// when the problem is not tied to a line; Index is the 1-based position of
// the certificate it concerns, 0 for problems outside any certificate.
type BundleProblem struct {
	Line   int
	Index  int
	Reason string
	// Err is the typed cause when there is one (a *pemfile.Error for a
	// DER file, a byte-order mark, a text dump or trailing spaces).
	Err error
}

func (p BundleProblem) String() string {
	switch {
	case p.Index > 0 && p.Line > 0:
		return fmt.Sprintf("line %d: certificate #%d: %s", p.Line, p.Index, p.Reason)
	case p.Index > 0:
		return fmt.Sprintf("certificate #%d: %s", p.Index, p.Reason)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	}
	return p.Reason
}

// BundleError lists every problem found in a bundle; ALB reports them all
// as InvalidCaCertificatesBundle.
type BundleError struct {
	Problems []BundleProblem
}

func (e *BundleError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "InvalidCaCertificatesBundle: " + strings.Join(parts, "; ")
}

// Unwrap returns the typed causes of the problems, for errors.As.
func (e *BundleError) Unwrap() []error {
	var out []error
	for _, p := range e.Problems {
		if p.Err != nil {
			out = append(out, p.Err)
		}
	}
	return out
}

const (
	beginCert = "-----BEGIN CERTIFICATE-----"
	endCert   = "-----END CERTIFICATE-----"
)

// ParseBundle parses the CA bundle read from src with ALB's rules: PEM
// certificates only, no blank lines, comment lines start with '#' and
// contain no '-', every certificate is an X.509v3 CA certificate that
// meets ALB's certificate requirements (see caRequirement), at most 25
// certificates of at most 16 KB. A DER file, a byte-order mark, text
// outside the blocks (an `openssl x509 -text` dump) and trailing spaces
// are each reported once, with the command that fixes them. On failure
// the error is a *BundleError naming every problem.
func ParseBundle(src pemfile.Source, data []byte) ([]*x509.Certificate, error) {
	var (
		problems  []BundleProblem
		certs     []*x509.Certificate
		inBlock   bool
		skipUntil string // END line of a non-certificate block being skipped
		blockLine int
		b64       bytes.Buffer
		index     int
	)
	add := func(line, idx int, format string, args ...any) {
		problems = append(problems, BundleProblem{Line: line, Index: idx, Reason: fmt.Sprintf(format, args...)})
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil, &BundleError{[]BundleProblem{{Reason: "bundle is empty; it must contain at least one CA certificate"}}}
	}
	reportedText := false
	for _, m := range pemfile.Scan(data) {
		e := &pemfile.Error{Source: src, Want: pemfile.Certificate, Mistake: m}
		line := 0
		switch m.Kind {
		case pemfile.DER:
		case pemfile.ByteOrderMark:
			line = 1
		default:
			line = m.Lines[0].First
		}
		problems = append(problems, BundleProblem{Line: line, Reason: e.Error(), Err: e})
		switch m.Kind {
		case pemfile.DER, pemfile.ByteOrderMark:
			return nil, &BundleError{Problems: problems} // nothing else can be read
		case pemfile.TextOutsideBlocks:
			reportedText = true
		}
	}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		// CR and trailing blanks: the latter are reported once above.
		line = strings.TrimRight(strings.TrimSuffix(line, "\r"), " \t")
		if line == "" {
			add(n, 0, "blank line (ALB rejects bundles that contain blank lines)")
			continue
		}
		if skipUntil != "" {
			if line == skipUntil {
				skipUntil = ""
			}
			continue
		}
		if inBlock {
			switch {
			case line == endCert:
				inBlock = false
				index++
				if c := checkCA(b64.Bytes(), blockLine, index, add); c != nil {
					certs = append(certs, c)
				}
				b64.Reset()
			case strings.HasPrefix(line, "-----"):
				add(n, index+1, "unexpected %q inside a certificate block", line)
			default:
				b64.WriteString(strings.TrimSpace(line))
			}
			continue
		}
		switch {
		case line == beginCert:
			inBlock, blockLine = true, n
		case strings.HasPrefix(line, "-----BEGIN "):
			add(n, 0, "PEM block %q is not allowed; a bundle holds only CERTIFICATE blocks", strings.Trim(line, "-"))
			skipUntil = "-----END " + strings.TrimPrefix(line, "-----BEGIN ")
		case line[0] == '#':
			if strings.Contains(line, "-") {
				add(n, 0, "comment contains '-' (ALB allows '#' comments only without '-')")
			}
		case !reportedText:
			add(n, 0, "text outside a PEM block (ALB allows only certificates and '#' comments)")
		}
	}
	if inBlock {
		add(blockLine, index+1, "certificate block has no %q line", endCert)
	}
	if index > MaxBundleCertificates {
		add(0, 0, "bundle has %d certificates; ALB allows at most %d per trust store", index, MaxBundleCertificates)
	}
	if index == 0 && len(problems) == 0 {
		add(0, 0, "bundle contains no certificate")
	}
	if len(problems) > 0 {
		return nil, &BundleError{Problems: problems}
	}
	return certs, nil
}

// checkCA decodes one certificate block and applies ALB's per-certificate
// rules, reporting problems through add.
func checkCA(b64 []byte, line, index int, add func(line, idx int, format string, args ...any)) *x509.Certificate {
	der := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(der, b64)
	if err != nil {
		add(line, index, "invalid base64: %v", err)
		return nil
	}
	der = der[:n]
	if len(der) > MaxCACertificateSize {
		add(line, index, "certificate is %d bytes; ALB allows at most %d", len(der), MaxCACertificateSize)
		return nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		add(line, index, "cannot parse certificate: %v", err)
		return nil
	}
	if why := versionRule(c); why != "" {
		add(line, index, "%s %s", subjectOf(c), why)
		return nil
	}
	if !c.BasicConstraintsValid || !c.IsCA {
		add(line, index, "%s is not a CA certificate (basicConstraints CA:TRUE is missing)", subjectOf(c))
		return nil
	}
	ok := true
	if why := keyRule(c); why != "" {
		add(line, index, "%s %s", subjectOf(c), why)
		ok = false
	}
	// A self-signed root's own signature is never verified (RFC 5280
	// §6.1.1 (d) takes a trust anchor as a name and a key); Store.Notes
	// says when it uses an algorithm ALB lists as unsupported.
	if why := signatureRule(c); why != "" && !selfSigned(c) {
		add(line, index, "%s %s", subjectOf(c), why)
		ok = false
	}
	if !ok {
		return nil
	}
	return c
}

func subjectOf(c *x509.Certificate) string {
	return fmt.Sprintf("%q", certfmt.DN(c.RawSubject))
}
