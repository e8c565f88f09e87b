package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"edge/internal/pki"
	"edge/internal/truststore"
)

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
	res := truststore.Explain(v, presented, store, now)
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		res.WriteText(stdout)
	}
	if v.Status != truststore.Success {
		return exitFail
	}
	return exitOK
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
