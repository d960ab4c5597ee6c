package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rustci/rustci-perf/pkg/provenance"
)

// parse reads one YAML document into a Layer: each value parsed once, into
// its field, and its path recorded. Strict: an unknown key, a key given
// twice, an unknown scenario and a value that does not parse are errors,
// naming the line.
func parse(data []byte, name string, known []string) (*Layer, error) {
	l := &Layer{Name: name, set: map[string]string{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, errors.New(oneLine(err))
	}
	if len(root.Content) == 0 {
		return l, nil // an empty file
	}
	d := decoder{set: l.set, known: known}
	if err := d.value(root.Content[0], reflect.ValueOf(&l.Doc).Elem(), ""); err != nil {
		return nil, err
	}
	return l, nil
}

// decoder reads YAML nodes onto Go values.
type decoder struct {
	set   map[string]string
	known []string
	// merges counts the merge keys being read, one inside another: an
	// anchor merged into itself would never end.
	merges int
	// keys counts the keys read, aliases and merges expanded (maxKeys).
	keys int
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	labelsType      = reflect.TypeFor[provenance.Labels]()
)

// value reads n onto v, whose YAML path is path. A null leaves v as it
// was: the key is unset.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	key := path[strings.LastIndex(path, ".")+1:]
	switch {
	case v.Type() == durationType:
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s: want a duration, as in 500ms or 2s", n.Line, key)
		}
		dur, err := ParseDuration(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		v.SetInt(int64(dur))
	case reflect.PointerTo(v.Type()).Implements(unmarshalerType):
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s: want a single value", n.Line, key)
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
	case v.Kind() == reflect.Slice && reflect.PointerTo(v.Type().Elem()).Implements(unmarshalerType):
		if err := d.list(n, v, key); err != nil {
			return err
		}
	case v.Kind() == reflect.Struct:
		return d.mapping(n, v, path)
	case v.Type() == labelsType:
		return d.labels(n, v, path)
	case v.Kind() == reflect.Map: // scenarios
		return d.scenarios(n, v, path)
	default:
		// Plain values (numbers, strings, lists of strings): yaml.v3
		// reads them, and says why when it cannot.
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return errors.New(oneLine(err))
		}
	}
	d.set[path] = path
	return nil
}

// list reads a sequence of scalars onto the slice v, each element parsed
// by its own UnmarshalText (inject: a list of faults).
func (d *decoder) list(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: %s: want a list", n.Line, key)
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		if e.Kind == yaml.AliasNode {
			e = e.Alias
		}
		if e.Kind != yaml.ScalarNode {
			// "- l2: latency=2ms", with a space after the colon, is a
			// mapping to YAML.
			return fmt.Errorf("line %d: %s: want each item a single value; quote it if it has \": \" in it", e.Line, key)
		}
		if err := out.Index(i).Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(e.Value)); err != nil {
			return fmt.Errorf("line %d: %w", e.Line, err)
		}
	}
	v.Set(out)
	return nil
}

// mapping reads a mapping onto the struct v, key by key.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		where := path
		if where == "" {
			where = "the document"
		}
		return fmt.Errorf("line %d: %s: want a mapping of keys to values", n.Line, where)
	}
	if d.keys += len(n.Content) / 2; d.keys > maxKeys {
		return fmt.Errorf("line %d: more than %d keys once aliases and merge keys (<<) are expanded", n.Line, maxKeys)
	}
	// Keys merged in (<<: *anchor) first: the mapping's own beat them.
	merged := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "<<" && k.ShortTag() == "!!merge" {
			if merged {
				return fmt.Errorf("line %d: key %q given twice", k.Line, k.Value)
			}
			merged = true
			if err := d.merge(n.Content[i+1], v, path); err != nil {
				return err
			}
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: want a key", k.Line)
		}
		if seen[k.Value] {
			return fmt.Errorf("line %d: key %q given twice", k.Line, k.Value)
		}
		seen[k.Value] = true
		f, ok := field(v, k.Value)
		if !ok {
			return fmt.Errorf("line %d: field %s not found (known: %s)", k.Line, k.Value, strings.Join(fieldNames(v.Type()), ", "))
		}
		if err := d.value(val, f, join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// maxKeys bounds the keys a document may hold once aliases and merge keys
// are expanded: a few hundred bytes of anchors merged into each other
// would otherwise expand to billions (as yaml.v3 refuses "excessive
// aliasing").
const maxKeys = 10000

// merge reads the mapping, or the list of mappings, a merge key names. In
// a list the earlier mappings' keys beat the later ones' (YAML's merge
// key), so they are read last.
func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.SequenceNode {
		for _, m := range slices.Backward(n.Content) {
			if m.Kind == yaml.SequenceNode {
				return fmt.Errorf("line %d: a merge key (<<) takes a mapping or a list of mappings", m.Line)
			}
			if err := d.merge(m, v, path); err != nil {
				return err
			}
		}
		return nil
	}
	if d.merges++; d.merges > 8 {
		return fmt.Errorf("line %d: merge keys (<<) nested more than 8 deep", n.Line)
	}
	defer func() { d.merges-- }()
	return d.mapping(n, v, path)
}

// labels reads meta: a mapping of label keys to single values, each
// checked as --meta checks it (provenance.Labels.Set).
func (d *decoder) labels(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: want a mapping of label names to values", n.Line, path)
	}
	l := provenance.Labels{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		if k.Kind != yaml.ScalarNode || val.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s: want each label a single value", k.Line, path)
		}
		if err := l.Set(k.Value, val.Value); err != nil {
			return fmt.Errorf("line %d: %s: %w", k.Line, path, err)
		}
	}
	v.Set(reflect.ValueOf(l))
	d.set[path] = path
	return nil
}

// scenarios reads the scenarios' blocks into the map v.
func (d *decoder) scenarios(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: want a mapping of scenario names to settings", n.Line, path)
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !slices.Contains(d.known, k.Value) {
			return fmt.Errorf("line %d: scenarios: unknown scenario %q (known: %s)", k.Line, k.Value, strings.Join(d.known, ", "))
		}
		if v.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
			return fmt.Errorf("line %d: scenario %q given twice", k.Line, k.Value)
		}
		sc := reflect.New(v.Type().Elem().Elem())
		v.SetMapIndex(reflect.ValueOf(k.Value), sc)
		if err := d.value(val, sc.Elem(), join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// field returns the field of the struct v whose YAML key is key, looking
// into inlined structs.
func field(v reflect.Value, key string) (reflect.Value, bool) {
	for _, k := range keysOf(v.Type()) {
		if k.name == key {
			return v.FieldByIndex(k.index), true
		}
	}
	return reflect.Value{}, false
}

// fieldNames lists the YAML keys of the struct type t, sorted.
func fieldNames(t reflect.Type) []string {
	var out []string
	for _, k := range keysOf(t) {
		out = append(out, k.name)
	}
	sort.Strings(out)
	return out
}

// A yamlKey is a struct field's YAML key and the field's index path.
type yamlKey struct {
	name  string
	index []int
}

// keysOf lists the YAML keys of the struct type t's exported fields, those
// of inlined structs included.
func keysOf(t reflect.Type) []yamlKey {
	var out []yamlKey
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		switch {
		case !sf.IsExported() || name == "-":
		case opts == "inline":
			for _, k := range keysOf(sf.Type) {
				out = append(out, yamlKey{k.name, append([]int{i}, k.index...)})
			}
		case name != "":
			out = append(out, yamlKey{name, []int{i}})
		}
	}
	return out
}

// copyPath sets the value at path (YAML keys, dot-separated) in dst to
// src's: both are pointers to the same type of struct.
func copyPath(dst, src any, path string) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for _, key := range strings.Split(path, ".") {
		var ok bool
		if dv, ok = field(dv, key); !ok {
			panic("config: no field at " + strconv.Quote(path)) // paths come from the decoder
		}
		sv, _ = field(sv, key)
	}
	dv.Set(sv)
}

// oneLine folds yaml.v3's multi-line errors ("yaml: unmarshal errors:\n
// line 3: ...") into one line.
func oneLine(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	fields := strings.Split(s, "\n")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}
