package xmlrpc

import (
	"errors"
	"maps"
	"slices"
	"strconv"
)

// Fault is an XML-RPC fault: the server understood the call and refused or
// failed it. rTorrent's codes: -500 internal, -501 type, -503 parse or
// unknown command, -506 no such method, -507 refused, -509 size limit.
type Fault struct {
	Code    int64
	Message string
}

// Error returns "xmlrpc fault <code>: <message>".
func (f *Fault) Error() string {
	return "xmlrpc fault " + strconv.FormatInt(f.Code, 10) + ": " + f.Message
}

// Fault codes rTorrent uses, and that rtgate uses in the same sense.
const (
	FaultInternal  = -500
	FaultType      = -501
	FaultParse     = -503 // also "Command \"x\" does not exist."
	FaultNoMethod  = -506
	FaultRefused   = -507
	FaultSizeLimit = -509
)

// Sentinel errors of the codec. Decoding errors wrap ErrSyntax or
// ErrTooDeep; callers match them with errors.Is.
var (
	ErrSyntax      = errors.New("xmlrpc: malformed document")
	ErrTooDeep     = errors.New("xmlrpc: values nested too deeply")
	ErrUnsupported = errors.New("xmlrpc: value not allowed by the encoder's dialect")
)

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
