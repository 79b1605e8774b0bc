package policy

import (
	"fmt"
	"strings"
)

// matchGlob reports whether name matches pattern, in which '*' matches any
// run of characters, dots included, and every other character itself.
func matchGlob(pattern, name string) bool {
	// The classic linear wildcard match: on a mismatch, let the last '*'
	// swallow one more character and retry from there.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// checkPattern reports why pattern cannot be a policy pattern: it must be a
// command name, with '*' wildcards.
func checkPattern(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("%w: empty pattern", ErrBadPattern)
	}
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c != '*' && !isNameByte(c) {
			return fmt.Errorf("%w: %q: %q is not allowed in a command name (use letters, digits, '_', '.' and '*')",
				ErrBadPattern, pattern, c)
		}
	}
	if strings.Trim(pattern, "*") == "" && len(pattern) > 1 {
		return fmt.Errorf("%w: %q: write a lone '*' to match every command", ErrBadPattern, pattern)
	}
	return nil
}
