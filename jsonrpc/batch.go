package jsonrpc

import (
	"context"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// CallBatch sends the calls at the indexes send through c, as both
// JSON-RPC doors do with a request or a batch: one alone as itself,
// several as one system.multicall (rtorrent.Multicall), whose entries (a
// result, or a fault in its place) it hands to answer in order. call
// returns the method and params of call i. An empty send sends nothing.
func CallBatch(ctx context.Context, c rtorrent.Caller, send []int, call func(i int) (string, []xmlrpc.Value), answer func(i int, v xmlrpc.Value, err error)) {
	switch len(send) {
	case 0:
		return
	case 1:
		method, params := call(send[0])
		v, err := c.Call(ctx, method, params...)
		answer(send[0], v, err)
		return
	}
	calls := make([]rtorrent.MethodCall, len(send))
	for k, i := range send {
		calls[k].Method, calls[k].Params = call(i)
	}
	res, err := rtorrent.Multicall(ctx, c, calls)
	for k, i := range send {
		switch {
		case err != nil:
			answer(i, xmlrpc.Value{}, err)
		case res[k].Fault != nil:
			answer(i, xmlrpc.Value{}, res[k].Fault)
		default:
			answer(i, res[k].Value, nil)
		}
	}
}
