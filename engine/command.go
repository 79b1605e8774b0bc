package engine

import (
	"context"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/xmlrpc"
)

// targetKind is what a command operates on, as in rTorrent: nothing (a
// global command), a download, or one file, tracker or peer of a download.
type targetKind uint8

const (
	targetAny      targetKind = iota // global commands: any target, ignored
	targetDownload                   // "HASH"
	targetFile                       // "HASH:f<index>"
	targetTracker                    // "HASH:t<index>"
	targetPeer                       // "HASH:p<peer id in hex>"
)

// target is a resolved call target. kind is targetAny for none.
type target struct {
	kind  targetKind
	d     *download
	index int       // file or tracker index
	peer  *peerInfo // for targetPeer
}

// cmdFunc runs a command on a target with its arguments (the call's params
// after the target, or the parsed arguments of a command string). It must
// not modify args.
type cmdFunc func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error)

// command is one method of the engine's RPC interface.
type command struct {
	name string
	kind targetKind
	fn   cmdFunc
	// raw commands take the params of a top-level call as they came,
	// without a target split off: system.multicall, system.listMethods.
	raw bool
	// object commands take their arguments as rTorrent passes them, one
	// object: args holds a single value, an Array when the arguments were
	// a list. not, and and or tell "{x}" from "x".
	object bool
}

// call is the state of one top-level call (or one system.multicall entry):
// caches that make reading many fields of many downloads cheap. A call
// runs with the engine's lock held, so nothing here needs its own.
type call struct {
	e   *Engine
	ctx context.Context

	// snap caches the per-download numbers read from anacrolix, so that
	// 31 fields of a row lock anacrolix's client at most twice.
	snaps   map[*download]*snapshot
	last    *snapshot
	regexps map[string]*regexp.Regexp
	exprs   map[string]*expr // parsed command strings
	depth   int              // nesting of command strings, against runaway recursion
}

// maxDepth bounds nested evaluation ("$cat=$cat=..." or multicalls inside
// multicalls). rTorrent has no such bound; it would crash.
const maxDepth = 32

// snapOf returns the call's snapshot of d, taking it on first use.
func (c *call) snapOf(d *download) *snapshot {
	if c.last != nil && c.last.d == d {
		return c.last
	}
	s := c.snaps[d]
	if s == nil {
		s = c.e.takeSnapshot(d)
		if c.snaps == nil {
			c.snaps = make(map[*download]*snapshot)
		}
		c.snaps[d] = s
	}
	c.last = s
	return s
}

// forget drops the cached snapshot of d after a command changed it.
func (c *call) forget(d *download) {
	delete(c.snaps, d)
	if c.last != nil && c.last.d == d {
		c.last = nil
	}
}

// regexp compiles pattern once per call.
func (c *call) regexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := c.regexps[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return nil, faultf(xmlrpc.FaultParse, "Could not compile regex: %s", pattern)
	}
	if c.regexps == nil {
		c.regexps = make(map[string]*regexp.Regexp)
	}
	c.regexps[pattern] = re
	return re, nil
}

// invoke runs cmd on t after checking that cmd takes such a target.
func (c *call) invoke(cmd *command, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
	if cmd.kind != targetAny && cmd.kind != t.kind {
		return xmlrpc.Value{}, errWrongTarget
	}
	return cmd.fn(c, t, args)
}

// eval runs a parsed command string on t.
func (c *call) eval(x *expr, t target) (xmlrpc.Value, error) {
	if x.err != nil {
		return xmlrpc.Value{}, x.err
	}
	if x.empty {
		return xmlrpc.Value{}, nil
	}
	if x.cmd == nil {
		return xmlrpc.Value{}, errNoCommand(x.name)
	}
	if c.depth >= maxDepth {
		return xmlrpc.Value{}, fault(xmlrpc.FaultInternal, "Command strings nested too deeply.")
	}
	c.depth++
	defer func() { c.depth-- }()
	args := x.value
	if args == nil {
		args = make([]xmlrpc.Value, len(x.args))
		for i := range x.args {
			v, err := c.evalNode(&x.args[i], t)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			args[i] = v
		}
	}
	if x.cmd.object && x.isList {
		args = []xmlrpc.Value{xmlrpc.NewArray(args...)}
	}
	return c.invoke(x.cmd, t, args)
}

func (c *call) evalNode(n *node, t target) (xmlrpc.Value, error) {
	switch {
	case n.sub != nil:
		return c.eval(n.sub, t)
	case n.isList:
		vs := make([]xmlrpc.Value, len(n.list))
		for i := range n.list {
			v, err := c.evalNode(&n.list[i], t)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			vs[i] = v
		}
		return xmlrpc.NewArray(vs...), nil
	default:
		return xmlrpc.NewString(n.str), nil
	}
}

// compile parses a command string against the engine's command table,
// once per call: a nested t.multicall runs the same fields on every row.
func (c *call) compile(s string) *expr {
	if x, ok := c.exprs[s]; ok {
		return x
	}
	x := compile(s, c.e.commands)
	if c.exprs == nil {
		c.exprs = make(map[string]*expr)
	}
	c.exprs[s] = x
	return x
}

// resolveTarget splits the target off a top-level call's params, as
// rTorrent does: the first param is always the target; a string names one,
// anything else means none.
func (c *call) resolveTarget(params []xmlrpc.Value) (target, []xmlrpc.Value, error) {
	if len(params) == 0 {
		return target{}, nil, nil
	}
	rest := params[1:]
	if params[0].Kind() != xmlrpc.String {
		return target{}, rest, nil
	}
	t, err := c.parseTarget(params[0].String())
	return t, rest, err
}

// parseTarget resolves "", "HASH", "HASH:f<i>", "HASH:t<i>" and
// "HASH:p<id>".
func (c *call) parseTarget(s string) (target, error) {
	if s == "" {
		return target{}, nil
	}
	if len(s) < 40 || !infohash.IsHex(s[:40]) {
		return target{}, errUnsupported
	}
	if len(s) > 40 && (len(s) < 42 || s[40] != ':') {
		return target{}, errUnsupported
	}
	d := c.e.lookup(s[:40])
	if d == nil {
		return target{}, errNoInfoHash
	}
	if len(s) == 40 {
		return target{kind: targetDownload, d: d}, nil
	}
	rest := s[42:]
	switch s[41] {
	case 'f':
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 || i >= len(d.files) {
			return target{}, errInvalidIndex
		}
		return target{kind: targetFile, d: d, index: i}, nil
	case 't':
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 || i >= len(d.trackers) {
			return target{}, errInvalidIndex
		}
		return target{kind: targetTracker, d: d, index: i}, nil
	case 'p':
		if len(rest) != 40 || !infohash.IsHex(rest) {
			return target{}, errNotHashString
		}
		for _, p := range c.snapOf(d).peers(c.e) {
			if strings.EqualFold(p.id, rest) {
				return target{kind: targetPeer, d: d, peer: p}, nil
			}
		}
		return target{}, fault(xmlrpc.FaultType, "Could not find peer.")
	}
	return target{}, errUnsupported
}

// hexUpper returns b as uppercase hex, the form rTorrent prints hashes in.
func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// methodNames returns the sorted names of table, for system.listMethods.
func methodNames(table map[string]*command) []string {
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
