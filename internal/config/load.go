package config

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"edge/internal/suggest"
)

// Problem is one thing wrong with a configuration or a file it references.
// As an error it reads as String does and unwraps to Err, so errors.Is and
// errors.As see the cause through a Problem (and through Problems):
// truststore.ErrInvalidRevocationContent, *truststore.BundleError,
// fs.ErrNotExist, syscall.EADDRINUSE of a server.ListenError...
type Problem struct {
	// File is the file at fault (the config itself or a referenced file).
	File string
	// Line is 1-based; 0 when the problem has no line.
	Line int
	// Msg says what is wrong, starting with the key path when there is one.
	Msg string
	// Err is the typed cause, when there is one (Msg already says it in
	// words); nil for problems found in the text itself.
	Err error
}

// Error is String: a Problem is an error.
func (p Problem) Error() string { return p.String() }

// Unwrap returns the cause (nil when there is none).
func (p Problem) Unwrap() error { return p.Err }

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	if p.File != "" {
		return p.File + ": " + p.Msg
	}
	return p.Msg
}

// Problems is every problem found; as an error it reads one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns every Problem, so errors.Is and errors.As reach each
// problem's cause.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	return LoadWith(path, Options{})
}

// Options change what a configuration must hold.
type Options struct {
	// AWSEndpoint says the AWS endpoint runs whatever the file says
	// (edge serve --aws): its listeners may all come from the API, so a
	// file without listeners is valid, as with an aws: block.
	AWSEndpoint bool
}

// LoadWith is Load with options.
func LoadWith(path string, o Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: readError(err), Err: err}}
	}
	c, ps := parseAll(data, path, o)
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

func readError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse parses configuration text. file names it in messages and is the
// base for relative paths. Unknown keys and values of the wrong kind are
// reported with their line; then the values are checked (Validate).
func Parse(data []byte, file string) (*Config, error) {
	c, ps := ParseAll(data, file)
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// LoadAll is Load for edge check, which reports every problem in one run.
// See ParseAll.
func LoadAll(path string) (*Config, Problems) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: readError(err), Err: err}}
	}
	return ParseAll(data, path)
}

// ParseAll parses as Parse does but goes on past unknown keys, which
// change no value: it then also decodes and validates the rest. The
// configuration is returned, for checks of the files it names, when the
// only problems are unknown keys; it is nil when a value could not be read
// or failed validation.
func ParseAll(data []byte, file string) (*Config, Problems) {
	return parseAll(data, file, Options{})
}

func parseAll(data []byte, file string, o Options) (*Config, Problems) {
	c := &Config{File: file, Dir: filepath.Dir(file), lines: map[string]int{}, awsEndpoint: o.AWSEndpoint}
	if types := pemTypes(data); types != "" {
		return nil, Problems{{File: file, Msg: fmt.Sprintf("this is a PEM file (%s), not a YAML configuration: -c takes the edge.yaml that names it (listeners[].certificates for certificates and keys, trust_stores[].ca_certificates_bundle for CA bundles)", types)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlProblems(file, data, err)
	}
	if len(root.Content) == 0 {
		return nil, Problems{{File: file, Msg: "the configuration is empty"}}
	}
	doc := root.Content[0]
	var ps Problems
	unknown := c.walk(doc, reflect.TypeOf(Config{}), "", &ps)
	if len(ps) > unknown {
		return nil, ps // a value of the wrong kind: decoding would fail
	}
	if err := doc.Decode(c); err != nil {
		return nil, append(ps, yamlProblems(file, data, err)...)
	}
	if vs := c.Validate(); len(vs) > 0 {
		return nil, append(ps, vs...)
	}
	return c, ps
}

// yamlLine matches the "line N: " yaml.v3 puts before its messages.
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlProblems turns a yaml.v3 error into file:line problems. A tab in
// the indentation gets its own line and message: yaml.v3 reports it on an
// earlier line, or as a character that "cannot start any token".
func yamlProblems(file string, data []byte, err error) Problems {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	}
	var ps Problems
	for _, m := range msgs {
		p := Problem{File: file, Msg: m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Msg = sm[2]
		}
		if n := tabLine(data, p.Line, p.Msg); n > 0 {
			p.Line, p.Msg = n, "a tab in the indentation: YAML does not allow tabs; indent with spaces"
		}
		ps = append(ps, p)
	}
	return ps
}

// tabLine finds the line a yaml.v3 tab error is about: the reported line
// when a tab indents it, else the next line a tab indents. 0 means the
// error is not about a tab.
func tabLine(data []byte, reported int, msg string) int {
	aboutTab := strings.Contains(msg, "tab character")
	if !aboutTab && !strings.Contains(msg, "cannot start any token") {
		return 0
	}
	lines := strings.Split(string(data), "\n")
	indentedByTab := func(i int) bool {
		l := lines[i]
		return strings.ContainsRune(l[:len(l)-len(strings.TrimLeft(l, " \t"))], '\t')
	}
	if reported < 1 || reported > len(lines) {
		return 0
	}
	if indentedByTab(reported - 1) {
		return reported
	}
	if !aboutTab {
		return 0 // another character that cannot start a token
	}
	for i := reported; i < len(lines); i++ {
		if indentedByTab(i) {
			return i + 1
		}
	}
	return 0
}

// pemTypes returns the PEM block types of data ("CERTIFICATE") when data
// is a PEM file rather than YAML, else "".
func pemTypes(data []byte) string {
	rest := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
		return ""
	}
	var types []string
	for {
		b, r := pem.Decode(rest)
		if b == nil {
			break
		}
		q := strconv.Quote(b.Type)
		if len(types) == 0 || types[len(types)-1] != q {
			types = append(types, q)
		}
		rest = r
	}
	if len(types) == 0 {
		line, _, _ := bytes.Cut(data, []byte("\n"))
		return strconv.Quote(strings.Trim(strings.TrimSpace(string(line)), "-"))
	}
	return strings.Join(types, ", ")
}

// Line returns the line of the key at path ("listeners[0].port"), or of
// the nearest enclosing key that has one.
func (c *Config) Line(path string) int {
	for path != "" {
		if n, ok := c.lines[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Problem returns a Problem at the key path, with the path in front.
func (c *Config) Problem(path, format string, args ...any) Problem {
	return Problem{File: c.File, Line: c.Line(path), Msg: path + ": " + fmt.Sprintf(format, args...)}
}

// ProblemErr is Problem with its typed cause err (Problem.Err).
func (c *Config) ProblemErr(err error, path, format string, args ...any) Problem {
	p := c.Problem(path, format, args...)
	p.Err = err
	return p
}

// Path resolves p relative to the configuration's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// walk checks n against type t: unknown keys, mappings where structs are
// expected, lists where slices are, integers and booleans where they are
// expected. It records the line of every key it visits and returns how
// many of the problems it added are unknown keys.
func (c *Config) walk(n *yaml.Node, t reflect.Type, path string, ps *Problems) (unknown int) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		if _, ok := c.lines[path]; !ok {
			c.lines[path] = n.Line
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return 0 // an empty value leaves the default
	}
	bad := func(want string) {
		*ps = append(*ps, Problem{File: c.File, Line: n.Line, Msg: fmt.Sprintf("%s: expected %s, got %s", path, want, describe(n))})
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.ScalarNode && t == reflect.TypeOf(Revocation{}) {
			return 0 // a revocation given as its file name
		}
		if n.Kind != yaml.MappingNode {
			bad("a mapping of keys")
			return 0
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			ft, ok := fields[k.Value]
			if !ok {
				*ps = append(*ps, Problem{File: c.File, Line: k.Line, Msg: unknownKey(path, k.Value, fields)})
				unknown++
				continue
			}
			c.lines[p] = k.Line
			unknown += c.walk(v, ft, p, ps)
		}
	case reflect.Map:
		// Attributes: any keys (checked against the attribute table by
		// Validate), scalar values.
		if n.Kind != yaml.MappingNode {
			bad("a mapping of keys")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := path + "." + k.Value
			c.lines[p] = k.Line
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			if v.Kind != yaml.ScalarNode {
				*ps = append(*ps, Problem{File: c.File, Line: v.Line, Msg: fmt.Sprintf("%s: expected a string, number or boolean, got %s", p, describe(v))})
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			bad("a list")
			return 0
		}
		for i, item := range n.Content {
			unknown += c.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), ps)
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			bad("an integer")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			bad("true or false")
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			bad("a string")
		}
	}
	return unknown
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func unknownKey(path, key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	return fmt.Sprintf("unknown key %q %s (did you mean %q? valid keys: %s)", key, where, suggest.Nearest(key, names), strings.Join(names, ", "))
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		m[tag] = f.Type
	}
	return m
}
