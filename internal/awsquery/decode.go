package awsquery

import (
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// MaxListLen bounds the index of a list member or map entry; AWS's own
// lists are far shorter (ELBv2's longest is 400). A larger index is a
// ValidationError, so a hostile "X.member.999999999" allocates nothing.
const MaxListLen = 1000

// node is one dotted key segment: its value when the key ends here, and
// the keys below it.
type node struct {
	val      string
	hasVal   bool
	children map[string]*node
}

func (n *node) child(k string) *node {
	if n == nil {
		return nil
	}
	return n.children[k]
}

func buildTree(form url.Values) *node {
	root := &node{}
	for k, vs := range form {
		n := root
		for _, seg := range strings.Split(k, ".") {
			if n.children == nil {
				n.children = map[string]*node{}
			}
			c := n.children[seg]
			if c == nil {
				c = &node{}
				n.children[seg] = c
			}
			n = c
		}
		if len(vs) > 0 {
			n.val, n.hasVal = vs[0], true
		}
	}
	return root
}

// Decode fills the struct v points to from Query parameters (Action and
// Version are ignored unless v has such fields). Unknown parameters are
// ignored, as AWS ignores them. Errors are *Error with code
// ValidationError, naming the member at fault.
func Decode(form url.Values, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic("awsquery.Decode: v must point to a struct")
	}
	return decodeStruct(buildTree(form), rv.Elem(), "")
}

// fieldName is the wire name of a struct field ("" to skip it).
func fieldName(f reflect.StructField) string {
	if !f.IsExported() || f.Name == "XMLName" {
		return ""
	}
	tag := f.Tag.Get("xml")
	if tag == "-" {
		return ""
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return f.Name
}

func decodeStruct(n *node, rv reflect.Value, path string) error {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.IsExported() {
			// Embedded structs share their members with the outer one.
			if err := decodeStruct(n, rv.Field(i), path); err != nil {
				return err
			}
			continue
		}
		name := fieldName(f)
		if name == "" {
			continue
		}
		p := name
		if path != "" {
			p = path + "." + name
		}
		c := n.child(name)
		if c == nil {
			if f.Tag.Get("aws") == "required" {
				return ValidationError(nil, p, "Member must not be null")
			}
			continue
		}
		if err := decodeValue(c, rv.Field(i), p); err != nil {
			return err
		}
	}
	return nil
}

func decodeValue(n *node, rv reflect.Value, path string) error {
	switch rv.Kind() {
	case reflect.Pointer:
		e := reflect.New(rv.Type().Elem())
		if err := decodeValue(n, e.Elem(), path); err != nil {
			return err
		}
		rv.Set(e)
		return nil
	case reflect.Struct:
		return decodeStruct(n, rv, path)
	case reflect.Slice:
		return decodeList(n, rv, path)
	case reflect.Map:
		return decodeMap(n, rv, path)
	}
	if !n.hasVal {
		// Only nested keys were given for a scalar ("Port.x=1").
		return ValidationError(nil, path, "Member must be a scalar value")
	}
	s := n.val
	switch rv.Kind() {
	case reflect.String:
		rv.SetString(s)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			rv.SetBool(true)
		case "false":
			rv.SetBool(false)
		default:
			return ValidationError(&s, path, "Member must be true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, err := strconv.ParseInt(s, 10, rv.Type().Bits())
		if err != nil {
			return ValidationError(&s, path, "Member must be an integer")
		}
		rv.SetInt(x)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, rv.Type().Bits())
		if err != nil {
			return ValidationError(&s, path, "Member must be a number")
		}
		rv.SetFloat(x)
	default:
		panic("awsquery: unsupported field kind " + rv.Kind().String() + " at " + path)
	}
	return nil
}

// indexed returns the children of n's container key (member or entry) in
// index order.
func indexed(n *node, container, path string) ([]*node, error) {
	c := n.child(container)
	if c == nil {
		return nil, nil
	}
	type item struct {
		i int
		n *node
	}
	items := make([]item, 0, len(c.children))
	for k, v := range c.children {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || i > MaxListLen || k[0] == '0' || k[0] == '+' {
			return nil, ValidationError(&k, path+"."+container, "Member index must be an integer from 1 to "+strconv.Itoa(MaxListLen))
		}
		items = append(items, item{i, v})
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]*node, len(items))
	for i, it := range items {
		out[i] = it.n
	}
	return out, nil
}

func decodeList(n *node, rv reflect.Value, path string) error {
	items, err := indexed(n, "member", path)
	if err != nil {
		return err
	}
	if items == nil && n.hasVal && n.val != "" {
		v := n.val
		return ValidationError(&v, path, "Member must be a list (Name.member.N)")
	}
	// "Name=" (an empty list) and Name.member.N both make a non-nil slice.
	s := reflect.MakeSlice(rv.Type(), len(items), len(items))
	for i, it := range items {
		if err := decodeValue(it, s.Index(i), path+".member."+strconv.Itoa(i+1)); err != nil {
			return err
		}
	}
	rv.Set(s)
	return nil
}

func decodeMap(n *node, rv reflect.Value, path string) error {
	if rv.Type().Key().Kind() != reflect.String {
		panic("awsquery: map keys must be strings at " + path)
	}
	items, err := indexed(n, "entry", path)
	if err != nil {
		return err
	}
	m := reflect.MakeMapWithSize(rv.Type(), len(items))
	for i, it := range items {
		p := path + ".entry." + strconv.Itoa(i+1)
		k := it.child("key")
		if k == nil || !k.hasVal {
			return ValidationError(nil, p+".key", "Member must not be null")
		}
		v := reflect.New(rv.Type().Elem()).Elem()
		if vn := it.child("value"); vn != nil {
			if err := decodeValue(vn, v, p+".value"); err != nil {
				return err
			}
		}
		m.SetMapIndex(reflect.ValueOf(k.val).Convert(rv.Type().Key()), v)
	}
	rv.Set(m)
	return nil
}
