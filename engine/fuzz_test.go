package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/engine"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// commandSeeds are command strings of every form the parser handles: the
// fields Flood and the poller send, and the odd forms measured against
// rTorrent in TestCommandStringsMatchRtorrent.
var commandSeeds = []string{
	"d.hash=", "d.custom=addtime", `cat="$t.multicall=d.hash=,t.is_enabled=,t.url=,cat={|||}"`,
	`cat="$t.multicall=d.hash=,t.is_enabled=,cat=|,t.scrape_complete=,cat=|,t.scrape_incomplete=,cat=|,t.url=,cat={|||}"`,
	"cat={a,{b,c}}", `cat="x\"y"`, "cat=$cat=x,y", `cat=a\,b`, "cat=a;b", "#cat=x", "cat={a", `cat="a`,
	`cat=a\`, "or={d.state=,d.is_open=}", `match={d.name=,"^(a|b)$"}`, "equal={d.hash=,cat=X}",
	"d.custom.set=k,v", "d.directory.set=/x", "value=5", "not=$d.state=", "cat={{{{}}}}", "=", "",
}

// FuzzCommandString feeds command strings to the parser, and then to an
// engine as a d.multicall2 field: neither may panic, and the engine
// answers a value or a fault, never anything else.
func FuzzCommandString(f *testing.F) {
	for _, s := range commandSeeds {
		f.Add(s)
	}
	e := newEnv(f)
	tr := rtorrenttest.MakeTorrentBytes(f, "fuzz.bin", 40_000)
	f.Fuzz(func(t *testing.T, s string) {
		engine.ParseCommand(s)
		if len(rows(t, e, "main", "d.hash=")) == 0 {
			call(t, e, "load.raw", "", tr.Bytes)
		}
		_, err := e.Call(ctxT(t), "d.multicall2", xmlrpc.NewString(""), xmlrpc.NewString("main"), xmlrpc.NewString(s))
		var fault *xmlrpc.Fault
		if err != nil && !errors.As(err, &fault) {
			t.Fatalf("field %q: %v, want a value or a fault", s, err)
		}
	})
}

func TestParseCommandErrors(t *testing.T) {
	for _, c := range []struct {
		name, in string
		cmd      string
		args     int
		fault    string
	}{
		{name: "plain", in: "d.hash=", cmd: "d.hash", args: 1},
		{name: "list", in: "cat=a,b,c", cmd: "cat", args: 3},
		{name: "braced list", in: "cat={a,b}", cmd: "cat", args: 2},
		{name: "list in list", in: "cat={a,b},c", cmd: "cat", args: 2},
		{name: "no equals", in: "d.hash", cmd: "d.hash", fault: "Could not find '=' in command 'd.hash'."},
		{name: "open brace", in: "cat={a", cmd: "cat", fault: "Could not find closing '}'."},
		{name: "open quote", in: `cat="a`, cmd: "cat", fault: "Missing closing quote."},
		{name: "escape at end", in: `cat=a\`, cmd: "cat", fault: "Escape character at end of input."},
		{name: "junk", in: "cat=a b", cmd: "cat", fault: "Junk at end of input."},
		{name: "deep", in: "cat=" + strings.Repeat("{", 100) + strings.Repeat("}", 100), cmd: "cat", fault: "Lists nested too deeply."},
	} {
		t.Run(c.name, func(t *testing.T) {
			name, args, err := engine.ParseCommand(c.in)
			var f *xmlrpc.Fault
			switch {
			case c.fault != "":
				if !errors.As(err, &f) || f.Message != c.fault || f.Code != xmlrpc.FaultParse {
					t.Errorf("ParseCommand(%q) error = %v, want fault -503 %q", c.in, err, c.fault)
				}
			case err != nil:
				t.Errorf("ParseCommand(%q): %v", c.in, err)
			case name != c.cmd || args != c.args:
				t.Errorf("ParseCommand(%q) = %s with %d args, want %s with %d", c.in, name, args, c.cmd, c.args)
			}
		})
	}
}
