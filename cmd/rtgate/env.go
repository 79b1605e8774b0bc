package main

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// envPrefix starts the name of every environment variable rtgate reads.
const envPrefix = "RTGATE_"

// envConfigFile names the configuration file when -config is not given.
const envConfigFile = envPrefix + "CONFIG"

// envName returns the environment variable of a dotted configuration key:
// listen.scgi_mode is RTGATE_LISTEN_SCGI_MODE.
func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// configField is one leaf of Config: its dotted YAML key and where it
// sits in the struct.
type configField struct {
	key   string
	index []int
	typ   reflect.Type
}

// configFields lists the leaves of a config struct type: fields of this
// package's struct types are descended into, everything else (strings,
// numbers, lists, FileMode) is a leaf.
func configFields(t reflect.Type, prefix string, index []int) []configField {
	var out []configField
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		idx := append(slices.Clip(index), f.Index...)
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == t.PkgPath() {
			out = append(out, configFields(f.Type, name, idx)...)
			continue
		}
		out = append(out, configField{key: name, index: idx, typ: f.Type})
	}
	return out
}

// applyEnv sets the configuration keys that RTGATE_* variables of environ
// ("NAME=value" pairs, as os.Environ gives them) name, over what cfg
// holds: the file's values and the defaults. Lists are comma-separated
// ("a, b"; empty for none), durations are Go durations ("30s", "1m30s"),
// booleans true or false, modes octal ("0660"). An empty value empties a
// string or a list and is an error for any other kind. The error names
// the variable, its key and what was wrong.
//
// unknown returns the RTGATE_* variables that name no key, for the caller
// to warn about: they are not errors, since a platform may set such
// variables itself (Kubernetes gives every pod RTGATE_PORT,
// RTGATE_SERVICE_HOST and others when a service is named rtgate).
func applyEnv(cfg *Config, environ []string) (unknown []string, err error) {
	fields := map[string]configField{}
	for _, f := range configFields(reflect.TypeOf(*cfg), "", nil) {
		fields[envName(f.key)] = f
	}
	root := reflect.ValueOf(cfg).Elem()
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || name == envConfigFile {
			continue
		}
		f, ok := fields[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if err := setFromEnv(root.FieldByIndex(f.index), value); err != nil {
			return nil, fmt.Errorf("environment %s (%s): %w", name, f.key, err)
		}
	}
	slices.Sort(unknown)
	return unknown, nil
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	modeType     = reflect.TypeFor[FileMode]()
)

// setFromEnv parses one variable's value into v.
func setFromEnv(v reflect.Value, s string) error {
	t := v.Type()
	if s == "" && t.Kind() != reflect.String && t.Kind() != reflect.Slice {
		return fmt.Errorf("empty: want %s", envKind(t))
	}
	switch {
	case t == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 30s or 1m30s", s)
		}
		v.SetInt(int64(d))
	case t == modeType:
		var m FileMode
		if err := m.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: s}); err != nil {
			return fmt.Errorf("%q is not an octal permission mode like 0660", s)
		}
		v.SetUint(uint64(m))
	case t.Kind() == reflect.String:
		v.SetString(s)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(n)
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		n, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(n)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		list := reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			list.Index(i).SetString(item)
		}
		v.Set(list)
	default:
		// Any other kind of key is written as YAML: flow style fits one
		// line ({path: /run/a.sock, mode: "0660"}).
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			return fmt.Errorf("%q is not YAML: %w", s, err)
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
	}
	return nil
}

// envKind describes the values a key of type t takes, for messages and
// docs/deploy.md's table.
func envKind(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration (30s, 1m30s)"
	case t == modeType:
		return "an octal mode (0660)"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "a whole number"
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		return "a number"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "a comma-separated list"
	}
	return "YAML (flow style)"
}
