package engine

import (
	"errors"
	"fmt"

	"github.com/rtgate/rtgate/xmlrpc"
)

// Sentinel errors of the engine. Faults of the RPC methods themselves are
// *xmlrpc.Fault values, as a real rTorrent returns them.
var (
	// ErrClosed is returned by Call once Close has been called.
	ErrClosed = errors.New("engine: closed")
	// ErrSessionLocked is wrapped by New when another engine (or a crashed
	// one's stale lock that the OS still honours) holds the session
	// directory.
	ErrSessionLocked = errors.New("engine: session directory in use")
)

// Fault codes xmlrpc-c uses that the xmlrpc package has no name for: -502
// for a malformed system.multicall entry or wrong parameter count of a
// built-in method.
const faultIndex = -502

// fault returns an rTorrent fault with the given code and message.
func fault(code int64, msg string) *xmlrpc.Fault {
	return &xmlrpc.Fault{Code: code, Message: msg}
}

// faultf returns a fault with a formatted message.
func faultf(code int64, format string, args ...any) *xmlrpc.Fault {
	return &xmlrpc.Fault{Code: code, Message: fmt.Sprintf(format, args...)}
}

// The faults rTorrent 0.9.8 answers most often, with its exact wording.
var (
	errWrongTarget   = fault(xmlrpc.FaultParse, "Target of wrong type to command.")
	errUnsupported   = fault(xmlrpc.FaultType, "Unsupported target type found.")
	errNoInfoHash    = fault(xmlrpc.FaultType, "Could not find info-hash.")
	errInvalidIndex  = fault(xmlrpc.FaultType, "Invalid index.")
	errNotHashString = fault(xmlrpc.FaultType, "Not a hash string.")
	errWrongType     = fault(xmlrpc.FaultParse, "Wrong object type.")
	errNotValue      = fault(xmlrpc.FaultParse, "Not a value.")
	errTooFewArgs    = fault(xmlrpc.FaultParse, "Too few arguments.")
	errNoView        = fault(xmlrpc.FaultParse, "Could not find view.")
	errInvalidValue  = fault(xmlrpc.FaultParse, "Invalid value.")
	errMissingKey    = fault(xmlrpc.FaultParse, "Missing key argument.")
	errMissingValue  = fault(xmlrpc.FaultParse, "Missing value argument.")
	errTypeMismatch  = fault(xmlrpc.FaultParse, "Type mismatch.")
)

// errNoCommand is the fault for an unknown command inside a command string
// (a multicall field), as opposed to an unknown top-level method.
func errNoCommand(name string) *xmlrpc.Fault {
	return faultf(xmlrpc.FaultParse, "Command \"%s\" does not exist.", name)
}

// errNoMethod is the fault for an unknown top-level method.
func errNoMethod(name string) *xmlrpc.Fault {
	return faultf(xmlrpc.FaultNoMethod, "Method '%s' not defined", name)
}

// asFault turns any error a command returns into the fault a client sees:
// faults pass through, anything else becomes an internal error (-500).
func asFault(err error) *xmlrpc.Fault {
	var f *xmlrpc.Fault
	if errors.As(err, &f) {
		return f
	}
	return fault(xmlrpc.FaultInternal, err.Error())
}
