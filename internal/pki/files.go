package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"edge/internal/pemfile"
)

// CertPEM encodes certificates as concatenated PEM blocks, in order.
func CertPEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// KeyPEM encodes a private key as PKCS#8 PEM ("PRIVATE KEY"), which curl,
// openssl, nginx and Go all read.
func KeyPEM(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// CertificateError is a CERTIFICATE block that x509.ParseCertificate
// refuses. Index is its 1-based position among the file's certificates.
type CertificateError struct {
	Index int
	DER   []byte
	Err   error
}

func (e *CertificateError) Error() string { return fmt.Sprintf("certificate #%d: %v", e.Index, e.Err) }

func (e *CertificateError) Unwrap() error { return e.Err }

// ParseCertsPEM reads every CERTIFICATE block in data, skipping other
// blocks. A block that does not parse is a *CertificateError.
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	var others []string
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			others = addType(others, b.Type)
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return out, &CertificateError{Index: len(out) + 1, DER: b.Bytes, Err: err}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		if len(others) > 0 {
			return nil, fmt.Errorf("no PEM CERTIFICATE block: the file holds %s (is it the wrong file?)", strings.Join(others, ", "))
		}
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return out, nil
}

// addType adds a PEM block type to a list of distinct "TYPE" names.
func addType(types []string, t string) []string {
	q := fmt.Sprintf("%q", t)
	for _, have := range types {
		if have == q {
			return types
		}
	}
	return append(types, q)
}

// ErrEncryptedKey reports a password-protected private key: edge, like
// ACM's ImportCertificate, takes unencrypted keys only.
var ErrEncryptedKey = errors.New("the private key is encrypted")

// ReadCertsPEM is ParseCertsPEM for the contents of a file the user named
// (a server certificate, its chain, a client chain for edge verify): a
// DER file or a byte-order mark is a *pemfile.Error that says how to
// convert the file. Text around the blocks and trailing spaces are
// accepted, as OpenSSL and Go accept them.
func ReadCertsPEM(file string, data []byte) ([]*x509.Certificate, error) {
	if err := pemfile.Check(pemfile.File(file), data, pemfile.Certificate, pemfile.DER, pemfile.ByteOrderMark); err != nil {
		return nil, err
	}
	return ParseCertsPEM(data)
}

// ParseKeyPEM reads the first private key block (PKCS#8, PKCS#1 or SEC 1).
// An encrypted key (PKCS#8 "ENCRYPTED PRIVATE KEY" or a legacy
// "Proc-Type: 4,ENCRYPTED" block) is an error wrapping ErrEncryptedKey.
func ParseKeyPEM(data []byte) (crypto.Signer, error) {
	var others []string
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			if len(others) > 0 {
				return nil, fmt.Errorf("no PEM private key block: the file holds %s (is it the wrong file?)", strings.Join(others, ", "))
			}
			return nil, errors.New("no PEM private key block")
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("%w (PEM %q): edge, like ACM, needs it unencrypted; decrypt it with: openssl pkey -in key.pem -out key-decrypted.pem (and keep the result private)", ErrEncryptedKey, b.Type)
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			others = addType(others, b.Type)
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
		return s, nil
	}
}

// WriteFile writes data to path, creating parent directories. Private keys
// are written with mode 0600. An existing file is an error unless force.
func WriteFile(path string, data []byte, private, force bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if private {
		mode = 0o600
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists (use --force to overwrite)", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if private {
		// O_CREATE does not change the mode of an existing file.
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// Save writes name.pem (certificate, then its chain without the root) and
// name.key into dir: the one-file form a TLS server loads, for tests. The
// files users get (edge pki, the dev PKI, edge demo) follow Dir's naming
// rule instead.
func (is *Issued) Save(dir, name string, force bool) error {
	key, err := KeyPEM(is.Key)
	if err != nil {
		return err
	}
	if err := WriteFile(filepath.Join(dir, name+".pem"), CertPEM(is.ChainWithoutRoot()...), false, force); err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, name+".key"), key, true, force)
}

// Load reads name.pem and name.key from dir, as written by Save.
func Load(dir, name string) (*Issued, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, name+".pem"))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertsPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name+".pem"), err)
	}
	key, err := ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name+".key"), err)
	}
	return &Issued{Cert: certs[0], Key: key, Chain: certs[1:]}, nil
}
