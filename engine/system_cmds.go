package engine

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rtgate/rtgate/xmlrpc"
)

// commandTable builds the engine's method table: exactly the methods
// system.listMethods lists.
func commandTable() map[string]*command {
	table := make(map[string]*command)
	for _, group := range [][]*command{
		systemCommands(), logicCommands(), downloadCommands(), fileCommands(), peerCommands(),
		trackerCommands(), multicallCommands(), viewCommands(), settingCommands(), loadCommands(),
	} {
		for _, c := range group {
			if table[c.name] != nil {
				panic("engine: command defined twice: " + c.name)
			}
			table[c.name] = c
		}
	}
	return table
}

// systemCommands returns the system.* methods.
func systemCommands() []*command {
	constant := func(name string, v xmlrpc.Value) *command {
		return &command{name: name, fn: func(*call, target, []xmlrpc.Value) (xmlrpc.Value, error) { return v, nil }}
	}
	dynamic := func(name string, f func(c *call) xmlrpc.Value) *command {
		return &command{name: name, fn: func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) { return f(c), nil }}
	}
	return []*command{
		{name: "system.listMethods", raw: true, fn: func(c *call, _ target, params []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(params) != 0 {
				return xmlrpc.Value{}, faultf(faultIndex, "Format string requests exactly 0 items from array, but array has %d items.  (A '*' at the end would avoid this failure)", len(params))
			}
			return c.e.methodList, nil
		}},
		{name: "system.methodExist", raw: true, fn: func(c *call, _ target, params []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(params) != 1 || params[0].Kind() != xmlrpc.String {
				return xmlrpc.Value{}, faultf(faultIndex, "Format string requests exactly 1 items from array, but array has %d items.  (A '*' at the end would avoid this failure)", len(params))
			}
			return xmlrpc.NewBool(c.e.commands[params[0].String()] != nil), nil
		}},
		// Handled by Engine.Call; listed here so that it is a method.
		{name: "system.multicall", raw: true, fn: func(*call, target, []xmlrpc.Value) (xmlrpc.Value, error) {
			return xmlrpc.Value{}, fault(xmlrpc.FaultRefused, "Recursive system.multicall forbidden")
		}},
		constant("system.client_version", xmlrpc.NewString(ClientVersion)),
		constant("system.library_version", xmlrpc.NewString(LibraryVersion)),
		constant("system.api_version", xmlrpc.NewString("10")),
		constant("engine.version", xmlrpc.NewString(EngineVersion)),
		dynamic("system.pid", func(c *call) xmlrpc.Value { return xmlrpc.NewInt(c.e.pid) }),
		dynamic("system.hostname", func(*call) xmlrpc.Value {
			h, _ := os.Hostname()
			if i := strings.IndexByte(h, '.'); i >= 0 {
				h = h[:i]
			}
			return xmlrpc.NewString(h)
		}),
		dynamic("system.cwd", func(*call) xmlrpc.Value {
			wd, _ := os.Getwd()
			return xmlrpc.NewString(wd)
		}),
		dynamic("system.time", func(*call) xmlrpc.Value { return xmlrpc.NewInt(time.Now().Unix()) }),
		dynamic("system.time_seconds", func(*call) xmlrpc.Value { return xmlrpc.NewInt(time.Now().Unix()) }),
		dynamic("system.time_usec", func(*call) xmlrpc.Value { return xmlrpc.NewInt(time.Now().UnixMicro()) }),
	}
}

// logicCommands returns the commands clients build fields and filters
// from: cat, false, value and the comparisons of d.multicall.filtered.
func logicCommands() []*command {
	return []*command{
		{name: "cat", fn: func(_ *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			var b strings.Builder
			for _, a := range args {
				appendCat(&b, a)
			}
			return xmlrpc.NewString(b.String()), nil
		}},
		{name: "false", fn: func(*call, target, []xmlrpc.Value) (xmlrpc.Value, error) { return zero, nil }},
		{name: "value", fn: func(_ *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) == 0 {
				return xmlrpc.Value{}, fault(xmlrpc.FaultParse, "'value' takes at least a number argument!")
			}
			if args[0].Kind() == xmlrpc.String {
				s := strings.TrimSpace(args[0].String())
				if s == "" {
					return zero, nil
				}
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return xmlrpc.Value{}, faultf(xmlrpc.FaultParse, "Junk at end of number: %s", args[0].String())
				}
				return xmlrpc.NewInt(n), nil
			}
			n, err := toValue(args[0])
			return xmlrpc.NewInt(n), err
		}},
		{name: "not", object: true, fn: func(_ *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			// rTorrent's not takes a value and never runs a command: the
			// first element of a list, or the argument itself.
			v := xmlrpc.Value{}
			if len(args) > 0 {
				v = args[0]
			}
			if v.Kind() == xmlrpc.Array && v.Len() > 0 {
				v = v.Index(0)
			}
			return boolValue(!truthy(v)), nil
		}},
		{name: "and", object: true, fn: logicCmd(false)},
		{name: "or", object: true, fn: logicCmd(true)},
		{name: "equal", fn: compareCmd(func(r int) bool { return r == 0 })},
		{name: "less", fn: compareCmd(func(r int) bool { return r < 0 })},
		{name: "greater", fn: compareCmd(func(r int) bool { return r > 0 })},
		{name: "match", fn: func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) < 2 || args[len(args)-1].Kind() != xmlrpc.String {
				return xmlrpc.Value{}, errWrongType
			}
			v, err := c.operand(args[0], t)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			re, err := c.regexp(args[len(args)-1].String())
			if err != nil {
				return xmlrpc.Value{}, err
			}
			s := v.String()
			if v.Kind() == xmlrpc.Int {
				s = strconv.FormatInt(v.Int(), 10)
			}
			return boolValue(re.MatchString(s)), nil
		}},
	}
}

// logicCmd builds and (any false) and or (any true) as rTorrent 0.9.8 has
// them: one argument that is not a list is judged as it is, without being
// run ("or=0" is true: "0" is a non-empty string); the elements of a list
// are numbers taken as they are or command strings run on the target, and
// anything else is the wrong type.
func logicCmd(isOr bool) cmdFunc {
	return func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		if len(args) == 0 {
			return boolValue(false), nil
		}
		if args[0].Kind() != xmlrpc.Array {
			return boolValue(truthy(args[0])), nil
		}
		for _, a := range args[0].Values() {
			var v xmlrpc.Value
			switch a.Kind() {
			case xmlrpc.Int, xmlrpc.Bool:
				v = a
			case xmlrpc.String:
				var err error
				if v, err = c.operand(a, t); err != nil {
					return xmlrpc.Value{}, err
				}
			default:
				return xmlrpc.Value{}, errWrongType
			}
			if truthy(v) == isOr {
				return boolValue(isOr), nil
			}
		}
		return boolValue(!isOr), nil
	}
}

// operand runs a command string on the target ("d.state=").
func (c *call) operand(a xmlrpc.Value, t target) (xmlrpc.Value, error) {
	if a.Kind() != xmlrpc.String {
		return xmlrpc.Value{}, errWrongType
	}
	v, err := c.eval(c.compile(a.String()), t)
	if err != nil {
		return xmlrpc.Value{}, err
	}
	return result(v), nil
}

// compareCmd builds equal, less and greater as rTorrent 0.9.8 has them:
// the first and the last argument are command strings run on the target,
// and their results compared, numbers with numbers, text with text.
func compareCmd(ok func(int) bool) cmdFunc {
	return func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		if len(args) == 0 {
			return xmlrpc.Value{}, fault(xmlrpc.FaultParse, "Wrong argument count.")
		}
		a, err := c.operand(args[0], t)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		b, err := c.operand(args[len(args)-1], t)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		switch {
		case a.Kind() == xmlrpc.Int && b.Kind() == xmlrpc.Int:
			return boolValue(ok(cmpInt(a.Int(), b.Int()))), nil
		case a.Kind() == xmlrpc.String && b.Kind() == xmlrpc.String:
			return boolValue(ok(strings.Compare(a.String(), b.String()))), nil
		}
		return xmlrpc.Value{}, errTypeMismatch
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// appendCat renders a value as cat does: text as is, numbers in decimal,
// lists flattened, nothing for nothing.
func appendCat(b *strings.Builder, v xmlrpc.Value) {
	switch v.Kind() {
	case xmlrpc.String:
		b.WriteString(v.String())
	case xmlrpc.Int, xmlrpc.Bool:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case xmlrpc.Array:
		for _, x := range v.Values() {
			appendCat(b, x)
		}
	case xmlrpc.Nil:
	default:
		fmt.Fprint(b, v.Interface())
	}
}
