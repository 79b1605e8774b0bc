package xmlrpc

import "encoding/binary"

// How the Decoder allocates: the lists of arrays and structs are carved
// from shared slab chunks, and repeated short strings come from a small
// cache, so that decoding costs about one allocation per distinct string.

const (
	// slabSize is the number of Values in one chunk that the elements of
	// small arrays and structs are carved from; bigger ones get their own
	// allocation. 512 Values stay below the runtime's 32 KiB small-object
	// limit.
	slabSize = 512

	// The string cache is direct-mapped: cacheSize slots, strings up to
	// maxCached bytes. It turns the strings a poll repeats on every row
	// (directories, tracker messages, member names) into one allocation per
	// Decoder instead of one per value.
	cacheSize = 1024
	maxCached = 128
)

// noValues is the list of empty arrays and structs: shared, never appended
// to in place because its capacity is zero.
var noValues = make([]Value, 0)

// carve moves the values above mark on the stack into a list of their own:
// a piece of the current slab chunk, or its own allocation when large.
// The full slice expression keeps an append to one list from overwriting
// the next.
func (d *Decoder) carve(mark int) []Value {
	n := len(d.stack) - mark
	if n == 0 {
		return noValues
	}
	var out []Value
	switch {
	case n > slabSize/4:
		out = make([]Value, n)
	case n <= len(d.slab):
		out = d.slab[:n:n]
		d.slab = d.slab[n:]
	default:
		d.slab = make([]Value, slabSize)
		out = d.slab[:n:n]
		d.slab = d.slab[n:]
	}
	copy(out, d.stack[mark:])
	d.stack = d.stack[:mark]
	return out
}

// str returns b as a string, from the cache when it holds the same text.
func (d *Decoder) str(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > maxCached {
		return string(b)
	}
	slot := &d.cache[hashBytes(b)%cacheSize]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	return s
}

// hashBytes is a cheap hash of a short byte string for the string cache:
// its length and its first and last eight bytes.
func hashBytes(b []byte) uint64 {
	var h uint64
	if len(b) >= 8 {
		h = binary.LittleEndian.Uint64(b) ^ binary.LittleEndian.Uint64(b[len(b)-8:])*0x9E3779B97F4A7C15
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h ^= uint64(len(b))
	h *= 0xFF51AFD7ED558CCD
	return h >> 40
}
