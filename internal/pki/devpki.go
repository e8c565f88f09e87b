package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DevPKI is the PKI the quick start creates in ./.edge: a root CA, an
// intermediate, a server certificate for localhost and 127.0.0.1, one client
// certificate (PEM and PKCS#12) and bundle.pem, the trust-store bundle.
type DevPKI struct {
	Dir          string
	Root         *CA
	Intermediate *CA
	// Created reports whether Ensure made the PKI rather than reusing it.
	Created bool
}

// Dev PKI file names, relative to DevPKI.Dir.
const (
	DevRootFile          = "root.pem"
	DevBundleFile        = "bundle.pem"
	DevServerCertFile    = "server.pem"
	DevServerKeyFile     = "server.key"
	DevClientCertFile    = "client.pem"
	DevClientKeyFile     = "client.key"
	DevClientP12File     = "client.p12"
	DevClientP12Password = "edge"
)

// EnsureDev loads the dev PKI from dir, creating it on first use. bundle.pem
// is written last, so its presence marks a complete PKI.
func EnsureDev(dir string) (*DevPKI, error) {
	d := &DevPKI{Dir: dir}
	_, err := os.Stat(filepath.Join(dir, DevBundleFile))
	switch {
	case err == nil:
		if d.Root, err = loadCA(dir, "root"); err != nil {
			return nil, fmt.Errorf("dev PKI in %s: %w", dir, err)
		}
		if d.Intermediate, err = loadCA(dir, "intermediate"); err != nil {
			return nil, fmt.Errorf("dev PKI in %s: %w", dir, err)
		}
		d.Intermediate.Chain = []*x509.Certificate{d.Root.Cert}
		return d, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := d.create(); err != nil {
		return nil, fmt.Errorf("creating dev PKI in %s: %w", dir, err)
	}
	d.Created = true
	return d, nil
}

func loadCA(dir, name string) (*CA, error) {
	is, err := Load(dir, name)
	if err != nil {
		return nil, err
	}
	return &CA{Issued{Cert: is.Cert, Key: is.Key}}, nil
}

func (d *DevPKI) create() error {
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return err
	}
	var err error
	org := []string{"edge dev PKI"}
	if d.Root, err = NewRoot(Options{Subject: pkix.Name{CommonName: "edge dev root CA", Organization: org}}); err != nil {
		return err
	}
	if d.Intermediate, err = d.Root.NewIntermediate(Options{Subject: pkix.Name{CommonName: "edge dev intermediate CA", Organization: org}}); err != nil {
		return err
	}
	server, err := d.Intermediate.IssueServer(Options{})
	if err != nil {
		return err
	}
	client, err := d.Intermediate.IssueClient(Options{Subject: pkix.Name{CommonName: "edge dev client", Organization: org}})
	if err != nil {
		return err
	}
	p12, err := client.PKCS12(DevClientP12Password)
	if err != nil {
		return err
	}
	steps := []func() error{
		func() error { return d.Root.Save(d.Dir, "root", false) },
		func() error { return d.Intermediate.Save(d.Dir, "intermediate", false) },
		func() error { return server.Save(d.Dir, "server", false) },
		func() error { return client.Save(d.Dir, "client", false) },
		func() error { return WriteFile(filepath.Join(d.Dir, DevClientP12File), p12, true, false) },
		func() error {
			return WriteFile(filepath.Join(d.Dir, DevBundleFile), CertPEM(d.Root.Cert, d.Intermediate.Cert), false, false)
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}
