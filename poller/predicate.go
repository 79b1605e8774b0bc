package poller

import (
	"errors"
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/internal/rtcmd"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Predicates of d.multicall.filtered evaluated from state. rTorrent parses
// the predicate as one command and runs it on every download of the view
// (core/view.cc view_downloads_filter); a download is kept when the result
// is a non-zero integer or a non-empty string, and dropped when the
// command fails ("Type mismatch." and the like are logged, not faulted).
// The forms evaluated here, with rTorrent 0.9.8's semantics (command_ui.cc,
// the same in 0.16.17):
//
//	d.complete=  d.custom=KEY  …     a getter the state holds
//	cat=a,$d.name=,b                 concatenation (integers in decimal)
//	value=N                          the integer N
//	false=                           0
//	not=$CMD                         1 when CMD's value is false, else 0 (not=X tests X itself)
//	and={CMD,CMD}  or={CMD,CMD}      each item run as a command; one item: that item's truth as text
//	equal=A,B  less=A,B  greater=A,B A and B run as commands and compared: integers by value, strings
//	                                 bytewise; different types fail (the download is dropped)
//
// Anything else is not evaluated: the call goes to rTorrent.

// pexpr evaluates one expression for the download hash, row r.
type pexpr func(hash string, r *row) (xmlrpc.Value, error)

// errPredicate is an evaluation failure rTorrent would log, dropping the
// download.
var errPredicate = errors.New("predicate failed")

// compilePredicate compiles the predicate cmd, learning the getters it
// reads; ok false when it cannot be evaluated from state now.
func (a *answerer) compilePredicate(cmd string) (pexpr, bool) {
	return a.compileCommand(cmd, 0)
}

func (a *answerer) compileCommand(cmd string, depth int) (pexpr, bool) {
	if depth > 8 {
		return nil, false
	}
	c := rtcmd.Parse(cmd)
	if c.Empty || c.Err != nil || c.Rest != "" {
		return nil, false
	}
	// Arguments: literal strings, or $-commands evaluated first.
	args := make([]pexpr, len(c.Args))
	lits := make([]string, len(c.Args))
	dollar := make([]bool, len(c.Args))
	for i, n := range c.Args {
		if n.IsList {
			return nil, false
		}
		lits[i] = n.Str
		if strings.HasPrefix(n.Str, "$") {
			e, ok := a.compileCommand(n.Str[1:], depth+1)
			if !ok {
				return nil, false
			}
			args[i], dollar[i] = e, true
			continue
		}
		v := xmlrpc.NewString(n.Str)
		args[i] = func(string, *row) (xmlrpc.Value, error) { return v, nil }
	}
	anyDollar := false
	for _, d := range dollar {
		anyDollar = anyDollar || d
	}
	switch c.Name {
	case "false":
		return func(string, *row) (xmlrpc.Value, error) { return zero, nil }, true
	case "value":
		if len(args) != 1 || dollar[0] {
			return nil, false
		}
		n, err := strconv.ParseInt(lits[0], 10, 64)
		if err != nil {
			return nil, false
		}
		v := xmlrpc.NewInt(n)
		return func(string, *row) (xmlrpc.Value, error) { return v, nil }, true
	case "cat":
		return func(h string, r *row) (xmlrpc.Value, error) {
			var sb strings.Builder
			for _, e := range args {
				v, err := e(h, r)
				if err != nil {
					return v, err
				}
				switch v.Kind() {
				case xmlrpc.String:
					sb.WriteString(v.String())
				case xmlrpc.Int:
					sb.WriteString(strconv.FormatInt(v.Int(), 10))
				default:
					return v, errPredicate
				}
			}
			return xmlrpc.NewString(sb.String()), nil
		}, true
	case "not":
		if len(args) != 1 {
			return nil, false
		}
		e := args[0]
		return func(h string, r *row) (xmlrpc.Value, error) {
			v, err := e(h, r)
			if err != nil {
				return v, err
			}
			return boolValue(!truth(v)), nil
		}, true
	case "and", "or":
		if anyDollar {
			return nil, false
		}
		if !c.IsList {
			// One item is not run: its text is what is tested.
			v := boolValue(len(args) == 1 && lits[0] != "")
			return func(string, *row) (xmlrpc.Value, error) { return v, nil }, true
		}
		items := make([]pexpr, len(lits))
		for i, l := range lits {
			e, ok := a.compileCommand(l, depth+1)
			if !ok {
				return nil, false
			}
			items[i] = e
		}
		and := c.Name == "and"
		return func(h string, r *row) (xmlrpc.Value, error) {
			for _, e := range items {
				v, err := e(h, r)
				if err != nil {
					return v, err
				}
				if truth(v) != and {
					return boolValue(!and), nil
				}
			}
			return boolValue(and), nil
		}, true
	case "equal", "less", "greater":
		if anyDollar || len(lits) == 0 {
			return nil, false
		}
		left, ok := a.compileCommand(lits[0], depth+1)
		if !ok {
			return nil, false
		}
		right, ok := a.compileCommand(lits[len(lits)-1], depth+1)
		if !ok {
			return nil, false
		}
		op := c.Name
		return func(h string, r *row) (xmlrpc.Value, error) {
			x, err := left(h, r)
			if err != nil {
				return x, err
			}
			y, err := right(h, r)
			if err != nil {
				return y, err
			}
			var cmp int
			switch {
			case x.Kind() == xmlrpc.Int && y.Kind() == xmlrpc.Int:
				cmp = compareInt(x.Int(), y.Int())
			case x.Kind() == xmlrpc.String && y.Kind() == xmlrpc.String:
				cmp = strings.Compare(x.String(), y.String())
			default:
				return x, errPredicate // "Type mismatch."
			}
			switch op {
			case "equal":
				return boolValue(cmp == 0), nil
			case "less":
				return boolValue(cmp < 0), nil
			}
			return boolValue(cmp > 0), nil
		}, true
	}
	// A getter: the whole command is a field the state may hold.
	if anyDollar {
		return nil, false
	}
	s := a.field(cmd)
	if !s.ok() {
		return nil, false
	}
	return func(h string, r *row) (xmlrpc.Value, error) {
		v, ok := s.value(a.st.schema, h, r)
		if !ok {
			return v, errMissing
		}
		return v, nil
	}, true
}

// errMissing: the state lacks a value it should hold; the call goes to
// rTorrent.
var errMissing = errors.New("value missing")

// truth is rTorrent's as_boolean: a non-zero integer, a non-empty string.
func truth(v xmlrpc.Value) bool {
	switch v.Kind() {
	case xmlrpc.Int, xmlrpc.Bool:
		return v.Int() != 0
	case xmlrpc.String:
		return v.String() != ""
	case xmlrpc.Array:
		return v.Len() > 0
	}
	return false
}

func boolValue(b bool) xmlrpc.Value {
	if b {
		return xmlrpc.NewInt(1)
	}
	return zero
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
