package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"edge/internal/pemfile"
	"edge/internal/truststore"
)

// Dir is a PKI kept in a directory, as `edge pki`, `edge demo` and the
// quick start's dev PKI write it. One naming rule holds for every
// certificate NAME:
//
//	NAME.pem            the certificate alone (ACM's certificate body;
//	                    edge.yaml's certificate)
//	NAME.key            its private key, PKCS#8 PEM, mode 0600
//	NAME-chain.pem      its issuers only, nearest first, without the root
//	                    (ACM's certificate chain; edge.yaml's
//	                    certificate_chain); written when there is an issuer
//	                    below the root
//	NAME-fullchain.pem  leaf certificates only: NAME.pem then NAME-chain.pem,
//	                    what a TLS peer sends (curl --cert, edge verify
//	                    --cert, edge bench --cert)
//	NAME.p12            client certificates only: certificate, key and
//	                    chain as PKCS#12 (AES-256-CBC, HMAC-SHA-256)
//	NAME-legacy.p12     the same as 3DES / HMAC-SHA-1, on request, for
//	                    macOS Keychain, older Windows and Java 8
//
// A CA also keeps NAME.issued (serial, notAfter and file name of every
// certificate it issued), NAME.revoked (its revocations), NAME.crlnumber,
// and its CRL as NAME.crl.pem and NAME.crl.der.
type Dir struct {
	Path string
	// Force allows overwriting existing files.
	Force bool
	// KeyType for new keys; empty means P256.
	KeyType KeyType
	// Written lists the path of every file the Dir wrote, in order, for
	// reports of what a command did.
	Written []string
}

// File names of certificate NAME under the naming rule of Dir.
func CertFile(name string) string      { return name + ".pem" }
func KeyFile(name string) string       { return name + ".key" }
func ChainFile(name string) string     { return name + "-chain.pem" }
func FullChainFile(name string) string { return name + "-fullchain.pem" }
func PKCS12File(name string) string    { return name + ".p12" }
func LegacyPKCS12File(name string) string {
	return name + "-legacy.p12"
}

// ErrExists reports a file that Force would overwrite.
var ErrExists = errors.New("already exists (use --force to overwrite)")

func (d *Dir) file(name string) string { return filepath.Join(d.Path, name) }

// write writes one file of the directory and records it in Written.
func (d *Dir) write(name string, data []byte, private, force bool) error {
	if err := WriteFile(d.file(name), data, private, force); err != nil {
		return err
	}
	d.Written = append(d.Written, d.file(name))
	return nil
}

// save writes is under the naming rule; leaf adds NAME-fullchain.pem.
func (d *Dir) save(name string, is *Issued, leaf bool) error {
	for _, f := range []string{CertFile(name), KeyFile(name)} {
		if _, err := os.Stat(d.file(f)); err == nil && !d.Force {
			return fmt.Errorf("%s %w", d.file(f), ErrExists)
		}
	}
	key, err := KeyPEM(is.Key)
	if err != nil {
		return err
	}
	if err := d.write(CertFile(name), CertPEM(is.Cert), false, d.Force); err != nil {
		return err
	}
	if err := d.write(KeyFile(name), key, true, d.Force); err != nil {
		return err
	}
	chain := is.ChainWithoutRoot()
	if len(chain) > 1 {
		if err := d.write(ChainFile(name), CertPEM(chain[1:]...), false, d.Force); err != nil {
			return err
		}
	}
	if leaf {
		return d.write(FullChainFile(name), CertPEM(chain...), false, d.Force)
	}
	return nil
}

// recordIssued appends c to the ledger of the CA caName.
func (d *Dir) recordIssued(caName, name string, c *x509.Certificate) error {
	f, err := os.OpenFile(d.file(caName+".issued"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "%X %s %s\n", c.SerialNumber, c.NotAfter.UTC().Format(time.RFC3339), name)
	if err := f.Close(); err != nil {
		return err
	}
	d.Written = append(d.Written, d.file(caName+".issued"))
	return nil
}

// ErrNotIssued reports a serial number a CA of the directory never issued.
var ErrNotIssued = errors.New("was not issued by")

// Issued reports whether the CA caName issued the certificate with serial
// (hexadecimal, colons allowed): it is in the CA's NAME.issued, or a
// certificate of the directory with that serial was signed by the CA
// (directories written before NAME.issued existed). The error wraps
// ErrNotIssued when it did not.
func (d *Dir) Issued(caName, serialHex string) error {
	serial, err := parseSerial(serialHex)
	if err != nil {
		return err
	}
	ca, err := d.LoadCA(caName)
	if err != nil {
		return err
	}
	if data, err := os.ReadFile(d.file(caName + ".issued")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if s, ok := new(big.Int).SetString(f[0], 16); ok && s.Cmp(serial) == 0 {
				return nil
			}
		}
	}
	for _, e := range d.certs() {
		if e.cert.SerialNumber.Cmp(serial) == 0 && string(e.cert.RawIssuer) == string(ca.Cert.RawSubject) && e.cert.CheckSignatureFrom(ca.Cert) == nil {
			return nil
		}
	}
	return fmt.Errorf("serial %X %w %s (edge pki list shows every serial and its issuer)", serial, ErrNotIssued, caName)
}

func parseSerial(s string) (*big.Int, error) {
	serial, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ReplaceAll(strings.TrimSpace(s), ":", ""), "0x"), 16)
	if !ok {
		return nil, fmt.Errorf("serial %q is not hexadecimal", s)
	}
	return serial, nil
}

// LoadCA loads the CA NAME with its chain up to its root.
func (d *Dir) LoadCA(name string) (*CA, error) {
	is, err := Load(d.Path, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no CA named %q in %s (create it with edge pki ca --name %s)", name, d.Path, name)
		}
		return nil, err
	}
	if !is.Cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", d.file(name+".pem"))
	}
	if data, err := os.ReadFile(d.file(ChainFile(name))); err == nil {
		if is.Chain, err = ParseCertsPEM(data); err != nil {
			return nil, fmt.Errorf("%s: %w", d.file(ChainFile(name)), err)
		}
	}
	// The chain file stops below the root; find the root for Issued.Root.
	top := is.Cert
	if len(is.Chain) > 0 {
		top = is.Chain[len(is.Chain)-1]
	}
	if !isSelfSigned(top) {
		if root := d.findIssuer(top); root != nil {
			is.Chain = append(is.Chain, root)
		}
	}
	return &CA{*is}, nil
}

// findIssuer looks for c's issuer among the directory's certificates.
func (d *Dir) findIssuer(c *x509.Certificate) *x509.Certificate {
	for _, e := range d.certs() {
		if string(e.cert.RawSubject) == string(c.RawIssuer) && c.CheckSignatureFrom(e.cert) == nil {
			return e.cert
		}
	}
	return nil
}

// NewCA creates a root CA NAME, or an intermediate when parent is set.
func (d *Dir) NewCA(name, parent string, o Options) (*CA, error) {
	if o.Subject.CommonName == "" {
		o.Subject.CommonName = name
	}
	o.KeyType = d.KeyType
	var ca *CA
	var err error
	if parent == "" {
		ca, err = NewRoot(o)
	} else {
		p, perr := d.LoadCA(parent)
		if perr != nil {
			return nil, perr
		}
		ca, err = p.NewIntermediate(o)
	}
	if err != nil {
		return nil, err
	}
	if err := d.save(name, &ca.Issued, false); err != nil {
		return nil, err
	}
	if parent != "" {
		if err := d.recordIssued(parent, name, ca.Cert); err != nil {
			return nil, err
		}
	}
	return ca, d.write(name+".crlnumber", []byte("0\n"), false, true)
}

// Server issues a server certificate NAME under the CA caName.
func (d *Dir) Server(name, caName string, dns []string, ips []net.IP, o Options) (*Issued, error) {
	ca, err := d.LoadCA(caName)
	if err != nil {
		return nil, err
	}
	o.DNSNames, o.IPs, o.KeyType = dns, ips, d.KeyType
	is, err := ca.IssueServer(o)
	if err != nil {
		return nil, err
	}
	if err := d.save(name, is, true); err != nil {
		return nil, err
	}
	return is, d.recordIssued(caName, name, is.Cert)
}

// Client issues a client certificate NAME under caName and writes
// NAME.p12 (certificate, key and chain; PKCS12Options.Legacy off) and,
// when p12.Legacy, NAME-legacy.p12 too. The friendly name defaults to the
// CN, else NAME.
func (d *Dir) Client(name, caName string, p12 PKCS12Options, o Options) (*Issued, error) {
	// Before anything is issued or written.
	if err := p12.check(o.Subject.CommonName); err != nil {
		return nil, err
	}
	ca, err := d.LoadCA(caName)
	if err != nil {
		return nil, err
	}
	o.KeyType = d.KeyType
	is, err := ca.IssueClient(o)
	if err != nil {
		return nil, err
	}
	if err := d.save(name, is, true); err != nil {
		return nil, err
	}
	if p12.FriendlyName == "" && is.Cert.Subject.CommonName == "" {
		p12.FriendlyName = name
	}
	write := func(file string, legacy bool) error {
		o := p12
		o.Legacy = legacy
		data, err := is.PKCS12(o)
		if err != nil {
			return err
		}
		return d.write(file, data, true, d.Force)
	}
	if err := write(PKCS12File(name), false); err != nil {
		return nil, err
	}
	if p12.Legacy {
		if err := write(LegacyPKCS12File(name), true); err != nil {
			return nil, err
		}
	}
	return is, d.recordIssued(caName, name, is.Cert)
}

// Reasons are the CRL reason codes by their RFC 5280 names.
var Reasons = map[string]int{
	"unspecified": 0, "keyCompromise": 1, "cACompromise": 2, "affiliationChanged": 3, "superseded": 4,
	"cessationOfOperation": 5, "certificateHold": 6, "privilegeWithdrawn": 9, "aACompromise": 10,
}

// Revocation is one line of NAME.revoked.
type Revocation struct {
	Serial *big.Int
	Time   time.Time
	Reason string
}

func (d *Dir) revocations(ca string) ([]Revocation, error) {
	data, err := os.ReadFile(d.file(ca + ".revoked"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Revocation
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		s, ok := new(big.Int).SetString(f[0], 16)
		t, err := time.Parse(time.RFC3339, f[1])
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: malformed revocation", d.file(ca+".revoked"), i+1)
		}
		out = append(out, Revocation{Serial: s, Time: t, Reason: f[2]})
	}
	return out, nil
}

// Revoke records that ca revoked serial (hex) for reason and rewrites its
// CRL with nextUpdate after validFor. It does not ask whether the CA
// issued serial (tests revoke certificates made outside the directory);
// `edge pki revoke` asks Issued first.
func (d *Dir) Revoke(caName, serialHex, reason string, validFor time.Duration) error {
	if _, ok := Reasons[reason]; !ok {
		names := make([]string, 0, len(Reasons))
		for n := range Reasons {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown reason %q (want one of %s)", reason, strings.Join(names, ", "))
	}
	serial, err := parseSerial(serialHex)
	if err != nil {
		return err
	}
	if _, err := d.LoadCA(caName); err != nil {
		return err
	}
	revs, err := d.revocations(caName)
	if err != nil {
		return err
	}
	for _, r := range revs {
		if r.Serial.Cmp(serial) == 0 {
			return fmt.Errorf("serial %X is already revoked by %s", serial, caName)
		}
	}
	f, err := os.OpenFile(d.file(caName+".revoked"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "%X %s %s\n", serial, time.Now().UTC().Format(time.RFC3339), reason)
	if err := f.Close(); err != nil {
		return err
	}
	d.Written = append(d.Written, d.file(caName+".revoked"))
	_, err = d.CRL(caName, validFor)
	return err
}

// CRL writes the CA's CRL as NAME.crl.pem and NAME.crl.der, valid for
// validFor; its CRL number is one more than the last one written.
func (d *Dir) CRL(caName string, validFor time.Duration) (*x509.RevocationList, error) {
	ca, err := d.LoadCA(caName)
	if err != nil {
		return nil, err
	}
	revs, err := d.revocations(caName)
	if err != nil {
		return nil, err
	}
	n := int64(0)
	if data, err := os.ReadFile(d.file(caName + ".crlnumber")); err == nil {
		n, _ = strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	}
	n++ // CRL numbers only grow (RFC 5280 §5.2.3)
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.RevocationList{Number: big.NewInt(n), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(validFor)}
	for _, r := range revs {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: r.Serial, RevocationTime: r.Time, ReasonCode: Reasons[r.Reason]})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, err
	}
	if err := d.write(caName+".crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), false, true); err != nil {
		return nil, err
	}
	if err := d.write(caName+".crl.der", der, false, true); err != nil {
		return nil, err
	}
	if err := d.write(caName+".crlnumber", []byte(strconv.FormatInt(n, 10)+"\n"), false, true); err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(der)
}

// Bundle writes out as a trust-store bundle of the named CAs in ALB's
// format: PEM blocks only, no blank lines, a '#' comment naming each. The
// bundle is checked with the rules edge and ALB load it with
// (truststore.ParseBundle: at most 25 CA certificates that meet ALB's
// certificate requirements); a bundle they would refuse is not written
// and the error is the *truststore.BundleError.
func (d *Dir) Bundle(out string, names ...string) error {
	var b strings.Builder
	for _, n := range names {
		is, err := Load(d.Path, n)
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		if !is.Cert.IsCA {
			return fmt.Errorf("%s is not a CA certificate; ALB bundles hold CA certificates only", n)
		}
		// ALB allows '#' comments without '-'.
		fmt.Fprintf(&b, "# %s\n", strings.ReplaceAll(n, "-", " "))
		b.Write(CertPEM(is.Cert))
	}
	if _, err := truststore.ParseBundle(pemfile.File(out), []byte(b.String())); err != nil {
		return fmt.Errorf("not writing %s, as edge and ALB would refuse it: %w", out, err)
	}
	if err := WriteFile(out, []byte(b.String()), false, d.Force); err != nil {
		return err
	}
	d.Written = append(d.Written, out)
	return nil
}

// Entry is one certificate of the directory, for List.
type Entry struct {
	Name     string
	Cert     *x509.Certificate
	Children []*Entry
	Revoked  bool
}

type dirCert struct {
	name string
	cert *x509.Certificate
}

// certs reads every NAME.pem of the directory that holds a certificate
// with a matching NAME.key.
func (d *Dir) certs() []dirCert {
	matches, _ := filepath.Glob(filepath.Join(d.Path, "*.pem"))
	var out []dirCert
	for _, m := range matches {
		base := strings.TrimSuffix(filepath.Base(m), ".pem")
		if strings.HasSuffix(base, "-chain") || strings.HasSuffix(base, "-fullchain") || strings.HasSuffix(base, ".crl") {
			continue
		}
		if _, err := os.Stat(d.file(base + ".key")); err != nil {
			continue
		}
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		cs, err := ParseCertsPEM(data)
		if err != nil {
			continue
		}
		out = append(out, dirCert{base, cs[0]})
	}
	return out
}

// List returns the directory's certificates as trees: roots, each with
// the certificates it issued.
func (d *Dir) List() ([]*Entry, error) {
	all := d.certs()
	entries := make([]*Entry, len(all))
	for i, c := range all {
		entries[i] = &Entry{Name: c.name, Cert: c.cert}
	}
	revoked := map[*Entry]bool{}
	var roots []*Entry
	for _, e := range entries {
		var parent *Entry
		if !isSelfSigned(e.Cert) {
			for _, p := range entries {
				if p != e && string(p.Cert.RawSubject) == string(e.Cert.RawIssuer) && e.Cert.CheckSignatureFrom(p.Cert) == nil {
					parent = p
					break
				}
			}
		}
		if parent == nil {
			roots = append(roots, e)
			continue
		}
		parent.Children = append(parent.Children, e)
		revs, _ := d.revocations(parent.Name)
		for _, r := range revs {
			if r.Serial.Cmp(e.Cert.SerialNumber) == 0 {
				revoked[e] = true
			}
		}
	}
	for e := range revoked {
		e.Revoked = true
	}
	var sortTree func([]*Entry)
	sortTree = func(es []*Entry) {
		sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
		for _, e := range es {
			sortTree(e.Children)
		}
	}
	sortTree(roots)
	return roots, nil
}

// SubjectFlags builds a subject from the usual attribute flags.
func SubjectFlags(cn, ou, o, l, st, c string) pkix.Name {
	n := pkix.Name{CommonName: cn}
	add := func(dst *[]string, v string) {
		if v != "" {
			*dst = append(*dst, v)
		}
	}
	add(&n.OrganizationalUnit, ou)
	add(&n.Organization, o)
	add(&n.Locality, l)
	add(&n.Province, st)
	add(&n.Country, c)
	return n
}
