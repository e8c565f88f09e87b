package truststore

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"edge/internal/pemfile"
)

// RevocationList is a CRL parsed for lookups. Go's x509.ParseRevocationList
// keeps two objects per entry (a million-entry CRL costs ~370 MB of heap);
// this parser keeps only what verification reads: the header, the
// extensions that decide the CRL's scope, and a serial index.
type RevocationList struct {
	// RawIssuer is the DER issuer name.
	RawIssuer              []byte
	ThisUpdate, NextUpdate time.Time
	// Number is the cRLNumber, nil when absent.
	Number *big.Int
	// BaseNumber is the deltaCRLIndicator's base CRL number; non-nil
	// marks a delta CRL.
	BaseNumber *big.Int
	// AuthorityKeyID is the authorityKeyIdentifier's keyIdentifier.
	AuthorityKeyID []byte
	// IDP is the issuingDistributionPoint, nil when absent.
	IDP *IssuingDistributionPoint
	// UnhandledCritical lists critical CRL or entry extensions edge does
	// not understand; RFC 5280 forbids using such a CRL.
	UnhandledCritical []string
	// SignatureAlgorithm signs the CRL.
	SignatureAlgorithm x509.SignatureAlgorithm
	// Entries is the number of revoked certificates listed.
	Entries int
	// NegativeSerials counts the entries with a negative serial number,
	// which alb mode never applies (ALB cannot revoke such certificates).
	NegativeSerials int

	tbs, signature []byte
	// verifiedBy is the issuerKey of the CA whose signature was checked
	// before the signed bytes were released.
	verifiedBy string
	// serials maps the canonical name of the certificate issuer ("" for
	// the CRL issuer itself) to serial magnitude bytes to reason code.
	serials map[string]*serialSet
}

// Reason is a CRL entry's reason code (RFC 5280 §5.3.1); 0 when absent.
type Reason uint8

// Reason codes edge treats specially.
const (
	ReasonCertificateHold Reason = 6
	ReasonRemoveFromCRL   Reason = 8
)

// IssuingDistributionPoint is the CRL extension that limits a CRL's scope.
type IssuingDistributionPoint struct {
	// FullNames are the distribution point's directory names
	// (canonical) and URIs ("uri:" prefixed).
	FullNames []string
	// RelativeName is nameRelativeToCRLIssuer, DER, when used.
	RelativeName               []byte
	OnlyContainsUserCerts      bool
	OnlyContainsCACerts        bool
	OnlyContainsAttributeCerts bool
	IndirectCRL                bool
	// OnlySomeReasons is the reasons bit string; HasReasons tells
	// whether it was present.
	OnlySomeReasons uint16
	HasReasons      bool
}

var (
	oidCRLNumber      = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidReasonCode     = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDate = asn1.ObjectIdentifier{2, 5, 29, 24}
	oidDeltaCRL       = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIDP            = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidCertIssuer     = asn1.ObjectIdentifier{2, 5, 29, 29}
	oidAKI            = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidFreshestCRL    = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidHoldInstr      = asn1.ObjectIdentifier{2, 5, 29, 23}
)

// ParseCRL reads the CRL from src (a file, an S3 object, or data that came
// without either) as ALB takes it: exactly one PEM "X509 CRL" block. A
// DER CRL, a byte-order mark, a block of another type and a file holding
// several CRLs are refused with the reason and the fix. Errors wrap
// ErrInvalidRevocationContent (and a *pemfile.Error or *MultipleCRLsError
// when one applies).
//
// The same bytes parsed again get a copy of the earlier result (see
// parsedCRLs): the ELBv2 service's check and the build that applies the
// CRL, and every reload of an unchanged CRL, parse it once.
func ParseCRL(src pemfile.Source, data []byte) (*RevocationList, error) {
	return parseCRL(src, data, sha256.Sum256(data))
}

// parseCRL is ParseCRL for data whose SHA-256 is digest.
func parseCRL(src pemfile.Source, data []byte, digest [32]byte) (*RevocationList, error) {
	if l := parsedCRLs.get(digest); l != nil {
		return l, nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrInvalidRevocationContent)
	}
	if err := pemfile.Check(src, data, pemfile.CRL, pemfile.DER, pemfile.ByteOrderMark); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRevocationContent, err)
	}
	var der []byte
	var lines []int // the line of each CRL block
	line, rest := 1, data
	for {
		b, next := pem.Decode(rest)
		if b == nil {
			break
		}
		begin := bytes.Index(rest, []byte("-----BEGIN"))
		line += bytes.Count(rest[:begin], []byte("\n"))
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("%w: line %d: PEM block is %q, want \"X509 CRL\"", ErrInvalidRevocationContent, line, b.Type)
		}
		lines = append(lines, line)
		if der == nil {
			der = b.Bytes
		}
		line += bytes.Count(rest[begin:len(rest)-len(next)], []byte("\n"))
		rest = next
	}
	switch {
	case len(lines) > 1:
		return nil, fmt.Errorf("%w: %w", ErrInvalidRevocationContent, &MultipleCRLsError{Source: src, Lines: lines})
	case der == nil && bytes.Contains(data, []byte("-----BEGIN")):
		return nil, fmt.Errorf("%w: broken PEM (no complete block)", ErrInvalidRevocationContent)
	case der == nil:
		return nil, fmt.Errorf("%w: no PEM \"X509 CRL\" block (a CRL file holds one -----BEGIN X509 CRL----- block)", ErrInvalidRevocationContent)
	}
	l, err := parseCRLDER(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRevocationContent, err)
	}
	parsedCRLs.put(digest, l, len(der))
	return l.clone(), nil
}

// MultipleCRLsError is a CRL file that holds several CRLs (the
// `cat root.crl.pem intermediate.crl.pem` habit of nginx and HAProxy).
// ALB gives each revocation file one RevocationId and one
// NumberOfRevokedEntries (AddTrustStoreRevocations, TrustStoreRevocation),
// so edge refuses such a file rather than apply only its first CRL.
type MultipleCRLsError struct {
	pemfile.Source
	// Lines are the lines of the CRLs' BEGIN lines.
	Lines []int
}

func (e *MultipleCRLsError) Error() string {
	at := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		at[i] = fmt.Sprint(l)
	}
	f := pemfile.Quote(e.Local())
	split := fmt.Sprintf("csplit -z -f crl- -b %%02d.pem %s '/-----BEGIN X509 CRL-----/' '{*}'", f)
	if !e.IsObject() {
		return fmt.Sprintf("the file holds %d CRLs (PEM blocks at lines %s); ALB takes one CRL per revocation file: split it with `%s` and list each file under revocations",
			len(e.Lines), strings.Join(at, ", "), split)
	}
	// The pieces go next to the object, each to be added as a revocation.
	dir := ""
	if i := strings.LastIndexByte(e.Key, '/'); i >= 0 {
		dir = e.Key[:i+1]
	}
	return fmt.Sprintf("the object holds %d CRLs (PEM blocks at lines %s); ALB takes one CRL per revocation file: split it with `aws s3 cp %s %s && %s && for f in crl-*.pem; do aws s3 cp \"$f\" %s\"$f\"; done` and add each object as its own revocation",
		len(e.Lines), strings.Join(at, ", "), pemfile.Quote(e.String()), f, split, pemfile.Quote("s3://"+e.Bucket+"/"+dir))
}

// ParseCRLDER parses a DER CRL. Loaders take PEM only (ParseCRL); tests
// and tools that hold DER (NIST PKITS ships DER) use this.
func ParseCRLDER(der []byte) (*RevocationList, error) {
	l, err := parseCRLDER(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRevocationContent, err)
	}
	return l, nil
}

func parseCRLDER(der []byte) (*RevocationList, error) {
	l := &RevocationList{serials: map[string]*serialSet{}}
	input := cryptobyte.String(der)
	var outer, tbs, sigAlg cryptobyte.String
	var tbsRaw cryptobyte.String
	var sig asn1.BitString
	if !input.ReadASN1(&outer, cbasn1.SEQUENCE) || !input.Empty() {
		return nil, errors.New("not a DER CRL (truncated or trailing data)")
	}
	if !outer.ReadASN1Element(&tbsRaw, cbasn1.SEQUENCE) ||
		!outer.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!outer.ReadASN1BitString(&sig) {
		return nil, errors.New("malformed CRL: expected tbsCertList, signatureAlgorithm, signature")
	}
	l.tbs, l.signature = tbsRaw, sig.RightAlign()
	l.SignatureAlgorithm = signatureAlgorithm(sigAlg)
	tbs = tbsRaw
	if !tbs.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed tbsCertList")
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		var v int
		if !tbs.ReadASN1Integer(&v) || v != 1 {
			return nil, errors.New("unsupported CRL version")
		}
	}
	var innerAlg, issuer cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) || !bytes.Equal(innerAlg, sigAlg) {
		return nil, errors.New("the inner and outer signature algorithms differ")
	}
	if !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed issuer name")
	}
	l.RawIssuer = issuer
	var err error
	if l.ThisUpdate, err = readTime(&tbs); err != nil {
		return nil, fmt.Errorf("thisUpdate: %v", err)
	}
	if tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		if l.NextUpdate, err = readTime(&tbs); err != nil {
			return nil, fmt.Errorf("nextUpdate: %v", err)
		}
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var revoked cryptobyte.String
		if !tbs.ReadASN1(&revoked, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed revokedCertificates")
		}
		if err := l.readEntries(revoked); err != nil {
			return nil, err
		}
	}
	if tbs.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		var exts cryptobyte.String
		if !tbs.ReadASN1(&exts, cbasn1.Tag(0).ContextSpecific().Constructed()) || !exts.ReadASN1(&exts, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed crlExtensions")
		}
		if err := l.readExtensions(exts); err != nil {
			return nil, err
		}
	}
	if !tbs.Empty() {
		return nil, errors.New("trailing data in tbsCertList")
	}
	return l, nil
}

func (l *RevocationList) readEntries(revoked cryptobyte.String) error {
	issuer := "" // entries belong to the CRL issuer until a certificateIssuer says otherwise
	m := newSerialSet()
	l.serials[issuer] = m
	for !revoked.Empty() {
		var entry cryptobyte.String
		var serial cryptobyte.String
		if !revoked.ReadASN1(&entry, cbasn1.SEQUENCE) || !entry.ReadASN1(&serial, cbasn1.INTEGER) {
			return fmt.Errorf("malformed revoked certificate entry #%d", l.Entries+1)
		}
		if _, err := readTime(&entry); err != nil {
			return fmt.Errorf("entry #%d revocationDate: %v", l.Entries+1, err)
		}
		var reason Reason
		if !entry.Empty() {
			var exts cryptobyte.String
			if !entry.ReadASN1(&exts, cbasn1.SEQUENCE) {
				return fmt.Errorf("malformed extensions of entry #%d", l.Entries+1)
			}
			for !exts.Empty() {
				oid, critical, val, err := readExtension(&exts)
				if err != nil {
					return fmt.Errorf("entry #%d: %v", l.Entries+1, err)
				}
				switch {
				case oid.Equal(oidReasonCode):
					var code asn1.Enumerated
					if _, err := asn1.Unmarshal(val, &code); err != nil || code < 0 || code > 10 {
						return fmt.Errorf("entry #%d: bad reasonCode", l.Entries+1)
					}
					reason = Reason(code)
				case oid.Equal(oidCertIssuer):
					name, err := directoryName(val)
					if err != nil {
						return fmt.Errorf("entry #%d certificateIssuer: %v", l.Entries+1, err)
					}
					issuer = name
					if m = l.serials[issuer]; m == nil {
						m = newSerialSet()
						l.serials[issuer] = m
					}
				case oid.Equal(oidInvalidityDate), oid.Equal(oidHoldInstr):
				default:
					if critical {
						l.UnhandledCritical = append(l.UnhandledCritical, "entry extension "+oid.String())
					}
				}
			}
		}
		if len(serial) > 0 && serial[0]&0x80 != 0 {
			l.NegativeSerials++
		}
		m.add(serialKey(serial), reason)
		l.Entries++
	}
	return nil
}

func (l *RevocationList) readExtensions(exts cryptobyte.String) error {
	for !exts.Empty() {
		oid, critical, val, err := readExtension(&exts)
		if err != nil {
			return err
		}
		switch {
		case oid.Equal(oidCRLNumber):
			l.Number = new(big.Int)
			if _, err := asn1.Unmarshal(val, &l.Number); err != nil {
				return errors.New("bad cRLNumber")
			}
		case oid.Equal(oidDeltaCRL):
			l.BaseNumber = new(big.Int)
			if _, err := asn1.Unmarshal(val, &l.BaseNumber); err != nil {
				return errors.New("bad deltaCRLIndicator")
			}
		case oid.Equal(oidAKI):
			var aki struct {
				ID []byte `asn1:"optional,tag:0"`
			}
			if _, err := asn1.Unmarshal(val, &aki); err == nil {
				l.AuthorityKeyID = aki.ID
			}
		case oid.Equal(oidIDP):
			idp, err := parseIDP(val)
			if err != nil {
				return fmt.Errorf("issuingDistributionPoint: %v", err)
			}
			l.IDP = idp
		case oid.Equal(oidFreshestCRL):
		default:
			if critical {
				l.UnhandledCritical = append(l.UnhandledCritical, "CRL extension "+oid.String())
			}
		}
	}
	return nil
}

func readExtension(s *cryptobyte.String) (oid asn1.ObjectIdentifier, critical bool, val []byte, err error) {
	var ext, value cryptobyte.String
	if !s.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
		return nil, false, nil, errors.New("malformed extension")
	}
	if ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&critical) {
		return nil, false, nil, errors.New("malformed extension criticality")
	}
	if !ext.ReadASN1(&value, cbasn1.OCTET_STRING) {
		return nil, false, nil, errors.New("malformed extension value")
	}
	return oid, critical, value, nil
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, errors.New("malformed UTCTime")
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, errors.New("malformed GeneralizedTime")
		}
	default:
		return t, errors.New("missing time")
	}
	return t, nil
}

// serialKey returns the lookup key of a DER INTEGER's content: the
// magnitude bytes, as certificates' SerialNumber.Bytes() has them, with a
// "-" in front for negative serials (which ALB cannot revoke, but which
// must never match the positive serial of the same magnitude).
func serialKey(content []byte) []byte {
	if len(content) > 0 && content[0]&0x80 != 0 {
		n := new(big.Int).SetBytes(content)
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(content))))
		return append([]byte{'-'}, n.Neg(n).Bytes()...)
	}
	for len(content) > 1 && content[0] == 0 {
		content = content[1:]
	}
	if len(content) == 1 && content[0] == 0 {
		return nil
	}
	return content
}

// certSerialKey is serialKey for a certificate's serial.
func certSerialKey(c *x509.Certificate) []byte {
	if c.SerialNumber.Sign() < 0 {
		return append([]byte{'-'}, c.SerialNumber.Bytes()...)
	}
	return c.SerialNumber.Bytes()
}

// directoryName returns the canonical form of the first directoryName in
// a DER GeneralNames.
func directoryName(der []byte) (string, error) {
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return "", err
	}
	rest := seq.Bytes
	for len(rest) > 0 {
		var gn asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
			return "", err
		}
		if gn.Class == asn1.ClassContextSpecific && gn.Tag == 4 {
			return CanonicalName(gn.Bytes), nil
		}
	}
	return "", errors.New("no directoryName")
}

// generalNames returns canonical directory names and "uri:" URIs.
func generalNames(der []byte) ([]string, error) {
	var out []string
	rest := der
	for len(rest) > 0 {
		var gn asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
			return nil, err
		}
		switch {
		case gn.Class == asn1.ClassContextSpecific && gn.Tag == 4:
			out = append(out, CanonicalName(gn.Bytes))
		case gn.Class == asn1.ClassContextSpecific && gn.Tag == 6:
			out = append(out, "uri:"+string(gn.Bytes))
		}
	}
	return out, nil
}

func parseIDP(der []byte) (*IssuingDistributionPoint, error) {
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return nil, err
	}
	idp := &IssuingDistributionPoint{}
	rest := seq.Bytes
	for len(rest) > 0 {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			return nil, err
		}
		if f.Class != asn1.ClassContextSpecific {
			return nil, errors.New("unexpected field")
		}
		boolean := len(f.Bytes) == 1 && f.Bytes[0] != 0
		switch f.Tag {
		case 0:
			if err := idp.readDPName(f.Bytes); err != nil {
				return nil, err
			}
		case 1:
			idp.OnlyContainsUserCerts = boolean
		case 2:
			idp.OnlyContainsCACerts = boolean
		case 3:
			idp.HasReasons = true
			idp.OnlySomeReasons = reasonBits(f.Bytes)
		case 4:
			idp.IndirectCRL = boolean
		case 5:
			idp.OnlyContainsAttributeCerts = boolean
		}
	}
	return idp, nil
}

// readDPName reads a DistributionPointName: fullName [0] or
// nameRelativeToCRLIssuer [1].
func (idp *IssuingDistributionPoint) readDPName(der []byte) error {
	var n asn1.RawValue
	if _, err := asn1.Unmarshal(der, &n); err != nil {
		return err
	}
	switch n.Tag {
	case 0:
		names, err := generalNames(n.Bytes)
		idp.FullNames = names
		return err
	case 1:
		idp.RelativeName = n.FullBytes
	}
	return nil
}

// reasonBits decodes a ReasonFlags BIT STRING body (first byte: unused
// bits) into bits where bit i is reason i.
func reasonBits(b []byte) uint16 {
	var out uint16
	if len(b) < 2 {
		return 0
	}
	for i, by := range b[1:] {
		for j := 0; j < 8; j++ {
			if by&(0x80>>j) != 0 && i*8+j < 16 {
				out |= 1 << (i*8 + j)
			}
		}
	}
	return out
}

// indirectEntries reports whether an entry names a certificate issuer
// (certificateIssuer), as only indirect CRLs may.
func (l *RevocationList) indirectEntries() bool {
	for issuer := range l.serials {
		if issuer != "" {
			return true
		}
	}
	return false
}

// Lookup reports whether the CRL lists serial for a certificate whose
// issuer has the canonical name issuer; direct must be set when that
// issuer is the CRL's own issuer, whose entries need no
// certificateIssuer extension.
func (l *RevocationList) Lookup(issuer string, direct bool, serial []byte) (Reason, bool) {
	if direct {
		if r, ok := l.serials[""].get(serial); ok {
			return r, true
		}
	}
	if issuer == "" {
		return 0, false
	}
	// An indirect CRL may also name the CRL issuer in a certificateIssuer
	// entry extension.
	r, ok := l.serials[issuer].get(serial)
	return r, ok
}

// CheckSignatureFrom verifies that ca signed the CRL, with the check
// RFC 5280 puts on a CRL issuer's certificate: a key usage, when present,
// must allow cRLSign. (A dedicated CRL-signing certificate need not be a
// CA certificate.)
func (l *RevocationList) CheckSignatureFrom(ca *x509.Certificate) error {
	if ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return errors.New("the signer's key usage does not allow cRLSign")
	}
	if l.SignatureAlgorithm == x509.UnknownSignatureAlgorithm {
		return errors.New("unknown signature algorithm")
	}
	if l.tbs == nil {
		if l.verifiedBy == issuerKey(ca) {
			return nil
		}
		return errors.New("the CRL's signed bytes were released after checking another signer")
	}
	return ca.CheckSignature(l.SignatureAlgorithm, l.tbs, l.signature)
}

// signatureAlgorithm maps a DER AlgorithmIdentifier to Go's constant.
func signatureAlgorithm(der []byte) x509.SignatureAlgorithm {
	for _, a := range sigAlgs {
		if bytes.Equal(der, a.der) {
			return a.algo
		}
	}
	// Some encoders omit the NULL parameters of RSA algorithms.
	var ai struct {
		Algorithm asn1.ObjectIdentifier
		Params    asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &ai); err == nil {
		for _, a := range sigAlgs {
			if a.oid.Equal(ai.Algorithm) && !a.pss {
				return a.algo
			}
		}
	}
	return x509.UnknownSignatureAlgorithm
}

type sigAlg struct {
	algo x509.SignatureAlgorithm
	oid  asn1.ObjectIdentifier
	der  []byte
	pss  bool
}

var sigAlgs = func() []sigAlg {
	null := asn1.NullRawValue
	absent := asn1.RawValue{}
	mk := func(algo x509.SignatureAlgorithm, oid asn1.ObjectIdentifier, params asn1.RawValue, pss bool) sigAlg {
		var der []byte
		if len(params.FullBytes) > 0 || params.Tag != 0 {
			der, _ = asn1.Marshal(struct {
				Algorithm asn1.ObjectIdentifier
				Params    asn1.RawValue
			}{oid, params})
		} else {
			der, _ = asn1.Marshal(struct{ Algorithm asn1.ObjectIdentifier }{oid})
		}
		return sigAlg{algo, oid, der, pss}
	}
	pssParams := func(hashOID asn1.ObjectIdentifier, salt int) asn1.RawValue {
		hashAI, _ := asn1.Marshal(struct {
			A asn1.ObjectIdentifier
			P asn1.RawValue
		}{hashOID, null})
		mgf, _ := asn1.Marshal(struct {
			A asn1.ObjectIdentifier
			P asn1.RawValue
		}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}, asn1.RawValue{FullBytes: hashAI}})
		p, _ := asn1.Marshal(struct {
			H asn1.RawValue `asn1:"explicit,tag:0"`
			M asn1.RawValue `asn1:"explicit,tag:1"`
			S int           `asn1:"explicit,tag:2"`
		}{asn1.RawValue{FullBytes: hashAI}, asn1.RawValue{FullBytes: mgf}, salt})
		return asn1.RawValue{FullBytes: p}
	}
	rsa := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, n} }
	ec := func(n ...int) asn1.ObjectIdentifier { return append(asn1.ObjectIdentifier{1, 2, 840, 10045, 4}, n...) }
	pssOID := rsa(10)
	return []sigAlg{
		mk(x509.MD5WithRSA, rsa(4), null, false),
		mk(x509.SHA1WithRSA, rsa(5), null, false),
		mk(x509.SHA256WithRSA, rsa(11), null, false),
		mk(x509.SHA384WithRSA, rsa(12), null, false),
		mk(x509.SHA512WithRSA, rsa(13), null, false),
		mk(x509.SHA256WithRSAPSS, pssOID, pssParams(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, 32), true),
		mk(x509.SHA384WithRSAPSS, pssOID, pssParams(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, 48), true),
		mk(x509.SHA512WithRSAPSS, pssOID, pssParams(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, 64), true),
		mk(x509.DSAWithSHA1, asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}, absent, false),
		mk(x509.DSAWithSHA256, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2}, absent, false),
		mk(x509.ECDSAWithSHA1, ec(1), absent, false),
		mk(x509.ECDSAWithSHA256, ec(3, 2), absent, false),
		mk(x509.ECDSAWithSHA384, ec(3, 3), absent, false),
		mk(x509.ECDSAWithSHA512, ec(3, 4), absent, false),
		mk(x509.PureEd25519, asn1.ObjectIdentifier{1, 3, 101, 112}, absent, false),
	}
}()

// release drops the signed bytes once signer's signature has been checked,
// so a large CRL file can be collected.
func (l *RevocationList) release(signer *x509.Certificate) {
	l.verifiedBy = issuerKey(signer)
	l.tbs, l.signature = nil, nil
}

// serialSet indexes revoked serials. Serials of up to 20 bytes (all that
// RFC 5280 allows) are keys of a map without pointers, which the garbage
// collector does not scan: a million-entry CRL then costs no GC work on
// every cycle of a busy server. Longer serials go to a string map.
type serialSet struct {
	short map[[21]byte]Reason // [0] is the length
	long  map[string]Reason
}

func newSerialSet() *serialSet { return &serialSet{short: map[[21]byte]Reason{}} }

func shortKey(serial []byte) (k [21]byte, ok bool) {
	if len(serial) > 20 {
		return k, false
	}
	k[0] = byte(len(serial))
	copy(k[1:], serial)
	return k, true
}

func (s *serialSet) add(serial []byte, r Reason) {
	if k, ok := shortKey(serial); ok {
		s.short[k] = r
		return
	}
	if s.long == nil {
		s.long = map[string]Reason{}
	}
	s.long[string(serial)] = r
}

// get is nil-safe: a missing issuer has no serials.
func (s *serialSet) get(serial []byte) (Reason, bool) {
	if s == nil {
		return 0, false
	}
	if k, ok := shortKey(serial); ok {
		r, found := s.short[k]
		return r, found
	}
	r, found := s.long[string(serial)]
	return r, found
}
