package poller

import (
	"strconv"

	"github.com/rtgate/rtgate/internal/jsonenc"
)

// The JSON of every topic is written by hand, with appends into one
// buffer (strings escaped by jsonenc): a 10,000-torrent snapshot is one
// pass with no reflection and no map, and a change holds only the fields
// that differ. Object keys come out
// in column order, so equal states encode to equal bytes.

// appendKey appends "key": after a comma unless the object is still empty
// (its last byte is '{').
func appendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' {
		dst = append(dst, ',')
	}
	dst = jsonenc.AppendString(dst, key)
	return append(dst, ':')
}

// appendRatio appends d.ratio's per-mille integer as the ratio it stands
// for: 1500 as 1.5. Dividing by 1000 and printing the shortest float that
// reads back gives exactly the decimal digits.
func appendRatio(dst []byte, perMille int64) []byte {
	return strconv.AppendFloat(dst, float64(perMille)/1000, 'f', -1, 64)
}

// appendValue appends the JSON field(s) of column c holding v. old is the
// column's previous value, for a change, or nil for a whole object: the
// trackers column then writes only the sub-fields that differ.
func appendValue(dst []byte, c *column, v value, old *value) []byte {
	switch c.kind {
	case kindInt, kindDecimal:
		dst = appendKey(dst, c.name)
		return strconv.AppendInt(dst, v.n, 10)
	case kindBool:
		dst = appendKey(dst, c.name)
		return strconv.AppendBool(dst, v.n != 0)
	case kindRatio:
		dst = appendKey(dst, c.name)
		return appendRatio(dst, v.n)
	case kindString:
		dst = appendKey(dst, c.name)
		return jsonenc.AppendString(dst, v.s)
	case kindTrackers:
		if old == nil {
			return appendTrackers(dst, v.s)
		}
		ts, prev := parseTrackers(v.s), parseTrackers(old.s)
		if !ts.equalURLs(prev) {
			dst = appendKey(dst, "trackerURIs")
			dst = append(dst, '[')
			for i, u := range ts.urls {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = jsonenc.AppendString(dst, u)
			}
			dst = append(dst, ']')
		}
		if ts.seedsTotal != prev.seedsTotal {
			dst = appendKey(dst, "seedsTotal")
			dst = strconv.AppendInt(dst, ts.seedsTotal, 10)
		}
		if ts.peersTotal != prev.peersTotal {
			dst = appendKey(dst, "peersTotal")
			dst = strconv.AppendInt(dst, ts.peersTotal, 10)
		}
	}
	return dst
}

// appendObject appends r as a JSON object of every column of s, preceded
// by keyName:r.key when keyName is not empty.
func appendObject(dst []byte, s *schema, r *row, keyName string) []byte {
	dst = append(dst, '{')
	if keyName != "" {
		dst = appendKey(dst, keyName)
		dst = jsonenc.AppendString(dst, r.key)
	}
	for i := range s.cols {
		dst = appendValue(dst, &s.cols[i], r.vals[i], nil)
	}
	return append(dst, '}')
}

// appendChanged appends a JSON object of the columns of s in mask, with
// their values in r (old holds the previous ones).
func appendChanged(dst []byte, s *schema, old, r *row, mask uint64) []byte {
	dst = append(dst, '{')
	for i := range s.cols {
		if mask&(1<<i) != 0 {
			dst = appendValue(dst, &s.cols[i], r.vals[i], &old.vals[i])
		}
	}
	return append(dst, '}')
}

// tableChange is one change of a keyed table (torrents, files, peers,
// trackers): rows added, changed and removed. Each list is in key order for
// torrents and in backend order for details.
type tableChange struct {
	added   []*row
	changed []rowChange
	removed []string
}

// rowChange is a changed row: the columns in mask differ between old and
// new.
type rowChange struct {
	old, new *row
	mask     uint64
}

func (tc *tableChange) empty() bool {
	return len(tc.added) == 0 && len(tc.changed) == 0 && len(tc.removed) == 0
}

// appendTableChange appends {"added":{KEY:{...}},"changed":{KEY:{...}},
// "removed":[KEY...]}, leaving out the members that would be empty.
// keyName is the name of the key field inside added objects ("hash"), or
// empty for none.
func appendTableChange(dst []byte, s *schema, tc *tableChange, keyName string) []byte {
	dst = append(dst, '{')
	if len(tc.added) > 0 {
		dst = appendKey(dst, "added")
		dst = append(dst, '{')
		for _, r := range tc.added {
			dst = appendKey(dst, r.key)
			dst = appendObject(dst, s, r, keyName)
		}
		dst = append(dst, '}')
	}
	if len(tc.changed) > 0 {
		dst = appendKey(dst, "changed")
		dst = append(dst, '{')
		for _, c := range tc.changed {
			dst = appendKey(dst, c.new.key)
			dst = appendChanged(dst, s, c.old, c.new, c.mask)
		}
		dst = append(dst, '}')
	}
	if len(tc.removed) > 0 {
		dst = appendKey(dst, "removed")
		dst = append(dst, '[')
		for i, k := range tc.removed {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, k)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendTable appends {"<name>":{KEY:{...},...}} with the rows in the
// given order.
func appendTable(dst []byte, name string, s *schema, rows []*row, keyName string) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, name)
	dst = append(dst, '{')
	for _, r := range rows {
		dst = appendKey(dst, r.key)
		dst = appendObject(dst, s, r, keyName)
	}
	return append(dst, '}', '}')
}
