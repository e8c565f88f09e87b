package truststore

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"

	"edge/internal/pemfile"
)

// The loader: `edge check`, `edge serve` (the build and its reloads),
// `edge verify` and the admin API read bundles and CRLs through these
// functions, so every path applies the same rules and limits.

// LoadBundle reads and parses the CA bundle at path (ParseBundle). It
// returns the file's bytes too, for a trust store's version hash. A read
// error is returned as is (an *os.PathError); a bad bundle is a
// *BundleError.
func LoadBundle(path string) ([]*x509.Certificate, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	cas, err := ParseBundle(pemfile.File(path), data)
	return cas, data, err
}

// LoadCRL reads the CRL file at path with ALB's rules: at most
// MaxRevocationFileSize bytes (checked before reading), one PEM CRL
// (ParseCRL). A read error is returned as is (an *os.PathError); every
// other error wraps ErrInvalidRevocationContent.
func LoadCRL(path string) (RevocationInput, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxRevocationFileSize {
		return RevocationInput{}, fileTooLarge(fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return RevocationInput{}, err
	}
	return ReadCRL(path, data)
}

// ReadCRL applies LoadCRL's rules to a CRL that is already in memory,
// such as an admin API upload; file names it in messages ("" when it has
// no file). The input's Source is file.
func ReadCRL(file string, data []byte) (RevocationInput, error) {
	if len(data) > MaxRevocationFileSize {
		return RevocationInput{}, fileTooLarge(int64(len(data)))
	}
	digest := sha256.Sum256(data)
	l, err := parseCRL(pemfile.File(file), data, digest)
	if err != nil {
		return RevocationInput{}, err
	}
	return RevocationInput{Source: file, List: l, Digest: digest}, nil
}

func fileTooLarge(n int64) error {
	return fmt.Errorf("%w: the CRL file is %d bytes; ALB allows at most 50 MB (%d bytes)", ErrInvalidRevocationContent, n, MaxRevocationFileSize)
}
