package engine

import (
	"strings"

	"github.com/rtgate/rtgate/xmlrpc"
)

// This file parses rTorrent's command strings, the language of multicall
// fields and of the extra commands of load.*: "d.custom=addtime",
// "cat={|||}", `cat="$t.multicall=d.hash=,t.url=,cat={|||}"`. The grammar,
// matched against rTorrent 0.9.8 (parse.cc) form by form:
//
//	command  = blank* name blank* "=" list [ (";" | "\n") anything ]
//	name     = any characters up to a blank or "="
//	list     = blank* object blank* ( "," blank* object blank* )*
//	object   = "{" blank* [ item blank* ( "," blank* item blank* )* ] "}"
//	         | string
//	string   = '"' ( char | "\" char )* '"' | ( char | "\" char )*
//
// An unquoted string at the top level ends at ",", ";" or any white space;
// inside braces it ends only at "," or "}" (so "{a b}" is "a b"). A list of
// one object is that object. After parsing, every string that starts with
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
	x := &expr{}
	p := parser{s: s}
	p.skipBlank()
	if p.done() || p.peek() == '#' {
		x.empty = true
		return x
	}
	start := p.i
	for !p.done() && !isBlank(p.peek()) && p.peek() != '=' {
		p.i++
	}
	x.name = s[start:p.i]
	p.skipBlank()
	if p.done() || p.peek() != '=' {
		x.err = faultf(xmlrpc.FaultParse, "Could not find '=' in command '%s'.", x.name)
		return x
	}
	p.i++
	whole, err := p.wholeList()
	if err == nil && !p.done() && !isCommandEnd(p.peek()) {
		err = errJunk
	}
	if err != nil {
		x.err = err
		return x
	}
	x.cmd = table[x.name]
	x.isList = whole.isList
	if whole.isList {
		x.args = whole.list
	} else {
		x.args = []node{whole}
	}
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

type parser struct {
	s     string
	i     int
	depth int // of braces, bounded by maxDepth
}

func (p *parser) done() bool { return p.i >= len(p.s) }
func (p *parser) peek() byte { return p.s[p.i] }

func (p *parser) skipBlank() {
	for !p.done() && isBlank(p.peek()) {
		p.i++
	}
}

// isBlank is what rTorrent skips between tokens: spaces and tabs, not
// newlines (a newline ends a command).
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isCommandEnd reports whether c may follow a command's arguments.
func isCommandEnd(c byte) bool { return c == ';' || c == '\n' || c == '\r' }

func isTopDelim(c byte) bool {
	return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isListDelim(c byte) bool { return c == ',' || c == '}' }

// wholeList parses the arguments of a command: one object, or several
// separated by commas (then a list).
func (p *parser) wholeList() (node, error) {
	p.skipBlank()
	first, err := p.object(isTopDelim)
	if err != nil {
		return node{}, err
	}
	p.skipBlank()
	if p.done() || p.peek() != ',' {
		return first, nil
	}
	list := node{isList: true, list: []node{first}}
	for !p.done() && p.peek() == ',' {
		p.i++
		p.skipBlank()
		n, err := p.object(isTopDelim)
		if err != nil {
			return node{}, err
		}
		list.list = append(list.list, n)
		p.skipBlank()
	}
	return list, nil
}

// object parses a braced list or a string ending at a delim character.
func (p *parser) object(delim func(byte) bool) (node, error) {
	if p.done() || p.peek() != '{' {
		s, err := p.str(delim)
		return node{str: s}, err
	}
	p.i++
	if p.depth++; p.depth > maxDepth {
		return node{}, fault(xmlrpc.FaultParse, "Lists nested too deeply.")
	}
	defer func() { p.depth-- }()
	list := node{isList: true}
	p.skipBlank()
	for !p.done() && p.peek() != '}' {
		n, err := p.object(isListDelim)
		if err != nil {
			return node{}, err
		}
		list.list = append(list.list, n)
		p.skipBlank()
		if p.done() || p.peek() != ',' {
			break
		}
		p.i++
		p.skipBlank()
	}
	if p.done() || p.peek() != '}' {
		return node{}, errNoClosingBrace
	}
	p.i++
	return list, nil
}

// str parses a quoted string, or an unquoted one up to a delim character;
// a backslash takes the next character literally in both.
func (p *parser) str(delim func(byte) bool) (string, error) {
	if p.done() {
		return "", nil
	}
	quoted := p.peek() == '"'
	if quoted {
		p.i++
	}
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		if quoted && c == '"' {
			p.i++
			return b.String(), nil
		}
		if !quoted && delim(c) {
			return b.String(), nil
		}
		if c == '\\' {
			p.i++
			if p.done() {
				return "", errEscapeAtEnd
			}
			c = p.peek()
		}
		b.WriteByte(c)
		p.i++
	}
	if quoted {
		return "", errNoClosingQuote
	}
	return b.String(), nil
}
