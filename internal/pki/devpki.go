package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// DevPKI is the PKI the quick start creates in ./.edge: a root CA, an
// intermediate, a server certificate for localhost and 127.0.0.1, one client
// certificate (PEM and PKCS#12) and bundle.pem, the trust-store bundle. Its
// files follow the naming rule of Dir.
type DevPKI struct {
	Dir          string
	Root         *CA
	Intermediate *CA
	// Created reports whether Ensure made the PKI rather than reusing it.
	Created bool
}

// Dev PKI file names, relative to DevPKI.Dir.
const (
	DevRootFile       = "root.pem"
	DevBundleFile     = "bundle.pem"
	DevServerCertFile = "server.pem"
	DevServerKeyFile  = "server.key"
	DevClientCertFile = "client.pem"
	// DevClientFullchainFile is the client certificate and its
	// intermediate: what a client sends (curl --cert), so that a trust
	// store holding only the root accepts it, as on ALB.
	DevClientFullchainFile = "client-fullchain.pem"
	DevClientKeyFile       = "client.key"
	DevClientP12File       = "client.p12"
	DevClientP12Password   = "edge"
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
	// No bundle.pem: a PKI left incomplete by an earlier run is replaced.
	dir := &Dir{Path: d.Dir, Force: true}
	org := []string{"edge dev PKI"}
	var err error
	if d.Root, err = dir.NewCA("root", "", Options{Subject: pkix.Name{CommonName: "edge dev root CA", Organization: org}}); err != nil {
		return err
	}
	if d.Intermediate, err = dir.NewCA("intermediate", "root", Options{Subject: pkix.Name{CommonName: "edge dev intermediate CA", Organization: org}}); err != nil {
		return err
	}
	if _, err := dir.Server("server", "intermediate", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, Options{}); err != nil {
		return err
	}
	if _, err := dir.Client("client", "intermediate", PKCS12Options{Password: DevClientP12Password}, Options{Subject: pkix.Name{CommonName: "edge dev client", Organization: org}}); err != nil {
		return err
	}
	return dir.Bundle(filepath.Join(d.Dir, DevBundleFile), "root", "intermediate")
}

// DevServerNames returns the names a dev server certificate for a listener
// bound to address covers: localhost and the loopback addresses, plus the
// address itself; for an unspecified address (0.0.0.0 or ::) every
// address of the machine's interfaces and its host name, so that clients
// on other machines or containers can verify it.
func DevServerNames(address string) (dns []string, ips []net.IP) {
	dns = []string{"localhost"}
	ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	addIP := func(ip net.IP) {
		for _, have := range ips {
			if have.Equal(ip) {
				return
			}
		}
		ips = append(ips, ip)
	}
	addDNS := func(n string) {
		for _, have := range dns {
			if strings.EqualFold(have, n) {
				return
			}
		}
		dns = append(dns, n)
	}
	ip := net.ParseIP(address)
	switch {
	case ip == nil && address != "":
		addDNS(address)
	case ip != nil && ip.IsUnspecified():
		for _, a := range machineAddrs() {
			addIP(a)
		}
		if h, err := os.Hostname(); err == nil && h != "" && validDNSName(h) {
			addDNS(h)
		}
	case ip != nil:
		addIP(ip)
	}
	return dns, ips
}

// machineAddrs lists the unicast addresses of the machine's interfaces.
// A variable so tests can see what DevServerNames saw.
var machineAddrs = func() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsMulticast() && !n.IP.IsUnspecified() {
			out = append(out, n.IP)
		}
	}
	return out
}

func validDNSName(h string) bool {
	for _, r := range h {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
