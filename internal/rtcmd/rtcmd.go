// Package rtcmd parses rTorrent's command strings, the language of
// multicall fields and of the extra commands of load.*:
// "d.custom=addtime", "cat={|||}", `cat="$t.multicall=d.hash=,t.url=,cat={|||}"`.
// The embedded engine runs what it parses; the method policy judges the
// directories of d.directory.set strings with it, so that the path the
// policy checks is the path the engine (and rTorrent) would use.
//
// The grammar, matched against rTorrent 0.9.8 (rpc/parse.cc) form by form:
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
// one object is that object. Parse does not evaluate: a string starting
// with "$" is left for the caller to run as a command, and rTorrent's
// (call) syntax is not recognised (the caller that cares refuses it).
package rtcmd

import (
	"strings"

	"github.com/rtgate/rtgate/xmlrpc"
)

// MaxDepth bounds the nesting of braces; deeper is a parse error.
const MaxDepth = 32

// The faults of rTorrent 0.9.8's parser, with its exact wording.
var (
	ErrNoClosingBrace = &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "Could not find closing '}'."}
	ErrNoClosingQuote = &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "Missing closing quote."}
	ErrEscapeAtEnd    = &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "Escape character at end of input."}
	ErrJunk           = &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "Junk at end of input."}
	ErrTooDeep        = &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "Lists nested too deeply."}
)

// Command is one parsed command string.
type Command struct {
	// Empty: the string is blank or a '#' comment, and runs nothing.
	Empty bool
	// Name is the command's name; set even when Err is.
	Name string
	// Args are its arguments: one object, or the objects of a list.
	Args []Node
	// IsList: the arguments were a list ("{x}" or "x,y"), not one object.
	IsList bool
	// Rest is what follows the command: "" or text starting with ';',
	// '\n' or '\r' (further commands, which rTorrent runs too).
	Rest string
	// Err is the parse error, a *xmlrpc.Fault with rTorrent's message.
	// rTorrent reports it only when the command runs.
	Err error
}

// Node is one argument: a string, or a list of nodes.
type Node struct {
	Str    string
	List   []Node
	IsList bool
}

// Parse parses the command string s.
func Parse(s string) Command {
	var c Command
	p := parser{s: s}
	p.skipBlank()
	if p.done() || p.peek() == '#' {
		c.Empty = true
		return c
	}
	start := p.i
	for !p.done() && !isBlank(p.peek()) && p.peek() != '=' {
		p.i++
	}
	c.Name = s[start:p.i]
	p.skipBlank()
	if p.done() || p.peek() != '=' {
		c.Err = &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "Could not find '=' in command '" + c.Name + "'."}
		return c
	}
	p.i++
	whole, err := p.wholeList()
	if err == nil && !p.done() && !isCommandEnd(p.peek()) {
		err = ErrJunk
	}
	if err != nil {
		c.Err = err
		return c
	}
	c.Rest = s[p.i:]
	c.IsList = whole.IsList
	if whole.IsList {
		c.Args = whole.List
	} else {
		c.Args = []Node{whole}
	}
	return c
}

// Literal returns n as a value: a string, or an array of n's list.
func (n *Node) Literal() xmlrpc.Value {
	if !n.IsList {
		return xmlrpc.NewString(n.Str)
	}
	vs := make([]xmlrpc.Value, len(n.List))
	for i := range n.List {
		vs[i] = n.List[i].Literal()
	}
	return xmlrpc.NewArray(vs...)
}

type parser struct {
	s     string
	i     int
	depth int // of braces, bounded by MaxDepth
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
func (p *parser) wholeList() (Node, error) {
	p.skipBlank()
	first, err := p.object(isTopDelim)
	if err != nil {
		return Node{}, err
	}
	p.skipBlank()
	if p.done() || p.peek() != ',' {
		return first, nil
	}
	list := Node{IsList: true, List: []Node{first}}
	for !p.done() && p.peek() == ',' {
		p.i++
		p.skipBlank()
		n, err := p.object(isTopDelim)
		if err != nil {
			return Node{}, err
		}
		list.List = append(list.List, n)
		p.skipBlank()
	}
	return list, nil
}

// object parses a braced list or a string ending at a delim character.
func (p *parser) object(delim func(byte) bool) (Node, error) {
	if p.done() || p.peek() != '{' {
		s, err := p.str(delim)
		return Node{Str: s}, err
	}
	p.i++
	if p.depth++; p.depth > MaxDepth {
		return Node{}, ErrTooDeep
	}
	defer func() { p.depth-- }()
	list := Node{IsList: true}
	p.skipBlank()
	for !p.done() && p.peek() != '}' {
		n, err := p.object(isListDelim)
		if err != nil {
			return Node{}, err
		}
		list.List = append(list.List, n)
		p.skipBlank()
		if p.done() || p.peek() != ',' {
			break
		}
		p.i++
		p.skipBlank()
	}
	if p.done() || p.peek() != '}' {
		return Node{}, ErrNoClosingBrace
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
				return "", ErrEscapeAtEnd
			}
			c = p.peek()
		}
		b.WriteByte(c)
		p.i++
	}
	if quoted {
		return "", ErrNoClosingQuote
	}
	return b.String(), nil
}
