package poller

import (
	"context"
	"fmt"

	"github.com/rtgate/rtgate/xmlrpc"
)

// mcall is one entry of a system.multicall.
type mcall struct {
	method string
	params []xmlrpc.Value
}

// result is the outcome of one mcall: a value or the fault in its place.
type result struct {
	v     xmlrpc.Value
	fault *xmlrpc.Fault
}

// err returns the entry's fault as an error naming the method.
func (r result) err(method string) error {
	if r.fault != nil {
		return fmt.Errorf("%s: %w", method, r.fault)
	}
	return nil
}

func str(s string) xmlrpc.Value { return xmlrpc.NewString(s) }

func strs(ss ...string) []xmlrpc.Value {
	vs := make([]xmlrpc.Value, len(ss))
	for i, s := range ss {
		vs[i] = str(s)
	}
	return vs
}

// multicall runs calls in one system.multicall round trip, bounded by
// Options.Timeout. A fault of one entry is in its result; the error is for
// the round trip.
func (p *Poller) multicall(ctx context.Context, calls []mcall) ([]result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	entries := make([]xmlrpc.Value, len(calls))
	for i, c := range calls {
		entries[i] = xmlrpc.NewStruct(
			xmlrpc.Member{Name: "methodName", Value: str(c.method)},
			xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(c.params...)},
		)
	}
	v, err := p.c.Call(ctx, "system.multicall", xmlrpc.NewArray(entries...))
	if err != nil {
		return nil, fmt.Errorf("poller: system.multicall: %w", err)
	}
	if v.Kind() != xmlrpc.Array || v.Len() != len(calls) {
		return nil, fmt.Errorf("%w: system.multicall returned %v of %d for %d calls", ErrBadReply, v.Kind(), v.Len(), len(calls))
	}
	out := make([]result, len(calls))
	for i, e := range v.Values() {
		switch {
		case e.Kind() == xmlrpc.Array && e.Len() == 1:
			out[i].v = e.Index(0)
		case e.Kind() == xmlrpc.Struct:
			code, okCode := e.Member("faultCode")
			msg, okMsg := e.Member("faultString")
			if !okCode || !okMsg {
				return nil, fmt.Errorf("%w: system.multicall entry %d (%s) is a struct but not a fault", ErrBadReply, i, calls[i].method)
			}
			out[i].fault = &xmlrpc.Fault{Code: code.Int(), Message: msg.String()}
		default:
			return nil, fmt.Errorf("%w: system.multicall entry %d (%s) is %v", ErrBadReply, i, calls[i].method, e.Kind())
		}
	}
	return out, nil
}
