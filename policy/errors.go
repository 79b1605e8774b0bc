package policy

import (
	"errors"
	"fmt"

	"github.com/rtgate/rtgate/xmlrpc"
)

// ErrBadPattern is wrapped by New's error for a pattern that cannot match
// a command name.
var ErrBadPattern = errors.New("policy: bad pattern")

// ErrBadDirectory is wrapped by New's error for a
// Config.Directories entry that cannot be a root, and by
// DirectoryDefault's for a directory.default it cannot make one of.
var ErrBadDirectory = errors.New("policy: bad directory")

// Refusal is the error of a call the Policy does not allow. Its text is the
// message clients see, in a -507 fault (XML-RPC) or error (JSON-RPC):
//
//	rtgate: method "execute.throw" refused by policy (inside d.multicall2 field 3)
type Refusal struct {
	// Method is the refused command: the call's method, or a command found
	// inside one of its strings or system.multicall entries.
	Method string
	// Reason is empty when Method is simply not allowed; otherwise why an
	// allowed command was refused here, e.g. that it would run a computed
	// command.
	Reason string
	// Where says where Method was found, e.g. "d.multicall2 field 3" or
	// "system.multicall entry 2, load.raw_start command 1"; empty for the
	// call's own method.
	Where string
}

// Error returns the message clients see.
func (r *Refusal) Error() string {
	msg := fmt.Sprintf("rtgate: method %q refused by policy", r.Method)
	if r.Reason != "" {
		msg += ": " + r.Reason
	}
	if r.Where != "" {
		msg += " (inside " + r.Where + ")"
	}
	return msg
}

// Fault returns the refusal as the XML-RPC fault clients receive: code -507,
// the refusal's text as its message.
func (r *Refusal) Fault() *xmlrpc.Fault {
	return &xmlrpc.Fault{Code: xmlrpc.FaultRefused, Message: r.Error()}
}
