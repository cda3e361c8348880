package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	// maxNodes bounds the nodes the walker visits, so that a small
	// document whose aliases and merge keys expand into a huge tree
	// ("billion laughs") cannot exhaust time or memory. It allows configs
	// with over ten thousand feeds.
	maxNodes = 100_000
	// maxErrors bounds the problems reported for one document.
	maxErrors = 200
)

var durationType = reflect.TypeFor[time.Duration]()

// decoder walks a YAML node tree against Go struct types by reflection over
// their yaml tags, recording the position of every path it visits and
// collecting every problem instead of stopping at the first.
type decoder struct {
	file    string
	pos     map[string]position
	errs    Errors
	tainted map[string]bool     // paths whose value could not be decoded
	active  map[*yaml.Node]bool // anchored nodes being walked, to catch cycles
	visited int
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:    file,
		pos:     make(map[string]position),
		tainted: make(map[string]bool),
		active:  make(map[*yaml.Node]bool),
	}
}

// fail records a problem with the value at path, found at node n, and
// marks path so validation does not report the same value again.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.tainted[path] = true
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.report(n, msg)
}

// report records a problem at node n. It keeps one more than maxErrors,
// so that Parse knows to say the list was cut.
func (d *decoder) report(n *yaml.Node, msg string) {
	if len(d.errs) <= maxErrors {
		d.errs = append(d.errs, errorf(d.file, n.Line, n.Column, "%s", msg))
	}
}

// budget counts a visited node and reports whether the walk may go on.
func (d *decoder) budget(n *yaml.Node) bool {
	d.visited++
	if d.visited == maxNodes {
		d.fail(n, "", "document is too large or expands too many aliases")
	}
	return d.visited < maxNodes
}

// deref follows an alias to its anchored node. It fails when the alias
// would loop back into a node being walked.
func (d *decoder) deref(n *yaml.Node, path string) (*yaml.Node, bool) {
	if n.Kind != yaml.AliasNode {
		return n, true
	}
	if n.Alias == nil || d.active[n.Alias] {
		d.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
		return nil, false
	}
	return n.Alias, true
}

// decode stores the value of node n, found at path, into v.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if !d.budget(n) {
		return
	}
	d.pos[path] = position{n.Line, n.Column}
	n, ok := d.deref(n, path)
	if !ok {
		return
	}
	if n.Anchor != "" {
		d.active[n] = true
		defer delete(d.active, n)
	}
	if tag := n.ShortTag(); !strings.HasPrefix(tag, "!!") {
		d.fail(n, path, "unsupported YAML tag %s", tag)
		return
	}
	if isNull(n) {
		return // an explicit null is the zero value, which v already holds
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, path, v)
	case v.Kind() == reflect.Struct:
		d.mapping(n, path, v)
	case v.Kind() == reflect.Slice:
		d.sequence(n, path, v)
	default:
		d.scalar(n, path, v)
	}
}

// pair is one key and value of a mapping.
type pair struct{ key, value *yaml.Node }

// mapping decodes a YAML mapping into the struct v.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.typeError(n, path, v.Type())
		return
	}
	fields := fieldsOf(v.Type())
	seen := make(map[string]*yaml.Node)
	for _, p := range d.pairs(n, path) {
		key := p.key
		if key.Kind != yaml.ScalarNode {
			d.report(key, fmt.Sprintf("keys must be plain strings%s", inPath(path)))
			continue
		}
		if first, dup := seen[key.Value]; dup {
			d.report(key, fmt.Sprintf("duplicate key %s%s (first defined at line %d)",
				quote(key.Value), inPath(path), first.Line))
			continue
		}
		seen[key.Value] = key
		i, ok := fields.index[key.Value]
		if !ok {
			d.unknownKey(key, path, fields.names)
			continue
		}
		d.decode(p.value, joinPath(path, key.Value), v.Field(i))
	}
}

// unknownKey reports a key the struct does not have, suggesting the
// closest known key or, failing that, listing them all.
func (d *decoder) unknownKey(key *yaml.Node, path string, names []string) {
	hint := "valid keys: " + strings.Join(names, ", ")
	if s, ok := suggest(key.Value, names); ok {
		hint = "did you mean " + quote(s) + "?"
	}
	d.report(key, fmt.Sprintf("unknown key %s%s (%s)", quote(key.Value), inPath(path), hint))
}

// inPath renders " in <path>" for messages about keys of a mapping.
func inPath(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

// pairs lists the key/value pairs of a mapping, expanding "<<" merge keys:
// explicit keys win over merged ones, and earlier merge sources win over
// later ones, as the YAML merge-key convention specifies.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(v, path)...)
			continue
		}
		out = append(out, pair{key: k, value: v})
	}
	if len(merged) == 0 {
		return out
	}
	have := make(map[string]bool, len(out))
	for _, p := range out {
		have[p.key.Value] = true
	}
	for _, p := range merged {
		if !have[p.key.Value] {
			have[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out
}

// mergeSources returns the pairs a merge key's value brings in: one
// mapping, or a list of mappings.
func (d *decoder) mergeSources(v *yaml.Node, path string) []pair {
	if !d.budget(v) {
		return nil
	}
	src, ok := d.deref(v, path)
	if !ok {
		return nil
	}
	items := []*yaml.Node{src}
	if src.Kind == yaml.SequenceNode {
		items = src.Content
	}
	var out []pair
	for _, item := range items {
		m, ok := d.deref(item, path)
		if !ok {
			continue
		}
		if m.Kind != yaml.MappingNode {
			d.fail(item, path, "a merge key (<<) takes a mapping or a list of mappings")
			continue
		}
		d.active[m] = true
		out = append(out, d.pairs(m, path)...)
		delete(d.active, m)
	}
	return out
}

// sequence decodes a YAML list into the slice v.
func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, path, v.Type())
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
	}
	v.Set(s)
}

// duration decodes a Go duration string such as "90s". Plain numbers are
// rejected: a bare 20 is ambiguous between seconds and nanoseconds.
func (d *decoder) duration(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.typeError(n, path, v.Type())
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.typeError(n, path, v.Type())
		return
	}
	v.SetInt(int64(dur))
}

// scalar decodes a string, boolean or number. Any scalar is accepted as a
// string; booleans and numbers must carry the matching resolved tag, so
// "two" or "yes" is not silently read as a number or a boolean.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.typeError(n, path, v.Type())
		return
	}
	tag := n.ShortTag()
	var ok bool
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return
	case reflect.Bool:
		ok = tag == "!!bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		ok = tag == "!!int"
	case reflect.Float32, reflect.Float64:
		ok = tag == "!!int" || tag == "!!float"
	default:
		panic("config: no decoder for " + v.Type().String())
	}
	if !ok {
		d.typeError(n, path, v.Type())
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		d.fail(n, path, "%s is out of range for %s", quote(n.Value), typeName(v.Type()))
	}
}

// typeError reports a value of the wrong type, naming the expected one.
func (d *decoder) typeError(n *yaml.Node, path string, want reflect.Type) {
	found := "a scalar"
	switch n.Kind {
	case yaml.ScalarNode:
		found = quote(n.Value)
	case yaml.MappingNode:
		found = "a mapping"
	case yaml.SequenceNode:
		found = "a list"
	}
	if path == "" {
		d.fail(n, "", "expected a mapping of config keys at the top level, found %s", found)
		return
	}
	d.fail(n, path, "expected %s, found %s", typeName(want), found)
}

// typeName describes a Go type in the words of a config file.
func typeName(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 90s or 5m"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	default:
		return "an integer"
	}
}

// structFields maps the yaml keys of a struct to field indexes.
type structFields struct {
	index map[string]int
	names []string // in declaration order, for suggestions
}

// fieldsOf lists the exported, yaml-tagged fields of struct type t.
func fieldsOf(t reflect.Type) structFields {
	sf := structFields{index: make(map[string]int)}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		sf.index[name] = i
		sf.names = append(sf.names, name)
	}
	return sf
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
