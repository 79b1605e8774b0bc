package rtcmd_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/internal/rtcmd"
	"github.com/rtgate/rtgate/xmlrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// show prints a parsed command compactly: name(args) or an error.
func show(c rtcmd.Command) string {
	switch {
	case c.Empty:
		return "empty"
	case c.Err != nil:
		var f *xmlrpc.Fault
		errors.As(c.Err, &f)
		return "error: " + f.Message
	}
	var b strings.Builder
	b.WriteString(c.Name)
	if c.IsList {
		b.WriteString("{")
	} else {
		b.WriteString("(")
	}
	for i, n := range c.Args {
		if i > 0 {
			b.WriteString("|")
		}
		b.WriteString(showNode(n))
	}
	b.WriteString(")")
	if c.Rest != "" {
		b.WriteString(" rest " + c.Rest)
	}
	return b.String()
}

func showNode(n rtcmd.Node) string {
	if !n.IsList {
		return "'" + n.Str + "'"
	}
	parts := make([]string, len(n.List))
	for i, e := range n.List {
		parts[i] = showNode(e)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func TestParse(t *testing.T) {
	tests := []struct{ in, want string }{
		{"d.hash=", "d.hash('')"},
		{"d.custom=addtime", "d.custom('addtime')"},
		{`cat="$t.multicall=d.hash=,t.url=,cat={|||}"`, "cat('$t.multicall=d.hash=,t.url=,cat={|||}')"},
		{`cat=\$t.multicall=d.hash=,t.url=,cat={|||}`, "cat{'$t.multicall=d.hash='|'t.url='|'cat={|||}')"},
		{"cat={a,{b,c}}", "cat{'a'|{'b' 'c'})"},
		{"cat={a b}", "cat{'a b')"},
		{"d.custom.set=k,v", "d.custom.set{'k'|'v')"},
		{` d.name  =  "a b"  `, "d.name('a b')"},
		{`cat=a\,b`, "cat('a,b')"},
		{"cat=a;b=", "cat('a') rest ;b="},
		{"cat=a\nb=", "cat('a') rest \nb="},
		{"#cat=x", "empty"},
		{"   ", "empty"},
		{"cat", "error: Could not find '=' in command 'cat'."},
		{"cat={a", "error: Could not find closing '}'."},
		{`cat="a`, "error: Missing closing quote."},
		{`cat=a\`, "error: Escape character at end of input."},
		{`cat="a"b`, "error: Junk at end of input."},
		{"cat=a b", "error: Junk at end of input."},
		{"cat=" + strings.Repeat("{", 40), "error: Lists nested too deeply."},
		{"cat=", "cat('')"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := show(rtcmd.Parse(tt.in)); got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	var f *xmlrpc.Fault
	if c := rtcmd.Parse("x"); !errors.As(c.Err, &f) || f.Code != xmlrpc.FaultParse {
		t.Errorf("a parse error is not fault -503: %v", c.Err)
	}
}

// FuzzParse: Parse never panics, its Rest is a suffix of the input that
// starts a new command, and an error leaves no arguments.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		c := rtcmd.Parse(s)
		if !strings.HasSuffix(s, c.Rest) || c.Rest != "" && strings.IndexByte(";\n\r", c.Rest[0]) < 0 {
			t.Fatalf("Parse(%q).Rest = %q", s, c.Rest)
		}
		if (c.Err != nil || c.Empty) && (c.Args != nil || c.Rest != "") {
			t.Fatalf("Parse(%q) = %+v: arguments beside an error", s, c)
		}
		for i := range c.Args {
			c.Args[i].Literal()
		}
	})
}
