package apigateway

import (
	"fmt"
	"strings"

	"edge/internal/suggest"
)

// CLFFormat is the API Gateway console's "CLF" access-log preset.
const CLFFormat = `$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId`

// DefaultAccessLogFormat is what edge writes for a stage without
// accessLogSettings.format: the CLF preset followed by the client
// certificate's subject, issuer and serial (the mTLS variables of the
// knowledge-center advice on mTLS 403s).
const DefaultAccessLogFormat = CLFFormat + ` "$context.identity.clientCert.subjectDN" "$context.identity.clientCert.issuerDN" $context.identity.clientCert.serialNumber $context.error.message`

// AccessLogFormat is a parsed access-log template: literal text and
// $context variables.
type AccessLogFormat struct {
	parts []logPart
}

type logPart struct {
	lit string
	// v is the variable name after "$context." ("" for a literal).
	v string
}

// MaxAccessLogFormat bounds a template's length (API Gateway: 3 KB).
const MaxAccessLogFormat = 3 << 10

// ParseAccessLogFormat parses an access-log template: $context.NAME (NAME
// of letters, digits, '_' and '.', not ending in '.') is a variable; all
// else is literal. An unknown variable is an error naming the nearest
// known one.
func ParseAccessLogFormat(s string) (*AccessLogFormat, error) {
	if len(s) > MaxAccessLogFormat {
		return nil, fmt.Errorf("the format is %d bytes; the limit is %d", len(s), MaxAccessLogFormat)
	}
	const prefix = "$context."
	f := &AccessLogFormat{}
	lit := strings.Builder{}
	for i := 0; i < len(s); {
		if !strings.HasPrefix(s[i:], prefix) {
			lit.WriteByte(s[i])
			i++
			continue
		}
		j := i + len(prefix)
		k := j
		for k < len(s) && (isNameByte(s[k])) {
			k++
		}
		for k > j && s[k-1] == '.' {
			k--
		}
		name := s[j:k]
		if name == "" {
			return nil, fmt.Errorf("$context. at byte %d is not followed by a variable name", i)
		}
		if !contextVariables[name] {
			return nil, fmt.Errorf("unknown variable $context.%s (did you mean $context.%s?)", name, suggest.Nearest(name, contextVariableNames()))
		}
		if lit.Len() > 0 {
			f.parts = append(f.parts, logPart{lit: lit.String()})
			lit.Reset()
		}
		f.parts = append(f.parts, logPart{v: name})
		i = k
	}
	if lit.Len() > 0 {
		f.parts = append(f.parts, logPart{lit: lit.String()})
	}
	return f, nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// Variables lists the template's variable names (without "$context.").
func (f *AccessLogFormat) Variables() []string {
	var out []string
	for _, p := range f.parts {
		if p.v != "" {
			out = append(out, p.v)
		}
	}
	return out
}

// appendLine renders one line (no trailing newline): a variable without a
// value is "-", as in API Gateway; control characters (the PEM's line
// breaks) are written as \n, \r, \t or \xNN so a line stays one line.
func (f *AccessLogFormat) appendLine(b []byte, c *reqContext) []byte {
	for _, p := range f.parts {
		if p.v == "" {
			b = append(b, p.lit...)
			continue
		}
		v := c.value(p.v)
		if v == "" {
			b = append(b, '-')
			continue
		}
		for i := 0; i < len(v); i++ {
			switch ch := v[i]; {
			case ch == '\n':
				b = append(b, '\\', 'n')
			case ch == '\r':
				b = append(b, '\\', 'r')
			case ch == '\t':
				b = append(b, '\\', 't')
			case ch < 0x20 || ch == 0x7f:
				b = append(b, fmt.Sprintf(`\x%02x`, ch)...)
			default:
				b = append(b, ch)
			}
		}
	}
	return b
}
