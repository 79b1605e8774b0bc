package poller

import (
	"context"
	"fmt"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

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
func (p *Poller) multicall(ctx context.Context, calls []rtorrent.MethodCall) ([]rtorrent.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	res, err := rtorrent.Multicall(ctx, p.c, calls)
	if err != nil {
		return nil, fmt.Errorf("poller: %w", err)
	}
	return res, nil
}
