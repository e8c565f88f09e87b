package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/pki"
)

// StateDirFor is the state directory for the file layer f, as an
// absolute path: override when set (relative to the working directory),
// else aws.state_dir (relative to f's directory), else DefaultStateDir
// beside f.
func StateDirFor(f *config.Config, override string) string {
	dir := f.Path(DefaultStateDir)
	switch {
	case override != "":
		dir = override
	case f.AWS != nil && f.AWS.StateDir != "":
		dir = f.Path(f.AWS.StateDir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// ExportFile is the configuration file Export writes.
const ExportFile = "edge.yaml"

// Exported says what Export wrote.
type Exported struct {
	// Config is the written configuration, as config.Load reads it back.
	Config *config.Config
	// Files are the files copied beside it (bundles, CRLs, certificates,
	// keys), by their new name.
	Files []string
	// Notes are what the export left out.
	Notes []string
}

// ErrNoListeners is Export's error when the state and the file layer hold
// no load balancer listener: an edge.yaml without listeners (and without
// the aws and api_gateway blocks export leaves out) does not load.
var ErrNoListeners = errors.New("nothing to export: no load balancer listeners")

// Export writes the configuration edge serves for the state in stateDir
// and the file layer file (nil for none) as outDir/edge.yaml, with every
// file it reads copied beside it — trust-store bundles, CRLs (with their
// revocation ids pinned), certificates and keys — so that `edge serve -c
// outDir/edge.yaml` serves the same load balancers, listeners and verdicts
// without the AWS endpoint. The aws, s3, quotas and api_gateway blocks are
// left out (Notes says so); without a listener to write the error wraps
// ErrNoListeners. outDir is created; an existing edge.yaml in it, or a
// file export would overwrite, is an error, so nothing is overwritten.
// Export works in a directory of its own beside outDir and moves the
// files into place once the written edge.yaml loads: a failed export
// leaves nothing behind.
func Export(stateDir string, file *config.Config, outDir string) (*Exported, error) {
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
	}
	if _, err := os.Stat(stateDir); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", stateDir, err)
	}
	store, err := elbv2.OpenStore(stateDir)
	if err != nil {
		return nil, err
	}
	st, err := store.Load()
	if err != nil {
		return nil, err
	}
	// The dev CA that serves certificates named only by ARN is .edge
	// beside the configuration file, or in the working directory when edge
	// serve --aws ran without one.
	devDir := ".edge"
	if file != nil && file.File != "" {
		devDir = file.Path(".edge")
	}
	if abs, err := filepath.Abs(devDir); err == nil {
		devDir = abs
	}
	if file == nil {
		if file, err = config.Parse([]byte("aws: {}\n"), filepath.Join(stateDir, "edge.yaml")); err != nil {
			return nil, err
		}
		file.File = ""
	}
	cfg, _, err := Derive(st, file, Quotas(file.Quotas), nil)
	if err != nil {
		return nil, fmt.Errorf("the state does not make a valid configuration: %w", err)
	}
	if len(cfg.Listeners) == 0 {
		where := "the state in " + stateDir
		if file.File != "" {
			where += " or in " + file.File
		}
		return nil, fmt.Errorf("%w in %s. edge export writes ELBv2 state (load balancers, listeners, "+
			"trust stores, target groups) as an edge.yaml that edge serve loads; the api_gateway block "+
			"and API Gateway domains are left out (see docs/aws-endpoint.md \"edge export\"). Nothing was written",
			ErrNoListeners, where)
	}
	out := filepath.Join(outDir, ExportFile)
	if _, err := os.Stat(out); err == nil {
		return nil, fmt.Errorf("%s exists: export into an empty directory", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(outDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(parent, ".edge-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work) // empty once moved into place
	res, err := exportInto(work, stateDir, cfg)
	if err != nil {
		return nil, err
	}
	if usesDevCA(cfg) {
		switch err := copyDevPKI(devDir, filepath.Join(work, ".edge")); {
		case err == nil:
			res.Files = append(res.Files, ".edge/")
			res.Notes = append(res.Notes, fmt.Sprintf(".edge: the dev CA of %s, copied: listeners named only by certificate_arn serve certificates from it, so clients that trust its root.pem keep working", devDir))
		case errors.Is(err, fs.ErrNotExist):
			res.Notes = append(res.Notes, fmt.Sprintf("no dev CA in %s: listeners named only by certificate_arn will serve certificates from a new dev CA (its root.pem is what clients must trust)", devDir))
		default:
			return nil, fmt.Errorf("copying the dev CA %s: %w", devDir, err)
		}
	}
	if err := moveInto(work, outDir); err != nil {
		return nil, err
	}
	if res.Config, err = config.Load(out); err != nil {
		return nil, fmt.Errorf("the exported %s does not load (a bug in edge export): %w", out, err)
	}
	return res, nil
}

// usesDevCA tells whether a listener of cfg is named only by its
// certificate ARN (served from the dev CA: ACM is not emulated).
func usesDevCA(cfg *config.Config) bool {
	for _, l := range cfg.Listeners {
		for _, c := range l.Certificates {
			if c.Certificate == "" && c.CertificateArn != "" {
				return true
			}
		}
	}
	return false
}

// copyDevPKI copies the files of the dev PKI in src (pki.EnsureDev's; not
// its state directory) into dst, keeping their modes; fs.ErrNotExist
// when src holds no dev PKI.
func copyDevPKI(src, dst string) error {
	if _, err := os.Stat(filepath.Join(src, pki.DevBundleFile)); err != nil {
		return err
	}
	es, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return err
	}
	for _, e := range es {
		if !e.Type().IsRegular() {
			continue // state/, sockets
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// exportInto writes cfg and its files into the empty directory dir and
// checks that the written edge.yaml loads.
func exportInto(dir, stateDir string, cfg *config.Config) (*Exported, error) {
	x := &exporter{cfg: cfg, dir: dir, names: map[string]string{}, used: map[string]bool{}}
	res := &Exported{}
	var err error
	for i := range cfg.TrustStores {
		ts := &cfg.TrustStores[i]
		if ts.CACertificatesBundle, err = x.copy(ts.CACertificatesBundle, ts.Name+".bundle.pem"); err != nil {
			return nil, err
		}
		for j := range ts.Revocations {
			r := &ts.Revocations[j]
			if r.File, err = x.copy(r.File, fmt.Sprintf("%s.revocation-%d.crl.pem", ts.Name, r.RevocationID)); err != nil {
				return nil, err
			}
		}
	}
	for i := range cfg.Listeners {
		for j := range cfg.Listeners[i].Certificates {
			c := &cfg.Listeners[i].Certificates[j]
			base := fmt.Sprintf("listener-%d-certificate-%d", i, j)
			for _, f := range []struct {
				p      *string
				suffix string
			}{{&c.Certificate, ".pem"}, {&c.PrivateKey, ".key"}, {&c.CertificateChain, "-chain.pem"}} {
				if *f.p == "" {
					continue
				}
				if *f.p, err = x.copy(*f.p, base+f.suffix); err != nil {
					return nil, err
				}
			}
		}
	}
	if cfg.AWS != nil {
		res.Notes = append(res.Notes, "aws: left out (the exported file serves without the AWS endpoint; add an aws: block to serve it again)")
	}
	if cfg.S3 != nil {
		res.Notes = append(res.Notes, "s3: left out")
	}
	if cfg.APIGateway != nil {
		res.Notes = append(res.Notes, "api_gateway: left out (export it from its own configuration)")
	}
	cfg.AWS, cfg.S3, cfg.APIGateway, cfg.Quotas = nil, nil, nil, config.Quotas{}
	data, err := marshal(cfg, stateDir)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, ExportFile)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return nil, err
	}
	res.Files = x.files
	if _, err := config.Load(out); err != nil {
		return nil, fmt.Errorf("the exported %s does not load (a bug in edge export): %w", ExportFile, err)
	}
	return res, nil
}

// moveInto moves the files of work into outDir: the whole directory when
// outDir does not exist, else file by file with edge.yaml last, refusing
// (before moving any) a name outDir already holds and taking the moved
// ones back if a move fails.
func moveInto(work, outDir string) error {
	if _, err := os.Stat(outDir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Chmod(work, 0o755); err != nil {
			return err
		}
		return os.Rename(work, outDir)
	} else if err != nil {
		return err
	}
	es, err := os.ReadDir(work)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range es {
		if e.Name() != ExportFile {
			names = append(names, e.Name())
		}
	}
	names = append(names, ExportFile)
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(outDir, n)); err == nil {
			return fmt.Errorf("%s exists: export into an empty directory (edge export does not overwrite files)", filepath.Join(outDir, n))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	for i, n := range names {
		if err := os.Rename(filepath.Join(work, n), filepath.Join(outDir, n)); err != nil {
			for _, m := range names[:i] {
				os.Remove(filepath.Join(outDir, m))
			}
			return err
		}
	}
	return nil
}

type exporter struct {
	cfg   *config.Config
	dir   string
	names map[string]string // source path → name written
	used  map[string]bool
	files []string
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// copy copies the file at path (relative to the configuration) into the
// export directory as name (or a variant when taken) and returns the name.
func (x *exporter) copy(path, name string) (string, error) {
	src := x.cfg.Path(path)
	if n, ok := x.names[src]; ok {
		return n, nil
	}
	name = unsafeName.ReplaceAllString(name, "_")
	for i := 2; x.used[name]; i++ {
		name = strconv.Itoa(i) + "-" + name
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(x.dir, name), data, 0o600); err != nil {
		return "", err
	}
	x.names[src], x.used[name] = name, true
	x.files = append(x.files, name)
	return name, nil
}

// marshal writes cfg as YAML without the keys that hold nothing (null,
// "", empty lists and mappings), so the file reads like a hand-written one.
func marshal(cfg *config.Config, stateDir string) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(cfg); err != nil {
		return nil, err
	}
	prune(&n)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by edge export from the state in %s at %s.\n", stateDir, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# The file layer and the API's resources, with the API's ids: serve it with edge serve -c %s.\n", ExportFile)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// prune removes mapping entries whose value is empty; it reports whether
// n itself is empty.
func prune(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			prune(c)
		}
		return false
	case yaml.MappingNode:
		var keep []*yaml.Node
		zeros := true // a block of zero counts (quotas) says nothing
		for i := 0; i+1 < len(n.Content); i += 2 {
			v := n.Content[i+1]
			if !prune(v) {
				keep = append(keep, n.Content[i], v)
				zeros = zeros && v.Kind == yaml.ScalarNode && v.Tag == "!!int" && v.Value == "0"
			}
		}
		n.Content = keep
		n.Style = 0
		return len(keep) == 0 || zeros
	case yaml.SequenceNode:
		for _, c := range n.Content {
			prune(c)
		}
		return len(n.Content) == 0
	case yaml.ScalarNode:
		return n.Tag == "!!null" || n.Tag == "!!str" && n.Value == ""
	}
	return false
}
