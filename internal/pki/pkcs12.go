package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// PKCS12Options say how a certificate, its key and chain are written as
// PKCS#12 (RFC 7292).
type PKCS12Options struct {
	// Password protects the file: it encrypts the key and the
	// certificates and keys the MAC.
	Password string
	// FriendlyName is the PKCS #9 friendlyName of the certificate's and
	// the key's bags: the name import tools give the identity (NSS
	// nickname, Keychain and Windows certificate store labels). Empty:
	// the certificate's common name, and no name when it has none.
	FriendlyName string
	// Legacy encodes with pbeWithSHAAnd3-KeyTripleDES-CBC for the key and
	// the certificates and an HMAC-SHA-1 MAC (OpenSSL's -legacy -descert),
	// which macOS Keychain, Windows before Server 2019 (Windows 10 1809)
	// and Java 8 need. Otherwise PBES2 (PBKDF2-HMAC-SHA-256,
	// AES-256-CBC) and an HMAC-SHA-256 MAC, OpenSSL 3's default. For
	// Dir.Client it means "write NAME-legacy.p12 as well".
	Legacy bool
}

// ErrNotBMP reports a password or friendly name with a character outside
// the Basic Multilingual Plane: PKCS#12 carries both as BMPString (UCS-2).
var ErrNotBMP = errors.New("has a character outside the Basic Multilingual Plane, which PKCS#12's BMPString cannot carry (emoji, for one)")

// OpenSSL 3's iteration count (PKCS12_DEFAULT_ITER) for the keys and the
// MAC alike; OpenSSL's salt length.
const (
	p12Iterations = 2048
	p12SaltLen    = 8
)

var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidShroudedKeyBag    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Certificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidPBEWithSHA3KeyDES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBES2             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	asn1Null             = asn1.RawValue{Tag: asn1.TagNull}
)

// RFC 7292 structures, as encoding/asn1 marshals them.
type (
	pfxPDU struct {
		Version  int
		AuthSafe contentInfo
		MacData  macData
	}
	// Content and Value are [0] EXPLICIT (see explicit0): encoding/asn1
	// writes a RawValue's FullBytes as they are, ignoring field tags.
	contentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}
	macData struct {
		Mac        digestInfo
		MacSalt    []byte
		Iterations int
	}
	digestInfo struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
	encryptedData struct {
		Version              int
		EncryptedContentInfo encryptedContentInfo
	}
	encryptedContentInfo struct {
		ContentType                asn1.ObjectIdentifier
		ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
		EncryptedContent           []byte `asn1:"tag:0"`
	}
	safeBag struct {
		ID         asn1.ObjectIdentifier
		Value      asn1.RawValue
		Attributes []p12Attribute `asn1:"set,omitempty"`
	}
	p12Attribute struct {
		ID     asn1.ObjectIdentifier
		Values asn1.RawValue // a SET OF, marshalled
	}
	certBag struct {
		ID   asn1.ObjectIdentifier
		Cert []byte `asn1:"tag:0,explicit"`
	}
	encryptedPrivateKeyInfo struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}
	pbeParams struct {
		Salt       []byte
		Iterations int
	}
	pbes2Params struct {
		KDF    pkix.AlgorithmIdentifier
		Scheme pkix.AlgorithmIdentifier
	}
	pbkdf2Params struct {
		Salt       []byte
		Iterations int
		KeyLength  int
		PRF        pkix.AlgorithmIdentifier
	}
)

// check reports a password or friendly name (cn when FriendlyName is
// empty) that PKCS12 would refuse.
func (o PKCS12Options) check(cn string) error {
	if _, err := bmpString(o.Password); err != nil {
		return fmt.Errorf("PKCS#12 password %w", err)
	}
	name := o.FriendlyName
	if name == "" {
		name = cn
	}
	if _, err := bmpString(name); err != nil {
		return fmt.Errorf("PKCS#12 friendly name %q %w", name, err)
	}
	return nil
}

// PKCS12 encodes the certificate, its key and chain (without the root)
// as PKCS#12, laid out as OpenSSL's PKCS12_create does: the certificates
// in an encrypted bag set, the leaf's bag with localKeyID (the SHA-1 of
// the certificate) and friendlyName; the key shrouded in a plain one with
// the same attributes. A password or friendly name that BMPString cannot
// carry is an error wrapping ErrNotBMP.
func (is *Issued) PKCS12(o PKCS12Options) ([]byte, error) {
	name := o.FriendlyName
	if name == "" {
		name = is.Cert.Subject.CommonName
	}
	if err := o.check(name); err != nil {
		return nil, err
	}
	bmpPassword, _ := bmpString(o.Password)
	bmpPassword = append(bmpPassword, 0, 0) // RFC 7292 B.1: NUL-terminated
	fingerprint := sha1.Sum(is.Cert.Raw)
	attrs := []p12Attribute{}
	if name != "" {
		bmpName, _ := bmpString(name)
		a, err := attribute(oidFriendlyName, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagBMPString, Bytes: bmpName})
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	keyID, err := attribute(oidLocalKeyID, fingerprint[:])
	if err != nil {
		return nil, err
	}
	attrs = append(attrs, keyID)

	var certBags []safeBag
	for i, c := range is.ChainWithoutRoot() {
		cb, err := asn1.Marshal(certBag{ID: oidX509Certificate, Cert: c.Raw})
		if err != nil {
			return nil, err
		}
		bag := safeBag{ID: oidCertBag, Value: explicit0(cb)}
		if i == 0 {
			bag.Attributes = attrs
		}
		certBags = append(certBags, bag)
	}
	certsDER, err := asn1.Marshal(certBags)
	if err != nil {
		return nil, err
	}
	alg, encrypted, err := p12Encrypt(o, bmpPassword, certsDER)
	if err != nil {
		return nil, err
	}
	ed, err := asn1.Marshal(encryptedData{EncryptedContentInfo: encryptedContentInfo{ContentType: oidData, ContentEncryptionAlgorithm: alg, EncryptedContent: encrypted}})
	if err != nil {
		return nil, err
	}

	keyDER, err := x509.MarshalPKCS8PrivateKey(is.Key)
	if err != nil {
		return nil, err
	}
	alg, encrypted, err = p12Encrypt(o, bmpPassword, keyDER)
	if err != nil {
		return nil, err
	}
	shrouded, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: alg, Data: encrypted})
	if err != nil {
		return nil, err
	}
	keyBags, err := asn1.Marshal([]safeBag{{ID: oidShroudedKeyBag, Value: explicit0(shrouded), Attributes: attrs}})
	if err != nil {
		return nil, err
	}
	keyData, err := asn1.Marshal(keyBags)
	if err != nil {
		return nil, err
	}

	authSafe, err := asn1.Marshal([]contentInfo{
		{ContentType: oidEncryptedData, Content: explicit0(ed)},
		{ContentType: oidData, Content: explicit0(keyData)},
	})
	if err != nil {
		return nil, err
	}
	// The MAC covers the authenticated safe's octets; its key comes from
	// the PKCS#12 KDF (ID 3) with the MAC's own hash.
	newHash, macAlg := sha256.New, oidSHA256
	if o.Legacy {
		newHash, macAlg = sha1.New, oidSHA1
	}
	salt, err := randomBytes(p12SaltLen)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(newHash, pkcs12KDF(newHash, 3, bmpPassword, salt, p12Iterations, newHash().Size()))
	mac.Write(authSafe)
	authSafeOctets, err := asn1.Marshal(authSafe)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pfxPDU{
		Version:  3,
		AuthSafe: contentInfo{ContentType: oidData, Content: explicit0(authSafeOctets)},
		MacData: macData{
			Mac:        digestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: macAlg, Parameters: asn1Null}, Digest: mac.Sum(nil)},
			MacSalt:    salt,
			Iterations: p12Iterations,
		},
	})
}

// explicit0 wraps DER in a [0] EXPLICIT tag.
func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

// attribute is a PKCS #9 attribute with one value.
func attribute(id asn1.ObjectIdentifier, v any) (p12Attribute, error) {
	b, err := asn1.Marshal(v)
	if err != nil {
		return p12Attribute{}, err
	}
	return p12Attribute{ID: id, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: b}}, nil
}

// p12Encrypt encrypts plain with o's algorithm and returns its
// AlgorithmIdentifier. bmpPassword is the NUL-terminated BMPString the
// PKCS#12 KDF takes; PBES2 takes the password's UTF-8 bytes (RFC 8018, as
// OpenSSL does).
func p12Encrypt(o PKCS12Options, bmpPassword, plain []byte) (pkix.AlgorithmIdentifier, []byte, error) {
	salt, err := randomBytes(p12SaltLen)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	if o.Legacy {
		key := pkcs12KDF(sha1.New, 1, bmpPassword, salt, p12Iterations, 24)
		iv := pkcs12KDF(sha1.New, 2, bmpPassword, salt, p12Iterations, des.BlockSize)
		block, err := des.NewTripleDESCipher(key)
		if err != nil {
			return pkix.AlgorithmIdentifier{}, nil, err
		}
		params, err := asn1.Marshal(pbeParams{Salt: salt, Iterations: p12Iterations})
		if err != nil {
			return pkix.AlgorithmIdentifier{}, nil, err
		}
		return pkix.AlgorithmIdentifier{Algorithm: oidPBEWithSHA3KeyDES, Parameters: asn1.RawValue{FullBytes: params}}, cbcEncrypt(block, iv, plain), nil
	}
	key, err := pbkdf2.Key(sha256.New, o.Password, salt, p12Iterations, 32)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	iv, err := randomBytes(aes.BlockSize)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	kdf, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: p12Iterations, KeyLength: 32,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1Null}})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Scheme: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}, cbcEncrypt(block, iv, plain), nil
}

// cbcEncrypt pads plain as PKCS #7 (RFC 5652 6.3) and encrypts it.
func cbcEncrypt(block cipher.Block, iv, plain []byte) []byte {
	n := block.BlockSize() - len(plain)%block.BlockSize()
	out := make([]byte, len(plain)+n)
	copy(out, plain)
	for i := len(plain); i < len(out); i++ {
		out[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, out)
	return out
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
}

// bmpString encodes s as BMPString (UTF-16 big-endian without surrogate
// pairs).
func bmpString(s string) ([]byte, error) {
	out := make([]byte, 0, 2*len(s))
	for _, r := range s {
		if r > 0xFFFF || utf16.IsSurrogate(r) {
			return nil, ErrNotBMP
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return out, nil
}

// pkcs12KDF derives n bytes for purpose id (1 key, 2 IV, 3 MAC key) from
// a NUL-terminated BMPString password and salt (RFC 7292 appendix B.2).
func pkcs12KDF(newHash func() hash.Hash, id byte, password, salt []byte, iterations, n int) []byte {
	h := newHash()
	u, v := h.Size(), h.BlockSize()
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < n {
		h.Reset()
		h.Write(d)
		h.Write(I)
		a := h.Sum(nil)
		for j := 1; j < iterations; j++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= n {
			break
		}
		// I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
		b := make([]byte, v)
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(I); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(I[j+k]) + int(b[k]) + carry
				I[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:n]
}
