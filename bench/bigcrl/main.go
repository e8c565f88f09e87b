// Command bigcrl writes a CRL with many random revoked serials, signed by
// a CA from `edge pki`, for the 1,000,000-entry CRL benchmarks.
//
//	go run ./bench/bigcrl --ca pki/intermediate --n 1000000 --out big.crl.pem
package main

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"edge/internal/pki"
)

func main() {
	ca := flag.String("ca", "", "CA file prefix (PREFIX.pem and PREFIX.key)")
	n := flag.Int("n", 1_000_000, "revoked entries")
	out := flag.String("out", "big.crl.pem", "output PEM file")
	flag.Parse()
	is, err := pki.Load(filepath.Dir(*ca), filepath.Base(*ca))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigcrl:", err)
		os.Exit(1)
	}
	now := time.Now()
	entries := make([]x509.RevocationListEntry, *n)
	for i := range entries {
		b := make([]byte, 16)
		rand.Read(b)
		entries[i] = x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(b), RevocationTime: now.Add(-time.Hour)}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(now.Unix()), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(30 * 24 * time.Hour), RevokedCertificateEntries: entries}, is.Cert, is.Key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigcrl:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bigcrl:", err)
		os.Exit(1)
	}
}
