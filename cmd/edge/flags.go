package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// Flags that more than one command takes are declared here, once, so that
// a flag means one thing everywhere: -c is always the configuration file,
// --cert and --key always PEM files, --key-type the algorithm of new keys.

// configFlag declares -c (and --config), the configuration file.
func configFlag(fs *flag.FlagSet) *string {
	p := fs.String("c", "", "configuration `FILE` (YAML)")
	fs.StringVar(p, "config", "", "configuration `FILE` (YAML)")
	return p
}

// certFlag declares --cert, a PEM chain presented by a client.
func certFlag(fs *flag.FlagSet) *string {
	return fs.String("cert", "", "client certificate `FILE` (PEM: the certificate, then its issuers, as NAME-fullchain.pem)")
}

// keyFileFlag declares --key, the PEM private key of --cert.
func keyFileFlag(fs *flag.FlagSet) *string {
	return fs.String("key", "", "private key `FILE` (PEM) of --cert")
}

// formatFlag declares --format text|json.
func formatFlag(fs *flag.FlagSet) *string {
	return enumFlag(fs, "format", "text", "output `FORMAT`", "text", "json")
}

// enum is a string flag with a closed set of values, checked when the flag
// is parsed: a value outside it is a usage error (exit 2) before the
// command runs.
type enum struct {
	v       *string
	allowed []string
}

func (e *enum) String() string {
	if e.v == nil {
		return ""
	}
	return *e.v
}

func (e *enum) Set(s string) error {
	for _, a := range e.allowed {
		if s == a {
			*e.v = s
			return nil
		}
	}
	return fmt.Errorf("want %s", orList(e.allowed))
}

// enumFlag declares a flag whose value is one of allowed; the usage lists
// them.
func enumFlag(fs *flag.FlagSet, name, def, usage string, allowed ...string) *string {
	v := def
	fs.Var(&enum{&v, allowed}, name, usage+": "+orList(allowed))
	return &v
}

// orList joins "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// minInt is an integer flag with a lower bound, checked when parsed.
type minInt struct {
	v   *int
	min int
}

func (m *minInt) String() string {
	if m.v == nil {
		return "0"
	}
	return strconv.Itoa(*m.v)
}

func (m *minInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer")
	}
	if n < m.min {
		return fmt.Errorf("must be at least %d", m.min)
	}
	*m.v = n
	return nil
}

// intFlag declares an integer flag of at least min.
func intFlag(fs *flag.FlagSet, name string, def, min int, usage string) *int {
	v := def
	fs.Var(&minInt{&v, min}, name, usage)
	return &v
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// forceFlag declares --force: overwrite files a command would otherwise
// leave alone.
func forceFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("force", false, "overwrite existing files")
}
