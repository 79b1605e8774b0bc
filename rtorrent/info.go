package rtorrent

import (
	"context"
	"fmt"
	"slices"

	"github.com/rtgate/rtgate/xmlrpc"
)

// Info is what an rTorrent says about itself: its version and the methods
// it offers. Flood decides which fields to ask for from the method list, and
// so does rtgate: 0.9.8, for one, has no d.timestamp.last_active.
type Info struct {
	Version string   // system.client_version, e.g. "0.9.8"
	Methods []string // system.listMethods, sorted
}

// Has reports whether method is one of the offered methods.
func (in *Info) Has(method string) bool {
	_, ok := slices.BinarySearch(in.Methods, method)
	return ok
}

// Info returns the version and method list of the rTorrent at the client's
// address, asking for both in one round trip the first time and after any
// failure to connect (a restarted rTorrent may be another version).
func (c *Client) Info(ctx context.Context) (*Info, error) {
	c.mu.Lock()
	in := c.info
	c.mu.Unlock()
	if in != nil {
		return in, nil
	}

	res, err := c.SystemMulticall(ctx, []MethodCall{
		{Method: "system.client_version"},
		{Method: "system.listMethods"},
	})
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		if r.Fault != nil {
			return nil, fmt.Errorf("rtorrent: info: %w", r.Fault)
		}
	}
	version, list := res[0].Value, res[1].Value
	if version.Kind() != xmlrpc.String || list.Kind() != xmlrpc.Array {
		return nil, fmt.Errorf("%w: info: version is %v, method list is %v", ErrBadReply, version.Kind(), list.Kind())
	}
	in = &Info{Version: version.String(), Methods: make([]string, 0, list.Len())}
	for _, m := range list.Values() {
		in.Methods = append(in.Methods, m.String())
	}
	slices.Sort(in.Methods)

	c.mu.Lock()
	c.info = in
	c.mu.Unlock()
	return in, nil
}

// Invalidate forgets the cached Info, so the next Info call asks again.
// Calls do it themselves when a connection attempt fails.
func (c *Client) Invalidate() {
	c.mu.Lock()
	c.info = nil
	c.mu.Unlock()
}
