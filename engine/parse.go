package engine

import (
	"strings"

	"github.com/rtgate/rtgate/internal/rtcmd"
	"github.com/rtgate/rtgate/xmlrpc"
)

// This file compiles rTorrent's command strings, the language of multicall
// fields and of the extra commands of load.*, parsed by package rtcmd as
// rTorrent 0.9.8 parses them. After parsing, every string that starts with
// "$" (at any depth) is replaced by the result of running the rest of it as
// a command on the same target, so "$t.multicall=d.hash=,t.url=" inside a
// d.multicall2 field runs t.multicall on the row's download.
//
// Parse errors, like unknown commands, are only reported when the command
// is run: a field rTorrent never evaluates (an empty view) never fails.

// expr is one parsed command: a name and its arguments.
type expr struct {
	name   string
	cmd    *command // nil: unknown command, reported when run
	args   []node
	value  []xmlrpc.Value // the arguments when no node needs evaluating
	err    error          // parse error, reported when run
	empty  bool           // blank input or a comment: runs to nothing
	isList bool           // the arguments were a list ("{x}" or "x,y"), not one object
}

// node is one argument: a literal string, a list, or a "$command".
type node struct {
	str    string
	list   []node
	isList bool
	sub    *expr // a "$..." string: evaluate this instead
}

// dynamic reports whether evaluating n needs to run a command.
func (n *node) dynamic() bool {
	if n.sub != nil {
		return true
	}
	for i := range n.list {
		if n.list[i].dynamic() {
			return true
		}
	}
	return false
}

// literal returns n as a value, for nodes that are not dynamic.
func (n *node) literal() xmlrpc.Value {
	if !n.isList {
		return xmlrpc.NewString(n.str)
	}
	vs := make([]xmlrpc.Value, len(n.list))
	for i := range n.list {
		vs[i] = n.list[i].literal()
	}
	return xmlrpc.NewArray(vs...)
}

// compile parses the command string s, resolving its command and every
// "$" sub-command against table.
func compile(s string, table map[string]*command) *expr {
	pc := rtcmd.Parse(s)
	x := &expr{name: pc.Name, empty: pc.Empty, err: pc.Err, isList: pc.IsList}
	if pc.Empty || pc.Err != nil {
		return x
	}
	x.cmd = table[x.name]
	x.args = nodesOf(pc.Args)
	resolveSubs(x.args, table)
	static := true
	for i := range x.args {
		if x.args[i].dynamic() {
			static = false
		}
	}
	if static {
		x.value = make([]xmlrpc.Value, len(x.args))
		for i := range x.args {
			x.value[i] = x.args[i].literal()
		}
	}
	return x
}

// nodesOf converts parsed nodes into the engine's, which can hold a
// compiled sub-command.
func nodesOf(ns []rtcmd.Node) []node {
	out := make([]node, len(ns))
	for i, n := range ns {
		out[i] = node{str: n.Str, isList: n.IsList}
		if n.IsList {
			out[i].list = nodesOf(n.List)
		}
	}
	return out
}

// resolveSubs compiles every "$" string of ns, at any depth.
func resolveSubs(ns []node, table map[string]*command) {
	for i := range ns {
		n := &ns[i]
		if n.isList {
			resolveSubs(n.list, table)
		} else if strings.HasPrefix(n.str, "$") {
			n.sub = compile(n.str[1:], table)
		}
	}
}
