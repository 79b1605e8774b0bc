package rtorrent

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// PanicError describes a call during which the backend panicked: what
// Recover hands its hook.
type PanicError struct {
	Method string // the call's method; "raw" for a forwarded request
	Value  any    // what was passed to panic
	Stack  []byte // the panicking goroutine's stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("rtorrent: %s panicked: %v", e.Method, e.Value)
}

// Recover returns a Caller that calls c and turns a panic during a call
// into a fault for that call alone (-500, "rtgate: internal error
// answering METHOD; see rtgate's log"), after handing onPanic (if not nil)
// the panic with its stack. Whoever called keeps running: a door answers
// the fault, the poller drops that poll.
func Recover(c Caller, onPanic func(*PanicError)) Caller {
	return &recovering{c: c, onPanic: onPanic}
}

type recovering struct {
	c       Caller
	onPanic func(*PanicError)
}

func (r *recovering) Call(ctx context.Context, method string, params ...xmlrpc.Value) (v xmlrpc.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = xmlrpc.Value{}, r.recovered(method, p)
		}
	}()
	return r.c.Call(ctx, method, params...)
}

func (r *recovering) recovered(method string, p any) error {
	if r.onPanic != nil {
		r.onPanic(&PanicError{Method: method, Value: p, Stack: debug.Stack()})
	}
	return &xmlrpc.Fault{Code: xmlrpc.FaultInternal, Message: "rtgate: internal error answering " + method + "; see rtgate's log"}
}

// RawCaller sends an encoded request and returns the reply unread, as
// Client.Do does.
type RawCaller interface {
	Do(ctx context.Context, contentType string, body []byte) (*scgi.Response, error)
}

var _ RawCaller = (*Client)(nil)

// RecoverRaw is Recover for a RawCaller: a panic in Do, or while its reply
// is read, becomes that request's error.
func RecoverRaw(c RawCaller, onPanic func(*PanicError)) RawCaller {
	return &recoveringRaw{c: c, r: recovering{onPanic: onPanic}}
}

type recoveringRaw struct {
	c RawCaller
	r recovering
}

func (rr *recoveringRaw) Do(ctx context.Context, contentType string, body []byte) (resp *scgi.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, rr.r.recovered("raw", p)
		}
	}()
	resp, err = rr.c.Do(ctx, contentType, body)
	if err == nil {
		resp.Body = &recoveringBody{ReadCloser: resp.Body, r: &rr.r}
	}
	return resp, err
}

// recoveringBody is a reply body whose Read turns a panic into an error.
type recoveringBody struct {
	io.ReadCloser
	r *recovering
}

func (b *recoveringBody) Read(p []byte) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = 0, b.r.recovered("raw", v)
		}
	}()
	return b.ReadCloser.Read(p)
}
