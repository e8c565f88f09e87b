package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"edge/internal/config"
	"edge/internal/truststore"
)

func (b *builder) trustStore(i int, ts config.TrustStore) {
	p := fmt.Sprintf("trust_stores[%d]", i)
	bundlePath := b.cfg.Path(ts.CACertificatesBundle)
	if bundlePath == "" {
		return // reported by Validate
	}
	b.track(bundlePath)
	cas, data, err := truststore.LoadBundle(bundlePath)
	var be *truststore.BundleError
	var pe *os.PathError
	switch {
	case errors.As(err, &pe):
		b.file(err, bundlePath, 0, p+".ca_certificates_bundle", "cannot read the CA bundle: %v", pe.Err)
	case errors.As(err, &be):
		for _, prob := range be.Problems {
			msg := "InvalidCaCertificatesBundle: " + prob.Reason
			if prob.Index > 0 {
				msg = fmt.Sprintf("InvalidCaCertificatesBundle: certificate #%d: %s", prob.Index, prob.Reason)
			}
			b.file(be, bundlePath, prob.Line, p+".ca_certificates_bundle", "%s", msg)
		}
	case err != nil:
		b.file(err, bundlePath, 0, p+".ca_certificates_bundle", "%v", err)
	}
	bundleOK := err == nil // a bad bundle still lets the CRL files be checked, so check reports every problem at once
	version := sha256.New()
	version.Write(data)
	var crls []truststore.RevocationInput
	for j, r := range ts.Revocations {
		rp := fmt.Sprintf("%s.revocations[%d]", p, j)
		path := b.cfg.Path(r.File)
		b.track(path)
		in, err := truststore.LoadCRL(path)
		switch {
		case errors.As(err, &pe):
			b.file(err, path, 0, rp, "cannot read the CRL: %v", pe.Err)
			continue
		case err != nil:
			b.file(err, path, 0, rp, "%v", err)
			continue
		}
		if !bundleOK {
			continue
		}
		if b.opts.RemovedRevocations[ts.Name][in.Key()] {
			continue // removed through the admin API; a rewrite of the file is a new CRL
		}
		in.ID = r.RevocationID // pinned (revocation_id), or 0: numbered

		version.Write(in.Digest[:])
		crls = append(crls, in)
	}
	if !bundleOK {
		return
	}
	for _, in := range b.opts.ExtraRevocations[ts.Name] {
		version.Write(in.Digest[:])
		crls = append(crls, in)
	}
	mode, _ := truststore.ParseRevocationMode(ts.RevocationCheck) // validated already
	store, err := truststore.New(ts.Name, cas, crls, truststore.Options{
		Revocation:           mode,
		MaxRevocationEntries: ts.MaxRevocationEntries,
		IDs:                  b.opts.RevocationIDs,
	})
	if err != nil {
		for _, e := range unjoin(err) {
			b.atErr(e, p+".revocations", "%v", e)
		}
		return
	}
	b.snap.Notes = append(b.snap.Notes, store.Notes()...)
	now := time.Now()
	for _, c := range store.CRLs {
		if c.Stale(now) {
			b.snap.Notes = append(b.snap.Notes, fmt.Sprintf("%s: CRL is past its nextUpdate (%s); edge still applies it, as ALB does", c.Source, c.List.NextUpdate.UTC().Format(time.RFC3339)))
		}
	}
	b.snap.TrustStores[ts.Name] = store
	b.snap.StoreVersions[ts.Name] = StoreVersion{Hash: hex.EncodeToString(version.Sum(nil)[:8]), Loaded: time.Now().UTC()}
}
