package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"edge/internal/certfmt"
	"edge/internal/pki"
)

// pkiNaming is the naming rule of every PKI directory edge writes.
const pkiNaming = `Files, for every certificate NAME (the same rule in edge pki, the quick
start's .edge and edge demo):
  NAME.pem            the certificate alone (ACM's certificate body; edge.yaml's
                      certificate)
  NAME.key            its private key, PKCS#8 PEM, mode 0600
  NAME-chain.pem      its issuers only, nearest first, without the root (ACM's
                      certificate chain; edge.yaml's certificate_chain); absent
                      when the root issued NAME
  NAME-fullchain.pem  server and client certificates: NAME.pem then
                      NAME-chain.pem, what a TLS peer sends (curl --cert,
                      edge verify --cert, edge bench --cert)
  NAME.p12            client certificates: certificate, key and chain as
                      PKCS#12, AES-256-CBC and HMAC-SHA-256 (password
                      --password, default "edge"; friendly name the CN)
  NAME-legacy.p12     the same with 3DES and HMAC-SHA-1 (edge pki client
                      --legacy), for macOS Keychain, older Windows, Java 8
A CA also keeps NAME.issued (the serials it issued), NAME.revoked,
NAME.crlnumber and its CRL as NAME.crl.pem (what ALB takes) and NAME.crl.der.`

var pkiCmd = &command{
	name:  "pki",
	args:  "COMMAND [flags]",
	short: "dev PKI: CAs, server and client certificates, CRLs, bundles",
	long: `A small certificate authority in a directory (--dir, default ./pki) that
replaces the openssl and XCA steps of the ALB mTLS tutorials. Each command
prints the certificate it made and every file it wrote.

` + pkiNaming,
	examples: []string{
		"edge pki init",
		"edge pki client --ca intermediate --cn \"Jane Doe\" --org \"Example Corp\"",
		"edge pki revoke --ca intermediate --serial 718B7A5F82E3C3A20FB82381AC259C0C",
	},
}

func init() {
	pkiCmd.subs = []*command{pkiInitCmd, pkiCACmd, pkiServerCmd, pkiClientCmd, pkiRevokeCmd, pkiCRLCmd, pkiBundleCmd, pkiListCmd}
}

// pkiDirFlags declares the flags of a command that writes into the PKI
// directory; keys adds --key-type for commands that make keys.
type pkiDirFlags struct {
	dir     *string
	force   *bool
	keyType *string
}

func newPKIDirFlags(fs *flag.FlagSet, writes, keys bool) pkiDirFlags {
	f := pkiDirFlags{dir: fs.String("dir", "pki", "PKI `DIR`ectory")}
	if writes {
		f.force = forceFlag(fs)
	}
	if keys {
		f.keyType = enumFlag(fs, "key-type", string(pki.P256), "algorithm of new `KEYTYPE`s", string(pki.P256), string(pki.P384), string(pki.RSA2048), string(pki.RSA4096))
	}
	return f
}

func (f pkiDirFlags) d() *pki.Dir {
	d := &pki.Dir{Path: *f.dir}
	if f.force != nil {
		d.Force = *f.force
	}
	if f.keyType != nil {
		d.KeyType = pki.KeyType(*f.keyType)
	}
	return d
}

// Flags shared by several pki commands, each declared once.
func caFlag(fs *flag.FlagSet) *string {
	return fs.String("ca", "", "CA `NAME` (NAME.pem and NAME.key in --dir)")
}

func nameFlag(fs *flag.FlagSet, def string) *string {
	return fs.String("name", def, "file `NAME`: NAME.pem, NAME.key, NAME-chain.pem... (edge pki -h has the naming rule)")
}

func daysFlag(fs *flag.FlagSet, def int) *int {
	return intFlag(fs, "days", def, 1, "validity in `DAYS` from now (or from --not-before)")
}

func crlDaysFlag(fs *flag.FlagSet) *int {
	return intFlag(fs, "crl-days", 30, 1, "the CRL's nextUpdate, in `DAYS` from now")
}

func legacyFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("legacy", false, "also write NAME-legacy.p12 (3DES, SHA-1 MAC) for macOS Keychain, older Windows and Java 8")
}

func cnFlag(fs *flag.FlagSet) *string { return fs.String("cn", "", "subject common name (CN)") }

func orgFlag(fs *flag.FlagSet, def string) *string {
	return fs.String("org", def, "subject organization (O)")
}

// printWrote prints a certificate and the files written since mark.
func printWrote(w io.Writer, d *pki.Dir, mark int, kind string, c *x509.Certificate) {
	fmt.Fprintf(w, "%s %q serial %s, valid %s to %s\n", kind, certfmt.DN(c.RawSubject), certfmt.Serial(c),
		c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))
	printFiles(w, d, mark)
}

// printFiles prints the files d wrote since mark: what was written, from
// what was written.
func printFiles(w io.Writer, d *pki.Dir, mark int) {
	var files []string
	seen := map[string]bool{}
	for _, f := range d.Written[mark:] {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		fmt.Fprintf(w, "  wrote %s\n", strings.Join(files, ", "))
	}
}

var pkiInitCmd = &command{
	name:  "pki init",
	args:  "[flags]",
	short: "root CA, intermediate, server certificate, one client, bundle.pem",
	long: `Creates a root CA (root), an intermediate CA under it (intermediate), a
server certificate for localhost and 127.0.0.1 (server), a client
certificate (client) and the trust-store bundle of both CAs (bundle.pem).
--org, --root-cn and --intermediate-cn name the CAs, so that two PKIs differ
in logs and in edge verify's output. --legacy adds client-legacy.p12 for
macOS Keychain, older Windows and Java 8 (edge pki client -h).`,
	examples: []string{
		"edge pki init",
		"edge pki init --dir staging --org \"Acme staging\" --root-cn \"Acme staging root\"",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, true, true)
		org := orgFlag(fs, "edge")
		rootCN := fs.String("root-cn", "", "common name of the root CA (default \"ORG root CA\")")
		interCN := fs.String("intermediate-cn", "", "common name of the intermediate CA (default \"ORG intermediate CA\")")
		legacy := legacyFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *rootCN == "" {
				*rootCN = *org + " root CA"
			}
			if *interCN == "" {
				*interCN = *org + " intermediate CA"
			}
			return pkiInit(df.d(), *org, *rootCN, *interCN, *legacy, cio.stdout)
		}
	},
}

func pkiInit(d *pki.Dir, org, rootCN, interCN string, legacy bool, w io.Writer) error {
	steps := []struct {
		kind string
		do   func() (*x509.Certificate, error)
	}{
		{"root CA", func() (*x509.Certificate, error) {
			ca, err := d.NewCA("root", "", pki.Options{Subject: pki.SubjectFlags(rootCN, "", org, "", "", "")})
			return certOf(ca, err)
		}},
		{"intermediate CA", func() (*x509.Certificate, error) {
			ca, err := d.NewCA("intermediate", "root", pki.Options{Subject: pki.SubjectFlags(interCN, "", org, "", "", "")})
			return certOf(ca, err)
		}},
		{"server certificate", func() (*x509.Certificate, error) {
			is, err := d.Server("server", "intermediate", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, pki.Options{})
			return issuedCert(is, err)
		}},
		{"client certificate", func() (*x509.Certificate, error) {
			is, err := d.Client("client", "intermediate", pki.PKCS12Options{Password: pki.DevClientP12Password, Legacy: legacy}, pki.Options{Subject: pki.SubjectFlags("client", "", org, "", "", "")})
			return issuedCert(is, err)
		}},
	}
	for _, s := range steps {
		mark := len(d.Written)
		c, err := s.do()
		if err != nil {
			return err
		}
		printWrote(w, d, mark, s.kind, c)
	}
	mark := len(d.Written)
	if err := d.Bundle(filepath.Join(d.Path, "bundle.pem"), "root", "intermediate"); err != nil {
		return err
	}
	fmt.Fprintf(w, "trust-store bundle (root, intermediate)\n")
	printFiles(w, d, mark)
	fmt.Fprintf(w, "client.p12 password: %s\n", pki.DevClientP12Password)
	return nil
}

func certOf(ca *pki.CA, err error) (*x509.Certificate, error) {
	if err != nil {
		return nil, err
	}
	return ca.Cert, nil
}

func issuedCert(is *pki.Issued, err error) (*x509.Certificate, error) {
	if err != nil {
		return nil, err
	}
	return is.Cert, nil
}

var pkiCACmd = &command{
	name:  "pki ca",
	args:  "--name NAME [--parent NAME] [flags]",
	short: "another root CA, or an intermediate under --parent",
	long:  `Creates a CA: a self-signed root, or with --parent an intermediate CA issued by the CA named there.`,
	examples: []string{
		"edge pki ca --name team --parent root",
		"edge pki ca --name other-root --cn \"Other Root\" --key-type p384",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, true, true)
		name := nameFlag(fs, "")
		parent := fs.String("parent", "", "issuing CA `NAME`; empty makes a root")
		cn := cnFlag(fs)
		org := orgFlag(fs, "")
		days := daysFlag(fs, 3650)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *name == "" {
				return usagef("--name is required")
			}
			d := df.d()
			o := pki.Options{Subject: pki.SubjectFlags(*cn, "", *org, "", "", "")}
			o.NotAfter = time.Now().Add(time.Duration(*days) * 24 * time.Hour)
			ca, err := d.NewCA(*name, *parent, o)
			if err != nil {
				return err
			}
			kind := "root CA"
			if *parent != "" {
				kind = "intermediate CA under " + *parent
			}
			printWrote(cio.stdout, d, 0, kind, ca.Cert)
			return nil
		}
	},
}

var pkiServerCmd = &command{
	name:  "pki server",
	args:  "--ca NAME [--name NAME] [--dns NAMES] [--ip IPS] [flags]",
	short: "a server certificate (serverAuth), as ACM imports it",
	long: `Issues a TLS server certificate (extended key usage serverAuth) for the
names and addresses given, signed by the CA --ca. Its NAME.pem, NAME.key and
NAME-chain.pem are what an ALB listener's certificate (ACM) and edge.yaml's
certificates entry take.`,
	examples: []string{
		"edge pki server --ca intermediate --name api --dns api.example.com,localhost --ip 127.0.0.1",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, true, true)
		ca := caFlag(fs)
		name := nameFlag(fs, "server")
		dns := fs.String("dns", "localhost", "DNS `NAMES`, comma-separated")
		ips := fs.String("ip", "127.0.0.1", "`IPS`, comma-separated")
		days := daysFlag(fs, 825)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *ca == "" {
				return usagef("--ca is required")
			}
			var ipList []net.IP
			for _, s := range splitComma(*ips) {
				ip := net.ParseIP(s)
				if ip == nil {
					return usagef("--ip %q is not an IP address", s)
				}
				ipList = append(ipList, ip)
			}
			if len(ipList) == 0 && len(splitComma(*dns)) == 0 {
				return usagef("give --dns or --ip: a server certificate needs a name")
			}
			d := df.d()
			o := pki.Options{NotAfter: time.Now().Add(time.Duration(*days) * 24 * time.Hour)}
			is, err := d.Server(*name, *ca, splitComma(*dns), ipList, o)
			if err != nil {
				return err
			}
			printWrote(cio.stdout, d, 0, "server certificate", is.Cert)
			return nil
		}
	},
}

var pkiClientCmd = &command{
	name:  "pki client",
	args:  "--ca NAME --cn CN [flags]",
	short: "a client certificate (clientAuth) with its .p12",
	long: `Issues a TLS client certificate (extended key usage clientAuth) signed by
the CA --ca, with the subject given by --cn, --ou, --org, --locality,
--state and --country. Validity may start in the future (--not-before) or
end in the past (--not-after), for not-yet-valid and expired test clients.
The file name defaults to the CN in lower case with spaces as '-'.
NAME.p12 (AES-256) imports into Firefox, Chromium, current Windows and
OpenSSL 3; --legacy adds NAME-legacy.p12 (3DES, SHA-1 MAC) for macOS
Keychain, older Windows and Java 8. Both name the certificate by its CN
(--friendly-name to choose), the name a browser's or keychain's list shows.`,
	examples: []string{
		"edge pki client --ca intermediate --cn \"Jane Doe\" --org \"Example Corp\" --country US",
		"edge pki client --ca intermediate --cn \"Jane Doe\" --legacy --friendly-name \"Jane Doe (edge test)\"",
		"edge pki client --ca intermediate --cn old --not-before 2020-01-01 --not-after 2021-01-01",
	},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, true, true)
		ca := caFlag(fs)
		cn := cnFlag(fs)
		name := nameFlag(fs, "")
		ou := fs.String("ou", "", "subject organizational unit (OU)")
		org := orgFlag(fs, "")
		l := fs.String("locality", "", "subject locality (L)")
		st := fs.String("state", "", "subject state or province (ST)")
		c := fs.String("country", "", "subject country (C), two letters")
		days := daysFlag(fs, 825)
		nb := fs.String("not-before", "", "start of validity (RFC 3339 or YYYY-MM-DD); may be in the future")
		na := fs.String("not-after", "", "end of validity; may be in the past, for expired test clients")
		pw := fs.String("password", pki.DevClientP12Password, "PKCS#12 password")
		friendly := fs.String("friendly-name", "", "the name import tools show for the certificate (PKCS#12 friendlyName; default the CN)")
		legacy := legacyFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *ca == "" || *cn == "" {
				return usagef("--ca and --cn are required")
			}
			daysSet := false
			fs.Visit(func(f *flag.Flag) { daysSet = daysSet || f.Name == "days" })
			opt := pki.Options{Subject: pki.SubjectFlags(*cn, *ou, *org, *l, *st, *c)}
			var err error
			if *nb != "" {
				if opt.NotBefore, err = parseTime(*nb); err != nil {
					return usagef("--not-before: %v", err)
				}
			}
			if *na != "" {
				if daysSet {
					return usagef("give --days or --not-after, not both")
				}
				if opt.NotAfter, err = parseTime(*na); err != nil {
					return usagef("--not-after: %v", err)
				}
			} else {
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
			d := df.d()
			is, err := d.Client(file, *ca, pki.PKCS12Options{Password: *pw, FriendlyName: *friendly, Legacy: *legacy}, opt)
			if err != nil {
				return err
			}
			printWrote(cio.stdout, d, 0, "client certificate", is.Cert)
			return nil
		}
	},
}

var pkiRevokeCmd = &command{
	name:  "pki revoke",
	args:  "--ca NAME --serial HEX [--reason R] [flags]",
	short: "revoke a serial the CA issued and rewrite its CRL",
	long: `Records that the CA --ca revoked the certificate with serial HEX (as edge pki
list, edge verify and the connection log print it) and rewrites the CA's
CRL. A serial the CA never issued is refused.`,
	examples: []string{"edge pki revoke --ca intermediate --serial 718B7A5F82E3C3A20FB82381AC259C0C --reason superseded"},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, false, false)
		ca := caFlag(fs)
		serial := fs.String("serial", "", "serial number in `HEX`")
		reasons := make([]string, 0, len(pki.Reasons))
		for r := range pki.Reasons {
			reasons = append(reasons, r)
		}
		sort.Slice(reasons, func(i, j int) bool { return pki.Reasons[reasons[i]] < pki.Reasons[reasons[j]] })
		reason := enumFlag(fs, "reason", "keyCompromise", "CRL `REASON` (RFC 5280)", reasons...)
		days := crlDaysFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *ca == "" || *serial == "" {
				return usagef("--ca and --serial are required")
			}
			d := df.d()
			if err := d.Issued(*ca, *serial); err != nil {
				return err
			}
			if err := d.Revoke(*ca, *serial, *reason, time.Duration(*days)*24*time.Hour); err != nil {
				return err
			}
			fmt.Fprintf(cio.stdout, "revoked serial %s (%s) by %s; the CRL's nextUpdate is in %d days\n", strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(*serial, ":", ""), "0x")), *reason, *ca, *days)
			printFiles(cio.stdout, d, 0)
			return nil
		}
	},
}

var pkiCRLCmd = &command{
	name:  "pki crl",
	args:  "--ca NAME [--crl-days N] [flags]",
	short: "write a CA's CRL as PEM and DER",
	long: `Writes the CRL of the CA --ca with every serial it revoked: NAME.crl.pem (the
form an ALB trust store takes) and NAME.crl.der (the form AWS Private CA
publishes). The CRL number grows by one each time.`,
	examples: []string{"edge pki crl --ca intermediate --crl-days 7"},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, false, false)
		ca := caFlag(fs)
		days := crlDaysFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *ca == "" {
				return usagef("--ca is required")
			}
			d := df.d()
			l, err := d.CRL(*ca, time.Duration(*days)*24*time.Hour)
			if err != nil {
				return err
			}
			fmt.Fprintf(cio.stdout, "CRL of %s: CRL number %s, %d revoked, nextUpdate %s\n", *ca, l.Number, len(l.RevokedCertificateEntries), l.NextUpdate.UTC().Format(time.RFC3339))
			printFiles(cio.stdout, d, 0)
			return nil
		}
	},
}

var pkiBundleCmd = &command{
	name:  "pki bundle",
	args:  "[--out FILE] CA...",
	short: "a trust-store bundle of CAs, in ALB's format",
	long: `Writes the certificates of the CAs named, in order, as a trust-store bundle
in ALB's format: PEM blocks only, a '#' comment naming each, no blank
lines.`,
	examples: []string{"edge pki bundle --out pki/team-bundle.pem --force root team"},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, true, false)
		out := fs.String("out", "", "output `FILE` (default DIR/bundle.pem)")
		return func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return usagef("name the CAs of the bundle")
			}
			d := df.d()
			path := *out
			if path == "" {
				path = filepath.Join(d.Path, "bundle.pem")
			}
			if err := d.Bundle(path, args...); err != nil {
				return err
			}
			fmt.Fprintf(cio.stdout, "trust-store bundle (%s) in ALB's format\n", strings.Join(args, ", "))
			printFiles(cio.stdout, d, 0)
			return nil
		}
	},
}

var pkiListCmd = &command{
	name:     "pki list",
	args:     "[--dir DIR]",
	short:    "the tree of certificates with serials, validity and revocations",
	long:     `Prints the directory's certificates as trees under their roots, with serials, validity and flags: CA, EXPIRED, NOT YET VALID, REVOKED.`,
	examples: []string{"edge pki list", "edge pki list --dir .edge"},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		df := newPKIDirFlags(fs, false, false)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			return pkiList(df.d(), cio.stdout)
		}
	},
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
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
