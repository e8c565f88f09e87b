package truststore

import (
	"encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var oidDSA = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}

// ClassifyUnparseable returns the status ALB would log for a certificate
// Go cannot parse: ClientCertTypeUnsupported when its key is DSA (ALB
// accepts only RSA and ECDSA, and Go cannot parse DSA keys that inherit
// their parameters), ClientCertInvalid otherwise.
func ClassifyUnparseable(der []byte) Status {
	s := cryptobyte.String(der)
	var cert, tbs, spki, algo cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!tbs.SkipASN1(cbasn1.INTEGER) || // serial
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // signature
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // issuer
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // validity
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // subject
		!tbs.ReadASN1(&spki, cbasn1.SEQUENCE) ||
		!spki.ReadASN1(&algo, cbasn1.SEQUENCE) ||
		!algo.ReadASN1ObjectIdentifier(&oid) {
		return ClientCertInvalid
	}
	if oid.Equal(oidDSA) {
		return ClientCertTypeUnsupported
	}
	return ClientCertInvalid
}
