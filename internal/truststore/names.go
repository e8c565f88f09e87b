package truststore

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// CanonicalName renders a DER Name for comparison as RFC 5280 §7.1 asks:
// string attribute values are compared case-insensitively with leading,
// trailing and repeated inner spaces ignored, whatever their string type;
// the order of attributes inside a multi-valued RDN does not matter.
// Unparseable names compare by their bytes.
func CanonicalName(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return "raw:" + hex.EncodeToString(raw)
	}
	var b strings.Builder
	for i, rdn := range seq {
		if i > 0 {
			b.WriteByte('/')
		}
		atvs := make([]string, len(rdn))
		for j, atv := range rdn {
			v, ok := atv.Value.(string)
			if ok {
				v = strings.ToLower(strings.Join(strings.Fields(v), " "))
			} else {
				v = fmt.Sprintf("#%v", atv.Value)
			}
			atvs[j] = atv.Type.String() + "=" + v
		}
		sort.Strings(atvs)
		b.WriteString(strings.Join(atvs, "+"))
	}
	return b.String()
}
