package rtorrent

import (
	"context"
	"fmt"

	"github.com/rtgate/rtgate/xmlrpc"
)

// MethodCall is one entry of a system.multicall.
type MethodCall struct {
	Method string
	Params []xmlrpc.Value
}

// Result is the outcome of one MethodCall: a value, or the fault rTorrent
// put in its place.
type Result struct {
	Value xmlrpc.Value
	Fault *xmlrpc.Fault
}

// Caller is what the functions of this file call: a *Client, the embedded
// engine, or any door of rtgate that answers rTorrent's commands. An
// XML-RPC fault comes back as an error wrapping *xmlrpc.Fault.
type Caller interface {
	Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

var _ Caller = (*Client)(nil)

// SystemMulticall runs calls in one round trip; see Multicall.
func (c *Client) SystemMulticall(ctx context.Context, calls []MethodCall) ([]Result, error) {
	return Multicall(ctx, c, calls)
}

// Multicall runs calls through c in one system.multicall round trip. A
// fault of one entry does not fail the others: it is in that entry's
// Result. The error is for the round trip as a whole: c's error, or one
// wrapping ErrBadReply when the reply does not have one entry per call,
// each a one-value array or a fault struct (faultCode and faultString).
func Multicall(ctx context.Context, c Caller, calls []MethodCall) ([]Result, error) {
	entries := make([]xmlrpc.Value, len(calls))
	for i, mc := range calls {
		params := mc.Params
		if params == nil {
			params = []xmlrpc.Value{}
		}
		entries[i] = xmlrpc.NewStruct(
			xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(mc.Method)},
			xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(params...)},
		)
	}
	v, err := c.Call(ctx, "system.multicall", xmlrpc.NewArray(entries...))
	if err != nil {
		return nil, err
	}
	return parseMulticallResults(v, calls)
}

// parseMulticallResults checks system.multicall's reply: an array with one
// entry per call, each a one-element array holding the result, or a fault
// struct in its place.
func parseMulticallResults(v xmlrpc.Value, calls []MethodCall) ([]Result, error) {
	want := len(calls)
	if v.Kind() != xmlrpc.Array || v.Len() != want {
		return nil, fmt.Errorf("%w: system.multicall returned %v of %d for %d calls", ErrBadReply, v.Kind(), v.Len(), want)
	}
	out := make([]Result, want)
	for i, e := range v.Values() {
		switch {
		case e.Kind() == xmlrpc.Array && e.Len() == 1:
			out[i].Value = e.Index(0)
		case e.Kind() == xmlrpc.Struct:
			code, okCode := e.Member("faultCode")
			msg, okMsg := e.Member("faultString")
			if !okCode || !okMsg || code.Kind() != xmlrpc.Int {
				return nil, fmt.Errorf("%w: system.multicall: entry %d (%s) is a struct but not a fault", ErrBadReply, i+1, calls[i].Method)
			}
			out[i].Fault = &xmlrpc.Fault{Code: code.Int(), Message: msg.String()}
		default:
			return nil, fmt.Errorf("%w: system.multicall: entry %d (%s) is %v", ErrBadReply, i+1, calls[i].Method, e.Kind())
		}
	}
	return out, nil
}

// Err returns the entry's fault as an error naming method, or nil.
func (r Result) Err(method string) error {
	if r.Fault != nil {
		return fmt.Errorf("%s: %w", method, r.Fault)
	}
	return nil
}

// DMulticall runs d.multicall2 over a view ("main", "started", "active", …)
// and returns one row per download, each with one value per field. Fields
// are command strings as rTorrent takes them: "d.hash=", "d.custom=addtime",
// or a nested "cat=\"$t.multicall=d.hash=,t.url=,cat={|||}\"".
func (c *Client) DMulticall(ctx context.Context, view string, fields ...string) ([][]xmlrpc.Value, error) {
	return c.rows(ctx, "d.multicall2", len(fields), append([]string{"", view}, fields...))
}

// TMulticall returns one row per tracker of the download with this hash.
func (c *Client) TMulticall(ctx context.Context, hash string, fields ...string) ([][]xmlrpc.Value, error) {
	return c.rows(ctx, "t.multicall", len(fields), append([]string{hash, ""}, fields...))
}

// PMulticall returns one row per connected peer of the download.
func (c *Client) PMulticall(ctx context.Context, hash string, fields ...string) ([][]xmlrpc.Value, error) {
	return c.rows(ctx, "p.multicall", len(fields), append([]string{hash, ""}, fields...))
}

// FMulticall returns one row per file of the download whose path matches
// pattern (a glob; "" matches every file), in rTorrent's file order.
func (c *Client) FMulticall(ctx context.Context, hash, pattern string, fields ...string) ([][]xmlrpc.Value, error) {
	return c.rows(ctx, "f.multicall", len(fields), append([]string{hash, pattern}, fields...))
}

func (c *Client) rows(ctx context.Context, method string, width int, args []string) ([][]xmlrpc.Value, error) {
	params := make([]xmlrpc.Value, len(args))
	for i, a := range args {
		params[i] = xmlrpc.NewString(a)
	}
	v, err := c.Call(ctx, method, params...)
	if err != nil {
		return nil, err
	}
	if v.Kind() != xmlrpc.Array {
		return nil, fmt.Errorf("%w: %s: result is %v, not an array", ErrBadReply, method, v.Kind())
	}
	rows := make([][]xmlrpc.Value, v.Len())
	for i, row := range v.Values() {
		if row.Kind() != xmlrpc.Array || row.Len() != width {
			return nil, fmt.Errorf("%w: %s: row %d has %d values for %d fields", ErrBadReply, method, i, row.Len(), width)
		}
		rows[i] = row.Values()
	}
	return rows, nil
}
