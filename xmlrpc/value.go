package xmlrpc

import (
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
)

// Kind is the XML-RPC type of a Value.
type Kind uint8

// The kinds of rTorrent's XML-RPC dialect. The zero Value is Nil.
const (
	Nil      Kind = iota // <nil/>: only written when the Encoder allows it
	Int                  // <i4>, <i8>, <int>: always int64
	Bool                 // <boolean>
	String               // <string>, or a <value> without a type tag
	Double               // <double>: rTorrent never sends one
	Base64               // <base64>: decoded bytes
	DateTime             // <dateTime.iso8601>: kept as its text
	Array                // <array>
	Struct               // <struct>: members in document order
)

var kindNames = [...]string{"nil", "int", "boolean", "string", "double", "base64", "dateTime.iso8601", "array", "struct"}

// String returns the XML-RPC type name of the kind, as in "int" or
// "dateTime.iso8601".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one XML-RPC value. It is a small immutable struct, passed by
// value; the slices behind arrays and structs are shared between copies and
// must not be modified.
//
// The representation keeps a decoded multicall cheap: integers, booleans and
// doubles live in num, strings, base64 bytes and date-times in str, array
// elements in list, and struct members in list as name/value pairs.
type Value struct {
	kind Kind
	num  int64
	str  string
	list []Value
}

// Member is one named member of a struct value.
type Member struct {
	Name  string
	Value Value
}

// NewInt returns an Int value.
func NewInt(n int64) Value { return Value{kind: Int, num: n} }

// NewBool returns a Bool value.
func NewBool(b bool) Value {
	if b {
		return Value{kind: Bool, num: 1}
	}
	return Value{kind: Bool}
}

// NewString returns a String value.
func NewString(s string) Value { return Value{kind: String, str: s} }

// NewDouble returns a Double value.
func NewDouble(f float64) Value { return Value{kind: Double, num: int64(math.Float64bits(f))} }

// NewBase64 returns a Base64 value holding a copy of b.
func NewBase64(b []byte) Value { return Value{kind: Base64, str: string(b)} }

// NewDateTime returns a DateTime value with the given ISO 8601 text.
func NewDateTime(text string) Value { return Value{kind: DateTime, str: text} }

// NewArray returns an Array value of elems. The slice is kept, not copied.
func NewArray(elems ...Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{kind: Array, list: elems}
}

// NewStruct returns a Struct value of members, in order.
func NewStruct(members ...Member) Value {
	list := make([]Value, 0, 2*len(members))
	for _, m := range members {
		list = append(list, NewString(m.Name), m.Value)
	}
	return Value{kind: Struct, list: list}
}

// Kind reports the value's type.
func (v Value) Kind() Kind { return v.kind }

// IsNil reports whether v is Nil (the zero Value).
func (v Value) IsNil() bool { return v.kind == Nil }

// Int returns the integer of an Int value, 1 or 0 for a Bool, and 0 otherwise.
func (v Value) Int() int64 {
	if v.kind == Int || v.kind == Bool {
		return v.num
	}
	return 0
}

// Bool returns the truth of a Bool value, or whether an Int value is
// non-zero (rTorrent answers booleans as integers). Other kinds are false.
func (v Value) Bool() bool {
	return (v.kind == Bool || v.kind == Int) && v.num != 0
}

// Float returns the number of a Double value, or an Int value converted.
func (v Value) Float() float64 {
	switch v.kind {
	case Double:
		return math.Float64frombits(uint64(v.num))
	case Int:
		return float64(v.num)
	}
	return 0
}

// String returns the text of a String, DateTime or Base64 value. For other
// kinds it returns a short Go-like rendering, as reflect.Value.String does,
// so that a Value prints usefully with %v.
func (v Value) String() string {
	switch v.kind {
	case String, DateTime, Base64:
		return v.str
	}
	var b strings.Builder
	v.format(&b)
	return b.String()
}

// Bytes returns a copy of the bytes of a Base64 value, or of a String's text.
func (v Value) Bytes() []byte {
	if v.kind == Base64 || v.kind == String {
		return []byte(v.str)
	}
	return nil
}

// Len returns the number of elements of an Array or members of a Struct.
func (v Value) Len() int {
	switch v.kind {
	case Array:
		return len(v.list)
	case Struct:
		return len(v.list) / 2
	}
	return 0
}

// Index returns element i of an Array. It panics if i is out of range.
func (v Value) Index(i int) Value {
	if v.kind != Array {
		panic("xmlrpc: Index of " + v.kind.String())
	}
	return v.list[i]
}

// Values returns the elements of an Array, or nil for other kinds. The slice
// is shared; do not modify it.
func (v Value) Values() []Value {
	if v.kind != Array {
		return nil
	}
	return v.list
}

// Members yields the members of a Struct in document order.
func (v Value) Members() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if v.kind != Struct {
			return
		}
		for i := 0; i+1 < len(v.list); i += 2 {
			if !yield(v.list[i].str, v.list[i+1]) {
				return
			}
		}
	}
}

// Member returns the struct member called name; with duplicate names, the
// last one wins, as in most XML-RPC implementations.
func (v Value) Member(name string) (Value, bool) {
	if v.kind != Struct {
		return Value{}, false
	}
	for i := len(v.list) - 2; i >= 0; i -= 2 {
		if v.list[i].str == name {
			return v.list[i+1], true
		}
	}
	return Value{}, false
}

// Equal reports whether v and w have the same kind and contents.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind || v.num != w.num || v.str != w.str || len(v.list) != len(w.list) {
		return false
	}
	for i := range v.list {
		if !v.list[i].Equal(w.list[i]) {
			return false
		}
	}
	return true
}

// Interface returns v as plain Go values: nil, int64, bool, string, float64,
// []byte (Base64), string (DateTime), []any and map[string]any.
func (v Value) Interface() any {
	switch v.kind {
	case Int:
		return v.num
	case Bool:
		return v.num != 0
	case String, DateTime:
		return v.str
	case Double:
		return v.Float()
	case Base64:
		return []byte(v.str)
	case Array:
		out := make([]any, len(v.list))
		for i, e := range v.list {
			out[i] = e.Interface()
		}
		return out
	case Struct:
		out := make(map[string]any, len(v.list)/2)
		for name, m := range v.Members() {
			out[name] = m.Interface()
		}
		return out
	}
	return nil
}

// ValueOf converts a Go value to a Value: nil, Value, all integer types,
// bool, string, float32/64, []byte (Base64), []Value, []string, []int64,
// []any, []Member and map[string]any (members sorted by name, so the
// encoding is deterministic).
func ValueOf(x any) (Value, error) {
	switch x := x.(type) {
	case nil:
		return Value{}, nil
	case Value:
		return x, nil
	case int:
		return NewInt(int64(x)), nil
	case int8:
		return NewInt(int64(x)), nil
	case int16:
		return NewInt(int64(x)), nil
	case int32:
		return NewInt(int64(x)), nil
	case int64:
		return NewInt(x), nil
	case uint8:
		return NewInt(int64(x)), nil
	case uint16:
		return NewInt(int64(x)), nil
	case uint32:
		return NewInt(int64(x)), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return Value{}, fmt.Errorf("xmlrpc: %d overflows int64", x)
		}
		return NewInt(int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			return Value{}, fmt.Errorf("xmlrpc: %d overflows int64", x)
		}
		return NewInt(int64(x)), nil
	case bool:
		return NewBool(x), nil
	case string:
		return NewString(x), nil
	case float32:
		return NewDouble(float64(x)), nil
	case float64:
		return NewDouble(x), nil
	case []byte:
		return NewBase64(x), nil
	case []Value:
		return NewArray(x...), nil
	case []string:
		list := make([]Value, len(x))
		for i, s := range x {
			list[i] = NewString(s)
		}
		return NewArray(list...), nil
	case []int64:
		list := make([]Value, len(x))
		for i, n := range x {
			list[i] = NewInt(n)
		}
		return NewArray(list...), nil
	case []any:
		list := make([]Value, len(x))
		for i, e := range x {
			v, err := ValueOf(e)
			if err != nil {
				return Value{}, err
			}
			list[i] = v
		}
		return NewArray(list...), nil
	case []Member:
		return NewStruct(x...), nil
	case map[string]any:
		members := make([]Member, 0, len(x))
		for _, name := range sortedKeys(x) {
			v, err := ValueOf(x[name])
			if err != nil {
				return Value{}, err
			}
			members = append(members, Member{name, v})
		}
		return NewStruct(members...), nil
	}
	return Value{}, fmt.Errorf("xmlrpc: cannot represent %T", x)
}

// Values converts each of xs with ValueOf.
func Values(xs ...any) ([]Value, error) {
	out := make([]Value, len(xs))
	for i, x := range xs {
		v, err := ValueOf(x)
		if err != nil {
			return nil, fmt.Errorf("param %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

func (v Value) format(b *strings.Builder) {
	switch v.kind {
	case Nil:
		b.WriteString("nil")
	case Int:
		b.WriteString(strconv.FormatInt(v.num, 10))
	case Bool:
		b.WriteString(strconv.FormatBool(v.num != 0))
	case String, DateTime:
		b.WriteString(strconv.Quote(v.str))
	case Double:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case Base64:
		fmt.Fprintf(b, "base64(%d bytes)", len(v.str))
	case Array:
		b.WriteByte('[')
		for i, e := range v.list {
			if i > 0 {
				b.WriteString(", ")
			}
			e.format(b)
		}
		b.WriteByte(']')
	case Struct:
		b.WriteByte('{')
		first := true
		for name, m := range v.Members() {
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(name)
			b.WriteString(": ")
			m.format(b)
		}
		b.WriteByte('}')
	}
}
