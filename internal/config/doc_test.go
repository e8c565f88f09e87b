package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"edge/internal/config"
)

// schemaKey is one key of the configuration schema.
type schemaKey struct {
	path string // "listeners[].mutual_authentication.mode"
	kind string // the first word(s) its type cell must start with
	// required: the first place a struct type appears documents its keys;
	// its later places only need the key that holds it.
	required bool
}

// schemaKeys walks the configuration structs by their yaml tags: every
// key, with [] for lists. It is driven by the structs, so a key added to
// them is a key the reference must document.
func schemaKeys() []schemaKey {
	var out []schemaKey
	documented := map[reflect.Type]string{}
	var walk func(t reflect.Type, prefix string, required bool)
	walk = func(t reflect.Type, prefix string, required bool) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			p := tag
			if prefix != "" {
				p = prefix + "." + tag
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			out = append(out, schemaKey{path: p, kind: kindOf(ft), required: required})
			var inner reflect.Type
			innerPath := p
			switch {
			case ft.Kind() == reflect.Struct:
				inner = ft
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				inner, innerPath = ft.Elem(), p+"[]"
			case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
				inner, innerPath = ft.Elem(), p+".*"
			}
			if inner != nil {
				_, seen := documented[inner]
				if !seen {
					documented[inner] = innerPath
				}
				walk(inner, innerPath, required && !seen)
			}
		}
	}
	walk(reflect.TypeOf(config.Config{}), "", true)
	return out
}

func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.Struct, reflect.Map:
		return "mapping"
	case reflect.Slice:
		if e := t.Elem(); e.Kind() == reflect.Struct || e.Kind() == reflect.Map {
			return "list of mappings"
		}
		return "list of " + kindOf(t.Elem()) + "s"
	}
	return t.Kind().String()
}

// docRow matches a row of the reference tables:
// | `key.path` | type | default | ELBv2 name | description |
var docRow = regexp.MustCompile("(?m)^\\| `([^`]+)` \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\|\\s*$")

// docs/configuration.md documents every key of the schema: its type (as
// the struct has it), default, ELBv2 name and what it does; and no key the
// schema lacks.
func TestConfigurationReferenceIsComplete(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, m := range docRow.FindAllStringSubmatch(string(data), -1) {
		if _, dup := rows[m[1]]; dup {
			t.Errorf("docs/configuration.md documents %s twice", m[1])
		}
		rows[m[1]] = m[2:]
	}
	keys := schemaKeys()
	valid := map[string]bool{}
	for _, k := range keys {
		valid[k.path] = true
		row, ok := rows[k.path]
		if !ok {
			if k.required {
				t.Errorf("docs/configuration.md lacks a row for `%s` (%s)", k.path, k.kind)
			}
			continue
		}
		typ, def, elb, desc := strings.TrimSpace(row[0]), strings.TrimSpace(row[1]), strings.TrimSpace(row[2]), strings.TrimSpace(row[3])
		if !strings.HasPrefix(typ, k.kind) {
			t.Errorf("`%s`: type %q; the schema has %s", k.path, typ, k.kind)
		}
		if def == "" || elb == "" || len(desc) < 10 {
			t.Errorf("`%s`: the default, ELBv2 name and description must each be given (\"—\" when there is none)", k.path)
		}
	}
	var stale []string
	for p := range rows {
		if !valid[p] {
			stale = append(stale, p)
		}
	}
	sort.Strings(stale)
	for _, p := range stale {
		t.Errorf("docs/configuration.md documents `%s`, which the schema does not have", p)
	}
	if len(keys) < 50 {
		t.Fatalf("walked only %d keys", len(keys))
	}
}
