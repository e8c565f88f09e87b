package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"edge/internal/certfmt"
	"edge/internal/pki"
)

const pkiUsage = `usage: edge pki COMMAND [--dir DIR] [--key p256|p384|rsa2048|rsa4096] [--force] ...

  init                          root CA, intermediate, server cert (localhost), one client, bundle.pem
  ca --name NAME [--parent NAME] [--cn CN]
                                another root CA, or an intermediate under --parent
  server --ca NAME [--name NAME] [--dns NAME,...] [--ip IP,...]
                                server certificate: NAME.pem, NAME.key, NAME-chain.pem (as ACM imports)
  client --ca NAME --cn CN [--name NAME] [--ou OU --o O --l L --st ST --c C]
         [--days N | --not-before T --not-after T] [--password PW]
                                client certificate: NAME.pem, NAME.key, NAME-chain.pem, NAME.p12
  revoke --ca NAME --serial HEX [--reason R] [--crl-days N]
                                revoke a serial and rewrite the CA's CRL
  crl --ca NAME [--crl-days N]  write NAME.crl.pem and NAME.crl.der
  bundle [--out FILE] NAME...   a trust-store bundle in ALB's format (default bundle.pem)
  list                          the tree: roots, intermediates, leaves, with serials and validity
`

// pkiFlags are the flags every pki subcommand takes.
type pkiFlags struct {
	fs    *flag.FlagSet
	dir   *string
	key   *string
	force *bool
}

func newPKIFlags(name string, stderr io.Writer) pkiFlags {
	fs := newFlags("edge pki "+name, stderr)
	return pkiFlags{fs: fs,
		dir:   fs.String("dir", "pki", "PKI `DIR`ectory"),
		key:   fs.String("key", "p256", "key type: p256, p384, rsa2048 or rsa4096"),
		force: fs.Bool("force", false, "overwrite existing files"),
	}
}

func (p pkiFlags) d() (*pki.Dir, error) {
	switch *p.key {
	case "p256", "p384", "rsa2048", "rsa4096":
	default:
		return nil, fmt.Errorf("--key %q: want p256, p384, rsa2048 or rsa4096", *p.key)
	}
	return &pki.Dir{Path: *p.dir, Force: *p.force, KeyType: pki.KeyType(*p.key)}, nil
}

func pkiCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, pkiUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, args := args[0], args[1:]
	f := newPKIFlags(sub, stderr)
	fs := f.fs
	var run func(d *pki.Dir) error
	switch sub {
	case "init":
		run = func(d *pki.Dir) error { return pkiInit(d, stdout) }
	case "ca":
		name := fs.String("name", "", "CA `NAME` (file prefix)")
		parent := fs.String("parent", "", "issuing CA; empty makes a root")
		cn := fs.String("cn", "", "common name (default NAME)")
		days := fs.Int("days", 3650, "validity in days")
		run = func(d *pki.Dir) error {
			if *name == "" {
				return errUsage("ca needs --name")
			}
			o := pki.Options{Subject: pki.SubjectFlags(*cn, "", "", "", "", "")}
			o.NotAfter = time.Now().Add(time.Duration(*days) * 24 * time.Hour)
			ca, err := d.NewCA(*name, *parent, o)
			if err != nil {
				return err
			}
			kind := "root CA"
			if *parent != "" {
				kind = "intermediate CA under " + *parent
			}
			printWrote(stdout, d, kind, ca.Cert, *name+".pem", *name+".key")
			return nil
		}
	case "server":
		ca := fs.String("ca", "", "issuing CA `NAME`")
		name := fs.String("name", "server", "file `NAME`")
		dns := fs.String("dns", "localhost", "DNS names, comma-separated")
		ips := fs.String("ip", "127.0.0.1", "IP addresses, comma-separated")
		run = func(d *pki.Dir) error {
			if *ca == "" {
				return errUsage("server needs --ca")
			}
			var ipList []net.IP
			for _, s := range splitComma(*ips) {
				ip := net.ParseIP(s)
				if ip == nil {
					return fmt.Errorf("--ip %q is not an IP address", s)
				}
				ipList = append(ipList, ip)
			}
			is, err := d.Server(*name, *ca, splitComma(*dns), ipList, pki.Options{})
			if err != nil {
				return err
			}
			printWrote(stdout, d, "server certificate", is.Cert, *name+".pem", *name+".key", *name+"-chain.pem")
			return nil
		}
	case "client":
		ca := fs.String("ca", "", "issuing CA `NAME`")
		cn := fs.String("cn", "", "common name")
		name := fs.String("name", "", "file `NAME` (default: the CN in lower case, spaces as '-')")
		ou, o, l, st, c := fs.String("ou", "", "organizational unit"), fs.String("o", "", "organization"), fs.String("l", "", "locality"), fs.String("st", "", "state or province"), fs.String("c", "", "country")
		days := fs.Int("days", 0, "validity in days from now (default 825)")
		nb := fs.String("not-before", "", "start of validity (RFC 3339 or YYYY-MM-DD); may be in the future")
		na := fs.String("not-after", "", "end of validity; may be in the past, for expired test clients")
		pw := fs.String("password", "edge", "PKCS#12 password")
		run = func(d *pki.Dir) error {
			if *ca == "" || *cn == "" {
				return errUsage("client needs --ca and --cn")
			}
			opt := pki.Options{Subject: pki.SubjectFlags(*cn, *ou, *o, *l, *st, *c)}
			var err error
			if *nb != "" {
				if opt.NotBefore, err = parseTime(*nb); err != nil {
					return fmt.Errorf("--not-before: %v", err)
				}
			}
			if *na != "" {
				if opt.NotAfter, err = parseTime(*na); err != nil {
					return fmt.Errorf("--not-after: %v", err)
				}
			}
			if *days > 0 {
				if *na != "" {
					return errUsage("give --days or --not-after, not both")
				}
				start := opt.NotBefore
				if start.IsZero() {
					start = time.Now()
				}
				opt.NotAfter = start.Add(time.Duration(*days) * 24 * time.Hour)
			}
			file := *name
			if file == "" {
				file = strings.ToLower(strings.Join(strings.Fields(*cn), "-"))
			}
			is, err := d.Client(file, *ca, *pw, opt)
			if err != nil {
				return err
			}
			printWrote(stdout, d, "client certificate", is.Cert, file+".pem", file+".key", file+"-chain.pem", file+".p12")
			return nil
		}
	case "revoke":
		ca := fs.String("ca", "", "issuing CA `NAME`")
		serial := fs.String("serial", "", "serial number in hex (as edge pki list and the logs print it)")
		reason := fs.String("reason", "keyCompromise", "CRL reason (keyCompromise, superseded, cessationOfOperation, ...)")
		days := fs.Int("crl-days", 30, "the rewritten CRL's nextUpdate, in days")
		run = func(d *pki.Dir) error {
			if *ca == "" || *serial == "" {
				return errUsage("revoke needs --ca and --serial")
			}
			if err := d.Revoke(*ca, *serial, *reason, time.Duration(*days)*24*time.Hour); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked serial %s (%s); wrote %s and %s\n", strings.ToUpper(strings.TrimPrefix(*serial, "0x")), *reason,
				filepath.Join(d.Path, *ca+".crl.pem"), filepath.Join(d.Path, *ca+".crl.der"))
			return nil
		}
	case "crl":
		ca := fs.String("ca", "", "CA `NAME`")
		days := fs.Int("crl-days", 30, "nextUpdate, in days")
		run = func(d *pki.Dir) error {
			if *ca == "" {
				return errUsage("crl needs --ca")
			}
			l, err := d.CRL(*ca, time.Duration(*days)*24*time.Hour)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s and %s: CRL number %s, %d revoked, nextUpdate %s\n", filepath.Join(d.Path, *ca+".crl.pem"),
				filepath.Join(d.Path, *ca+".crl.der"), l.Number, len(l.RevokedCertificateEntries), l.NextUpdate.UTC().Format(time.RFC3339))
			return nil
		}
	case "bundle":
		out := fs.String("out", "", "output `FILE` (default DIR/bundle.pem)")
		run = func(d *pki.Dir) error {
			if fs.NArg() == 0 {
				return errUsage("bundle needs CA names")
			}
			path := *out
			if path == "" {
				path = filepath.Join(d.Path, "bundle.pem")
			}
			if err := d.Bundle(path, fs.Args()...); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s: %s (ALB trust-store bundle format)\n", path, strings.Join(fs.Args(), ", "))
			return nil
		}
	case "list":
		run = func(d *pki.Dir) error { return pkiList(d, stdout) }
	default:
		fmt.Fprintf(stderr, "edge pki: unknown command %q\n\n%s", sub, pkiUsage)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if sub != "bundle" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "edge pki %s: unexpected arguments %v\n", sub, fs.Args())
		return exitUsage
	}
	d, err := f.d()
	if err == nil {
		err = run(d)
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "edge pki %s: %v\n", sub, err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "edge pki %s: %v\n", sub, err)
		return exitFail
	}
	return exitOK
}

type usageError string

func (e usageError) Error() string { return string(e) }

func errUsage(s string) error { return usageError(s) }

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func printWrote(w io.Writer, d *pki.Dir, kind string, c *x509.Certificate, files ...string) {
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(d.Path, f))
	}
	fmt.Fprintf(w, "%s %q serial %s, valid %s to %s\n  wrote %s\n", kind, certfmt.DN(c.RawSubject), certfmt.Serial(c),
		c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"), strings.Join(paths, ", "))
}

func pkiInit(d *pki.Dir, w io.Writer) error {
	steps := []struct {
		kind, name string
		do         func() (*x509.Certificate, []string, error)
	}{
		{"root CA", "root", func() (*x509.Certificate, []string, error) {
			ca, err := d.NewCA("root", "", pki.Options{Subject: pki.SubjectFlags("edge root CA", "", "edge", "", "", "")})
			return cert(ca), []string{"root.pem", "root.key"}, err
		}},
		{"intermediate CA", "intermediate", func() (*x509.Certificate, []string, error) {
			ca, err := d.NewCA("intermediate", "root", pki.Options{Subject: pki.SubjectFlags("edge intermediate CA", "", "edge", "", "", "")})
			return cert(ca), []string{"intermediate.pem", "intermediate.key", "intermediate-chain.pem"}, err
		}},
		{"server certificate", "server", func() (*x509.Certificate, []string, error) {
			is, err := d.Server("server", "intermediate", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, pki.Options{})
			return issued(is), []string{"server.pem", "server.key", "server-chain.pem"}, err
		}},
		{"client certificate", "client", func() (*x509.Certificate, []string, error) {
			is, err := d.Client("client", "intermediate", "edge", pki.Options{Subject: pki.SubjectFlags("client", "", "edge", "", "", "")})
			return issued(is), []string{"client.pem", "client.key", "client-chain.pem", "client.p12"}, err
		}},
	}
	for _, s := range steps {
		c, files, err := s.do()
		if err != nil {
			return err
		}
		printWrote(w, d, s.kind, c, files...)
	}
	if err := d.Bundle(filepath.Join(d.Path, "bundle.pem"), "root", "intermediate"); err != nil {
		return err
	}
	fmt.Fprintf(w, "trust-store bundle (root, intermediate)\n  wrote %s\n", filepath.Join(d.Path, "bundle.pem"))
	fmt.Fprintf(w, "client.p12 password: edge\n")
	return nil
}

func cert(ca *pki.CA) *x509.Certificate {
	if ca == nil {
		return nil
	}
	return ca.Cert
}

func issued(is *pki.Issued) *x509.Certificate {
	if is == nil {
		return nil
	}
	return is.Cert
}

func pkiList(d *pki.Dir, w io.Writer) error {
	roots, err := d.List()
	if err != nil {
		return err
	}
	if len(roots) == 0 {
		fmt.Fprintf(w, "no certificates in %s (start with edge pki init)\n", d.Path)
		return nil
	}
	now := time.Now()
	var walk func(e *pki.Entry, prefix string, last bool, depth int)
	walk = func(e *pki.Entry, prefix string, last bool, depth int) {
		branch, next := "", ""
		if depth > 0 {
			branch, next = "├── ", "│   "
			if last {
				branch, next = "└── ", "    "
			}
		}
		flags := []string{}
		if e.Cert.IsCA {
			flags = append(flags, "CA")
		}
		if now.After(e.Cert.NotAfter) {
			flags = append(flags, "EXPIRED")
		}
		if now.Before(e.Cert.NotBefore) {
			flags = append(flags, "NOT YET VALID")
		}
		if e.Revoked {
			flags = append(flags, "REVOKED")
		}
		tag := ""
		if len(flags) > 0 {
			tag = " [" + strings.Join(flags, ", ") + "]"
		}
		fmt.Fprintf(w, "%s%s%s %q serial %s %s..%s%s\n", prefix, branch, e.Name, certfmt.DN(e.Cert.RawSubject), certfmt.Serial(e.Cert),
			e.Cert.NotBefore.UTC().Format("2006-01-02"), e.Cert.NotAfter.UTC().Format("2006-01-02"), tag)
		for i, c := range e.Children {
			walk(c, prefix+next, i == len(e.Children)-1, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, "", true, 0)
	}
	return nil
}
