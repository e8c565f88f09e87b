package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"edge/internal/certfmt"
	"edge/internal/pki"
	"edge/internal/truststore"
)

type verifyCert struct {
	Depth     int    `json:"depth"`
	Subject   string `json:"subject"`
	Issuer    string `json:"issuer"`
	Serial    string `json:"serial"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
	// Source is "presented" (sent by the client) or "trust store".
	Source string `json:"source"`
}

type verifyResult struct {
	Status string `json:"tls_verify_status"`
	// Check names the check that decided a failure.
	Check  string       `json:"failed_check,omitempty"`
	Detail string       `json:"detail"`
	Failed *verifyCert  `json:"failed_certificate,omitempty"`
	Chain  []verifyCert `json:"chain"`
	// Built tells whether Chain is the path edge built (true) or, when
	// none was found, the chain as presented.
	Built bool `json:"chain_built"`
	// Notes are what the trust store's loader says beyond errors (CRL
	// entries without effect, how strict mode uses a CRL).
	Notes      []string `json:"notes,omitempty"`
	At         string   `json:"verification_time"`
	TrustStore struct {
		NumberOfCaCertificates int    `json:"NumberOfCaCertificates"`
		TotalRevokedEntries    int    `json:"TotalRevokedEntries"`
		RevocationCheck        string `json:"revocation_check"`
	} `json:"trust_store"`
}

// checkNames says which of Verify's checks produced a status.
var checkNames = map[truststore.Status]string{
	truststore.ClientCertMaxSizeExceeded:       "chain size",
	truststore.ClientCertMaxChainDepthExceeded: "chain depth",
	truststore.ClientCertTypeUnsupported:       "key and signature type",
	truststore.ClientCertUntrusted:             "path to a trust-store CA",
	truststore.ClientCertNotYetValid:           "validity period",
	truststore.ClientCertExpired:               "validity period",
	truststore.ClientCertPurposeInvalid:        "purpose (extended key usage)",
	truststore.ClientCertCrlHit:                "revocation",
	truststore.ClientCertCrlProcessingError:    "revocation",
	truststore.ClientCertInvalid:               "certificate parsing",
	truststore.UnmappedConnectionError:         "client certificate present",
}

var verifyCmd = &command{
	name:  "verify",
	args:  "--trust-store-bundle FILE [--crl FILE]... --cert FILE [flags]",
	short: "the verdict ALB would log for one client chain, and why",
	long: `Verifies one client certificate chain against a trust store (CA bundle and
CRLs) offline, exactly as a verify-mode listener would, and prints the
tls_verify_status ALB would log, the check that failed and the certificate
it failed on, and the chain it built. Exit 0 on Success, 1 otherwise.`,
	examples: []string{
		"edge verify --trust-store-bundle pki/bundle.pem --crl pki/intermediate.crl.pem --cert pki/jane-doe-fullchain.pem",
		"edge verify --trust-store-bundle pki/bundle.pem --cert pki/client-fullchain.pem --at 2030-01-01 --format json",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		bundle := fs.String("trust-store-bundle", "", "CA bundle `FILE` in ALB's format")
		var crls stringList
		fs.Var(&crls, "crl", "CRL `FILE` (PEM, one CRL per file, as ALB takes it); repeatable")
		certFile := certFlag(fs)
		at := fs.String("at", "", "verification `TIME` (RFC 3339 or YYYY-MM-DD); default now")
		ignoreExpiry := fs.Bool("ignore-expiry", false, "as ignore_client_certificate_expiry: the leaf's validity period plays no part")
		mode := enumFlag(fs, "revocation-check", "alb", "revocation `CHECK` (alb, or strict as RFC 5280)", "alb", "strict")
		format := formatFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *bundle == "" || *certFile == "" {
				return usagef("--trust-store-bundle and --cert are required")
			}
			var now time.Time
			if *at != "" {
				t, err := parseTime(*at)
				if err != nil {
					return usagef("--at %q: %v", *at, err)
				}
				now = t
			}
			return fromCode(verify(*bundle, crls, *certFile, now, *ignoreExpiry, *mode, *format, cio.stdout, cio.stderr))
		}
	},
}

func verify(bundle string, crls []string, certFile string, at time.Time, ignoreExpiry bool, mode, format string, stdout, stderr io.Writer) int {
	now := time.Now()
	if !at.IsZero() {
		now = at
	}
	rm, err := truststore.ParseRevocationMode(mode)
	if err != nil {
		fmt.Fprintf(stderr, "edge verify: --revocation-check: %v\n", err)
		return exitUsage
	}
	store, err := loadStore(bundle, crls, rm)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitFail
	}
	data, err := os.ReadFile(certFile)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", certFile, unwrapPathErr(err))
		return exitFail
	}
	var res verifyResult
	res.At = now.UTC().Format(time.RFC3339)
	res.TrustStore.NumberOfCaCertificates = len(store.CAs)
	res.TrustStore.TotalRevokedEntries = store.TotalRevokedEntries()
	res.TrustStore.RevocationCheck = store.Mode.String()
	res.Notes = store.Notes()

	presented, perr := pki.ReadCertsPEM(certFile, data)
	var bad *pki.CertificateError
	var v truststore.Verdict
	switch {
	case errors.As(perr, &bad):
		// Go's TLS stack refuses such a chain before verification.
		v = truststore.Verdict{Status: truststore.ClassifyUnparseable(bad.DER), Detail: perr.Error()}
	case perr != nil:
		fmt.Fprintf(stderr, "%s: %v\n", certFile, perr)
		return exitFail
	default:
		v = store.Verify(presented, truststore.VerifyOptions{Now: now, IgnoreExpiry: ignoreExpiry})
	}
	res.Status, res.Detail = v.Status.String(), v.Detail
	if v.Status != truststore.Success {
		res.Check = checkNames[v.Status]
	}
	chain := v.Chain
	res.Built = chain != nil
	if chain == nil {
		chain = presented
	}
	for i, c := range chain {
		vc := describeCert(i, c, presented)
		res.Chain = append(res.Chain, vc)
		if v.Cert != nil && c.Equal(v.Cert) && res.Failed == nil {
			res.Failed = &vc
		}
	}
	if v.Cert != nil && res.Failed == nil {
		vc := describeCert(v.Depth, v.Cert, presented)
		res.Failed = &vc
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		printVerify(stdout, &res)
	}
	if v.Status != truststore.Success {
		return exitFail
	}
	return exitOK
}

func describeCert(depth int, c *x509.Certificate, presented []*x509.Certificate) verifyCert {
	src := "trust store"
	for _, p := range presented {
		if p.Equal(c) {
			src = "presented"
		}
	}
	return verifyCert{
		Depth: depth, Subject: certfmt.DN(c.RawSubject), Issuer: certfmt.DN(c.RawIssuer), Serial: certfmt.Serial(c),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339), NotAfter: c.NotAfter.UTC().Format(time.RFC3339), Source: src,
	}
}

func printVerify(w io.Writer, r *verifyResult) {
	fmt.Fprintf(w, "tls_verify_status: %s\n", r.Status)
	if r.Check != "" {
		fmt.Fprintf(w, "failed check:      %s\n", r.Check)
	}
	if r.Failed != nil {
		fmt.Fprintf(w, "on certificate:    #%d %q\n", r.Failed.Depth, r.Failed.Subject)
	}
	fmt.Fprintf(w, "why:               %s\n", r.Detail)
	fmt.Fprintf(w, "verified at:       %s (trust store: %s, %s, revocation_check %s)\n",
		r.At, plural(r.TrustStore.NumberOfCaCertificates, "CA certificate"), plural(r.TrustStore.TotalRevokedEntries, "revoked entry"), r.TrustStore.RevocationCheck)
	if r.Built {
		fmt.Fprintln(w, "chain built:")
	} else {
		fmt.Fprintln(w, "chain presented (no path to the trust store was built):")
	}
	for _, c := range r.Chain {
		fmt.Fprintf(w, "  #%d %q\n     issuer %q\n     serial %s  NotBefore=%s;NotAfter=%s  (%s)\n", c.Depth, c.Subject, c.Issuer, c.Serial, c.NotBefore, c.NotAfter, c.Source)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// loadStore reads the bundle and CRLs through the loader edge check and
// edge serve use, with the same limits.
func loadStore(bundle string, crls []string, mode truststore.RevocationMode) (*truststore.Store, error) {
	cas, _, err := truststore.LoadBundle(bundle)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", bundle, unwrapPathErr(err))
	}
	var ins []truststore.RevocationInput
	for _, p := range crls {
		in, err := truststore.LoadCRL(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p, unwrapPathErr(err))
		}
		ins = append(ins, in)
	}
	// Named after its bundle: verdicts read "a CA certificate of trust
	// store pki/bundle.pem".
	return truststore.New(bundle, cas, ins, truststore.Options{Revocation: mode})
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("want RFC 3339 (2020-01-01T00:00:00Z) or a date (2020-01-01)")
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// plural is "1 revoked entry", "2 revoked entries", "0 CA certificates".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
