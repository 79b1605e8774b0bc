package engine

import (
	"context"

	"github.com/rtgate/rtgate/xmlrpc"
)

// multicallCommands returns d.multicall2, d.multicall.filtered and the
// f/t/p.multicall commands: one row per download (file, tracker, peer),
// one value per field, each field a command string run on the row.
func multicallCommands() []*command {
	return []*command{
		{name: "d.multicall2", fn: func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) == 0 {
				return xmlrpc.Value{}, errTooFewArgs
			}
			ds, err := c.viewArg(args[0])
			if err != nil {
				return xmlrpc.Value{}, err
			}
			return c.rows(len(ds), args[1:], func(i int) target {
				return target{kind: targetDownload, d: ds[i]}
			}, nil)
		}},
		{name: "d.multicall.filtered", fn: func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) < 2 {
				return xmlrpc.Value{}, fault(xmlrpc.FaultParse, "d.multicall.filtered requires at least 2 arguments.")
			}
			ds, err := c.viewArg(args[0])
			if err != nil {
				return xmlrpc.Value{}, err
			}
			if args[1].Kind() != xmlrpc.String {
				return xmlrpc.Value{}, errWrongType
			}
			filter := c.compile(args[1].String())
			return c.rows(len(ds), args[2:], func(i int) target {
				return target{kind: targetDownload, d: ds[i]}
			}, func(t target) bool {
				// A filter that fails filters out, as in rTorrent.
				v, err := c.eval(filter, t)
				return err == nil && truthy(v)
			})
		}},
		{name: "f.multicall", kind: targetDownload, fn: func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) == 0 {
				return xmlrpc.Value{}, errTooFewArgs
			}
			pattern := ""
			if args[0].Kind() == xmlrpc.String {
				pattern = args[0].String()
			}
			var idx []int
			for i, f := range t.d.files {
				if matchGlob(pattern, f.path) {
					idx = append(idx, i)
				}
			}
			return c.rows(len(idx), args[1:], func(i int) target {
				return target{kind: targetFile, d: t.d, index: idx[i]}
			}, nil)
		}},
		{name: "t.multicall", kind: targetDownload, fn: func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) == 0 {
				return xmlrpc.Value{}, errTooFewArgs
			}
			return c.rows(len(t.d.trackers), args[1:], func(i int) target {
				return target{kind: targetTracker, d: t.d, index: i}
			}, nil)
		}},
		{name: "p.multicall", kind: targetDownload, fn: func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) == 0 {
				return xmlrpc.Value{}, errTooFewArgs
			}
			peers := c.snapOf(t.d).peers(c.e)
			return c.rows(len(peers), args[1:], func(i int) target {
				return target{kind: targetPeer, d: t.d, peer: peers[i]}
			}, nil)
		}},
	}
}

// viewArg resolves a multicall's view argument.
func (c *call) viewArg(v xmlrpc.Value) ([]*download, error) {
	if v.Kind() != xmlrpc.String {
		return nil, errWrongType
	}
	ds, ok := c.view(v.String())
	if !ok {
		return nil, errNoView
	}
	return ds, nil
}

// rows evaluates fields on n targets, skipping those keep rejects. Fields
// are parsed once; like rTorrent, a field that cannot run fails the call
// only when some row runs it.
func (c *call) rows(n int, fields []xmlrpc.Value, targetOf func(int) target, keep func(target) bool) (xmlrpc.Value, error) {
	xs := make([]*expr, len(fields))
	for i, f := range fields {
		if f.Kind() != xmlrpc.String {
			return xmlrpc.Value{}, errWrongType
		}
		xs[i] = c.compile(f.String())
	}
	out := make([]xmlrpc.Value, 0, n)
	// One backing array for every row's values: one allocation per call.
	vals := make([]xmlrpc.Value, 0, n*len(xs))
	for i := range n {
		if i&255 == 255 {
			if err := c.ctx.Err(); err != nil {
				return xmlrpc.Value{}, err
			}
		}
		t := targetOf(i)
		if keep != nil && !keep(t) {
			continue
		}
		start := len(vals)
		for _, x := range xs {
			v, err := c.eval(x, t)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			vals = append(vals, result(v))
		}
		out = append(out, xmlrpc.NewArray(vals[start:len(vals):len(vals)]...))
	}
	return xmlrpc.NewArray(out...), nil
}

// truthy is rTorrent's truth of a value: a non-zero number, a non-empty
// string or list.
func truthy(v xmlrpc.Value) bool {
	switch v.Kind() {
	case xmlrpc.Int, xmlrpc.Bool:
		return v.Int() != 0
	case xmlrpc.String:
		return v.String() != ""
	case xmlrpc.Array, xmlrpc.Struct:
		return v.Len() > 0
	}
	return false
}

// systemMulticall runs each entry as its own call: a fault stays in its
// entry's place, and other callers get a turn between entries.
func (e *Engine) systemMulticall(ctx context.Context, params []xmlrpc.Value) (xmlrpc.Value, error) {
	if len(params) != 1 || params[0].Kind() != xmlrpc.Array {
		return xmlrpc.Value{}, faultf(xmlrpc.FaultParse, "system.multicall takes one parameter, which is an array, each element describing one RPC.  You supplied %d arguments", len(params))
	}
	entries := params[0].Values()
	type entry struct {
		cmd    *command
		method string
		params []xmlrpc.Value
	}
	calls := make([]entry, len(entries))
	for i, v := range entries {
		if v.Kind() != xmlrpc.Struct {
			return xmlrpc.Value{}, faultf(xmlrpc.FaultType, "An element of the multicall array is type %d, but should be a struct (with members 'methodName' and 'params')", xmlrpcCType(v.Kind()))
		}
		name, ok := v.Member("methodName")
		if !ok {
			return xmlrpc.Value{}, fault(faultIndex, "No member of struct has key 'methodName'")
		}
		ps, ok := v.Member("params")
		if !ok {
			return xmlrpc.Value{}, fault(faultIndex, "No member of struct has key 'params'")
		}
		if name.Kind() != xmlrpc.String {
			return xmlrpc.Value{}, fault(xmlrpc.FaultType, "Value is not a string")
		}
		if ps.Kind() != xmlrpc.Array {
			return xmlrpc.Value{}, fault(xmlrpc.FaultType, "Value is not an array")
		}
		if name.String() == "system.multicall" {
			return xmlrpc.Value{}, fault(xmlrpc.FaultRefused, "Recursive system.multicall forbidden")
		}
		calls[i] = entry{cmd: e.commands[name.String()], method: name.String(), params: ps.Values()}
	}
	out := make([]xmlrpc.Value, len(calls))
	for i, cl := range calls {
		var v xmlrpc.Value
		var err error
		if cl.cmd == nil {
			err = errNoMethod(cl.method)
		} else {
			v, err = e.callOne(ctx, cl.cmd, cl.params)
		}
		if err != nil {
			if ctx.Err() != nil || err == ErrClosed {
				return xmlrpc.Value{}, err
			}
			f := asFault(err)
			out[i] = xmlrpc.NewStruct(
				xmlrpc.Member{Name: "faultCode", Value: xmlrpc.NewInt(f.Code)},
				xmlrpc.Member{Name: "faultString", Value: xmlrpc.NewString(f.Message)},
			)
			continue
		}
		out[i] = xmlrpc.NewArray(v)
	}
	return xmlrpc.NewArray(out...), nil
}

// xmlrpcCType is xmlrpc-c's number for a kind, which its messages quote.
func xmlrpcCType(k xmlrpc.Kind) int {
	switch k {
	case xmlrpc.Int:
		return 0
	case xmlrpc.Bool:
		return 1
	case xmlrpc.Double:
		return 2
	case xmlrpc.DateTime:
		return 3
	case xmlrpc.String:
		return 4
	case xmlrpc.Base64:
		return 5
	case xmlrpc.Array:
		return 6
	case xmlrpc.Struct:
		return 7
	}
	return 9
}
