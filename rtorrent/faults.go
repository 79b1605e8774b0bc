package rtorrent

import (
	"errors"

	"github.com/rtgate/rtgate/xmlrpc"
)

// The faults rTorrent answers for a download it does not have, by
// version (measured):
//
//	0.9.8    -501 "Could not find info-hash."
//	0.16.17  -503 "invalid parameters: info-hash not found"
var unknownHash = []xmlrpc.Fault{
	{Code: xmlrpc.FaultType, Message: "Could not find info-hash."},
	{Code: xmlrpc.FaultParse, Message: "invalid parameters: info-hash not found"},
}

// IsUnknownHash reports whether err is rTorrent's fault for a target naming
// a download it does not have (erased, or never there), in the form of any
// version rtgate knows. It is false for every other fault, malformed
// targets included.
func IsUnknownHash(err error) bool {
	var f *xmlrpc.Fault
	if !errors.As(err, &f) {
		return false
	}
	for _, u := range unknownHash {
		if f.Code == u.Code && f.Message == u.Message {
			return true
		}
	}
	return false
}
