package rtorrent

import (
	"strconv"
	"strings"
)

// Release is an rTorrent version, as system.client_version names it.
type Release struct {
	Major, Minor, Patch int
}

// ParseRelease reads "0.9.8" or "0.16.17"; ok is false for anything else
// (an empty version: the backend has not answered yet).
func ParseRelease(s string) (r Release, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Release{}, false
	}
	nums := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Release{}, false
		}
		nums[i] = n
	}
	return Release{nums[0], nums[1], nums[2]}, true
}

// AtLeast reports whether r is major.minor or later.
func (r Release) AtLeast(major, minor int) bool {
	return r.Major > major || r.Major == major && r.Minor >= minor
}

// SpeaksJSON reports whether the rTorrent of this version answers JSON-RPC
// itself (rTorrent 0.15 and later, CONTENT_TYPE application/json). 0.9.8
// answers any JSON body with an XML-RPC parse fault.
func SpeaksJSON(version string) bool {
	r, ok := ParseRelease(version)
	return ok && r.AtLeast(0, 15)
}
