package engine

import (
	"cmp"
	"slices"

	"github.com/rtgate/rtgate/xmlrpc"
)

// viewNames are rTorrent 0.9.8's stock views, in view.list's order.
var viewNames = []string{"main", "default", "name", "active", "started", "stopped", "complete", "incomplete", "hashing", "seeding", "leeching"}

// view returns the downloads of a view, in its order: load order for all
// but "name", which sorts by name. "active" holds the downloads whose
// d.is_active is 1, which is what 0.9.8's view shows (measured: a started
// download with no traffic is in it, a paused one is not).
func (c *call) view(name string) ([]*download, bool) {
	e := c.e
	var keep func(d *download) bool
	switch name {
	case "main", "default":
		return e.order, true
	case "name":
		ds := slices.Clone(e.order)
		slices.SortStableFunc(ds, func(a, b *download) int { return cmp.Compare(a.name(), b.name()) })
		return ds, true
	case "active":
		keep = (*download).isActive
	case "started":
		keep = func(d *download) bool { return d.state == 1 }
	case "stopped":
		keep = func(d *download) bool { return d.state == 0 }
	case "complete":
		keep = func(d *download) bool { return c.snapOf(d).complete() }
	case "incomplete":
		keep = func(d *download) bool { return !c.snapOf(d).complete() }
	case "hashing":
		keep = func(d *download) bool { return d.hashing != 0 }
	case "seeding":
		keep = func(d *download) bool { return d.state == 1 && c.snapOf(d).complete() }
	case "leeching":
		keep = func(d *download) bool { return d.state == 1 && !c.snapOf(d).complete() }
	default:
		return nil, false
	}
	var ds []*download
	for _, d := range e.order {
		if keep(d) {
			ds = append(ds, d)
		}
	}
	return ds, true
}

// viewCommands returns view.list, view.size and download_list.
func viewCommands() []*command {
	return []*command{
		{name: "view.list", fn: func(*call, target, []xmlrpc.Value) (xmlrpc.Value, error) {
			vs := make([]xmlrpc.Value, len(viewNames))
			for i, n := range viewNames {
				vs[i] = xmlrpc.NewString(n)
			}
			return xmlrpc.NewArray(vs...), nil
		}},
		{name: "view.size", fn: func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			name, err := stringArg(args)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			ds, ok := c.view(name)
			if !ok {
				return xmlrpc.Value{}, faultf(xmlrpc.FaultParse, "Could not find view: %s", name)
			}
			return xmlrpc.NewInt(int64(len(ds))), nil
		}},
		{name: "download_list", fn: func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			name := "main"
			if len(args) > 0 && args[0].Kind() == xmlrpc.String && args[0].String() != "" {
				name = args[0].String()
			}
			ds, ok := c.view(name)
			if !ok {
				return xmlrpc.Value{}, errNoView
			}
			vs := make([]xmlrpc.Value, len(ds))
			for i, d := range ds {
				vs[i] = xmlrpc.NewString(d.hash)
			}
			return xmlrpc.NewArray(vs...), nil
		}},
	}
}
