package poller

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/xmlrpc"
)

// value is one field of a row: integers (booleans, ratios) in n, text in
// s. Two values are equal exactly when the field did not change.
type value struct {
	s string
	n int64
}

// row is one polled item (a torrent, a file, a peer, a tracker, the
// transfer figures) under a schema. Rows are immutable once published:
// a change makes a new row, so that the state, the deltas and every topic's
// view can share them.
type row struct {
	key  string  // the torrent's hash, the file or tracker index, the peer id
	vals []value // one per schema column
}

// diff returns the bit set of the columns in which a and b differ (a
// schema has at most 64 columns).
func diff(a, b *row) uint64 {
	var mask uint64
	for i := range a.vals {
		if a.vals[i] != b.vals[i] {
			mask |= 1 << i
		}
	}
	return mask
}

// decodeValue converts an XML-RPC value to the stored form of a column of
// kind k, failing on a type rTorrent never sends for it.
func decodeValue(k kind, v xmlrpc.Value) (value, error) {
	switch k {
	case kindInt, kindBool, kindRatio:
		switch v.Kind() {
		case xmlrpc.Int, xmlrpc.Bool:
			return value{n: v.Int()}, nil
		case xmlrpc.String: // a backend answering JSON-ish text; accept plain integers
			if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
				return value{n: n}, nil
			}
		}
	case kindString, kindTrackers:
		if v.Kind() == xmlrpc.String {
			return value{s: v.String()}, nil
		}
	case kindDecimal:
		switch v.Kind() {
		case xmlrpc.String:
			return value{n: parseDecimal(v.String())}, nil
		case xmlrpc.Int:
			return value{n: v.Int()}, nil
		}
	}
	return value{}, fmt.Errorf("%w: %v where %s was expected", ErrBadReply, v.Kind(), k)
}

// parseDecimal returns the integer s spells (surrounding spaces and a sign
// allowed), or 0 if s is not one, without allocating: most downloads have
// no d.custom=addtime at all, and strconv's error for "" allocates.
func parseDecimal(s string) int64 {
	s = strings.TrimSpace(s)
	if len(s) > 18 { // might overflow the loop below: let strconv check
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	neg := s != "" && s[0] == '-'
	if neg || s != "" && s[0] == '+' {
		s = s[1:]
	}
	if s == "" {
		return 0
	}
	var n int64
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

func (k kind) String() string {
	switch k {
	case kindString, kindTrackers:
		return "a string"
	case kindDecimal:
		return "a decimal string"
	}
	return "an integer"
}

// mergeRow reads one multicall row: the key, then the values of the
// columns at idx (every column of s when idx is nil), in order. The other
// columns come from base. It returns base itself when nothing differs, so
// that an unchanged row costs no allocation; with a nil base the columns
// not read are zero.
func mergeRow(s *schema, idx []int, v xmlrpc.Value, base *row) (*row, error) {
	n := len(idx)
	if idx == nil {
		n = len(s.cols)
	}
	if v.Kind() != xmlrpc.Array || v.Len() != n+1 {
		return nil, fmt.Errorf("%w: row is %v of %d values, want %d", ErrBadReply, v.Kind(), v.Len(), n+1)
	}
	vals := v.Values()
	if vals[0].Kind() != xmlrpc.String {
		return nil, fmt.Errorf("%w: row key is %v", ErrBadReply, vals[0].Kind())
	}
	key := vals[0].String()
	if base != nil && base.key != key {
		return nil, fmt.Errorf("%w: row of %s merged into %s", ErrBadReply, key, base.key)
	}
	r := base
	for j := range n {
		i := j
		if idx != nil {
			i = idx[j]
		}
		val, err := decodeValue(s.cols[i].kind, vals[j+1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.cols[i].name, err)
		}
		if r != nil && r.vals[i] == val {
			continue
		}
		if r == nil || r == base {
			nr := &row{key: key, vals: make([]value, len(s.cols))}
			if base != nil {
				copy(nr.vals, base.vals)
			}
			r = nr
		}
		r.vals[i] = val
	}
	if r == nil { // a new row whose values are all zero
		r = &row{key: key, vals: make([]value, len(s.cols))}
	}
	return r, nil
}
