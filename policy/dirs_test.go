package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// dirPolicy is a policy with two directory roots, as tests use it.
func dirPolicy(t testing.TB, cfg policy.Config) *policy.Policy {
	t.Helper()
	if cfg.Directories == nil {
		cfg.Directories = []string{"/dl", "/media/tv/"}
	}
	p, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyDirectories(t *testing.T) {
	torrent := xmlrpc.NewBase64(rtorrenttest.MakeTorrentBytes(t, "x", 1000).Bytes)
	// floodAdd is Flood's add with dirCmd as its second extra command.
	floodAdd := func(dirCmd string) []xmlrpc.Value {
		return []xmlrpc.Value{str(""), torrent, str(`d.tied_to_file.set=""`), str(dirCmd),
			str("d.custom.set=addtime,1700000000"), str(`d.custom1.set="movies"`)}
	}
	move := func(method, dir string) []xmlrpc.Value {
		return []xmlrpc.Value{xmlrpc.NewArray(entry("d.is_multi_file", str(hash)), entry(method, strs(hash, dir)...))}
	}
	const (
		outside    = "outside the allowed directories"
		notLiteral = "not a plain literal"
	)
	tests := []struct {
		name   string
		method string
		params []xmlrpc.Value
		// refused is the command the refusal names; empty if allowed.
		refused string
		where   string // the refusal's Where
		reason  string // a substring of its Reason
	}{
		// Allowed.
		{name: "inside", method: "d.directory.set", params: strs(hash, "/dl/movies")},
		{name: "root itself", method: "d.directory.set", params: strs(hash, "/dl")},
		{name: "root with a slash", method: "d.directory.set", params: strs(hash, "/dl/")},
		{name: "second root, given uncleaned", method: "d.directory_base.set", params: strs(hash, "/media/tv/Show/Season 1")},
		{name: "uncleaned inside", method: "d.directory.set", params: strs(hash, "/dl//a/./b/")},
		{name: "parentheses and equals", method: "d.directory.set", params: strs(hash, "/dl/Movie (2021) a=b, c")},
		{name: "load.raw_start command", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/movies"`)},
		{name: "quoted with spaces", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/My Movies"`)},
		{name: "escaped space", method: "load.raw", params: floodAdd(`d.directory.set=/dl/My\ Movies`)},
		{name: "escaped comma", method: "load.raw", params: floodAdd(`d.directory.set=/dl/a\,b`)},
		{name: "unquoted", method: "load.start", params: []xmlrpc.Value{str(""), str("magnet:?xt=urn:btih:" + hash), str("d.directory.set=/dl/x")}},
		{name: "blanks around", method: "load.normal", params: floodAdd(" d.directory_base.set \t= \"/dl/x\" \t")},
		{name: "equals in a quoted path", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/a=b"`)},
		{name: "a command in a path is data", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/d.directory_base.set=/etc"`)},
		{name: "flood move", method: "system.multicall", params: move("d.directory.set", "/dl/elsewhere")},
		{name: "flood move base", method: "system.multicall", params: move("d.directory_base.set", "/media/tv/x")},
		{name: "multicall field", method: "d.multicall2", params: strs("", "main", "d.hash=", `d.directory.set="/dl/all"`)},
		{name: "load in system.multicall", method: "system.multicall",
			params: []xmlrpc.Value{xmlrpc.NewArray(entry("load.raw_start", floodAdd(`d.directory.set="/dl/x"`)...))}},

		// Refused: outside.
		{name: "outside", method: "d.directory.set", params: strs(hash, "/etc"), refused: "d.directory.set", reason: `"/etc" is ` + outside},
		{name: "prefix is not a parent", method: "d.directory.set", params: strs(hash, "/dlx"), refused: "d.directory.set", reason: outside},
		{name: "parent of a root", method: "d.directory.set", params: strs(hash, "/media"), refused: "d.directory.set", reason: outside},
		{name: "dot-dot escape", method: "d.directory.set", params: strs(hash, "/dl/../etc"), refused: "d.directory.set", reason: `".." element`},
		{name: "dot-dot inside", method: "d.directory.set", params: strs(hash, "/dl/a/../b"), refused: "d.directory.set", reason: `".." element`},
		{name: "relative", method: "d.directory.set", params: strs(hash, "dl/x"), refused: "d.directory.set", reason: "not an absolute path"},
		{name: "home", method: "d.directory.set", params: strs(hash, "~/dl"), refused: "d.directory.set", reason: "not an absolute path"},
		{name: "empty", method: "d.directory.set", params: strs(hash, ""), refused: "d.directory.set", reason: "not an absolute path"},
		{name: "control character", method: "d.directory.set", params: strs(hash, "/dl/a\nb"), refused: "d.directory.set", reason: "control characters"},
		{name: "dollar inside", method: "d.directory.set", params: strs(hash, "/dl/a$b"), refused: "d.directory.set", reason: notLiteral},
		{name: "brace inside", method: "d.directory.set", params: strs(hash, "/dl/{x}"), refused: "d.directory.set", reason: notLiteral},
		{name: "load outside", method: "load.raw_start", params: floodAdd(`d.directory.set="/etc"`),
			refused: "d.directory.set", where: "load.raw_start command 2", reason: outside},
		{name: "load base outside", method: "load.raw", params: floodAdd(`d.directory_base.set=/root/.ssh`),
			refused: "d.directory_base.set", where: "load.raw command 2", reason: outside},
		{name: "multicall entry outside", method: "system.multicall", params: move("d.directory.set", "/tmp/x"),
			refused: "d.directory.set", where: "system.multicall entry 2", reason: outside},
		{name: "multicall field outside", method: "d.multicall2", params: strs("", "main", "d.directory.set=/etc"),
			refused: "d.directory.set", where: "d.multicall2 field 1", reason: outside},
		{name: "load in system.multicall outside", method: "system.multicall",
			params:  []xmlrpc.Value{xmlrpc.NewArray(entry("load.raw_start", floodAdd(`d.directory.set="/etc"`)...))},
			refused: "d.directory.set", where: "system.multicall entry 1, load.raw_start command 2", reason: outside},
		{name: "load dot-dot", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/../etc"`), refused: "d.directory.set", reason: `".." element`},
		{name: "load relative", method: "load.raw_start", params: floodAdd(`d.directory.set=dl`), refused: "d.directory.set", reason: "not an absolute path"},

		// Refused: not a plain literal.
		{name: "computed", method: "load.raw_start", params: floodAdd("d.directory.set=$cat=/etc"),
			refused: "d.directory.set", where: "load.raw_start command 2", reason: notLiteral},
		{name: "computed inside a root", method: "load.raw_start", params: floodAdd("d.directory.set=$cat=/dl/x"), refused: "d.directory.set", reason: notLiteral},
		{name: "computed quoted", method: "load.raw_start", params: floodAdd(`d.directory.set="$cat=/dl"`), refused: "d.directory.set", reason: notLiteral},
		{name: "computed escaped", method: "load.raw_start", params: floodAdd(`d.directory.set=\$cat=/dl`), refused: "d.directory.set", reason: notLiteral},
		{name: "call syntax", method: "load.raw_start", params: floodAdd("d.directory.set=(cat,/dl/x)"), refused: "d.directory.set", reason: notLiteral},
		{name: "list", method: "load.raw_start", params: floodAdd("d.directory.set={/dl/x}"), refused: "d.directory.set", reason: notLiteral},
		{name: "several arguments", method: "load.raw_start", params: floodAdd("d.directory.set=/dl/x,/etc"), refused: "d.directory.set", reason: notLiteral},
		{name: "unquoted space", method: "load.raw_start", params: floodAdd("d.directory.set=/dl/My Movies"), refused: "d.directory.set", reason: notLiteral},
		{name: "junk after the quote", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/x"y`), refused: "d.directory.set", reason: notLiteral},
		{name: "unclosed quote", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/x`), refused: "d.directory.set", reason: notLiteral},
		{name: "escape at the end", method: "load.raw_start", params: floodAdd(`d.directory.set=/dl/x\`), refused: "d.directory.set", reason: notLiteral},
		{name: "second command", method: "load.raw_start", params: floodAdd("d.directory.set=/dl/x;d.directory.set=/etc"), refused: "d.directory.set", reason: notLiteral},
		{name: "second command after a newline", method: "load.raw_start", params: floodAdd("d.directory.set=/dl/x\nd.custom.set=a,b"), refused: "d.directory.set", reason: notLiteral},
		{name: "after another command", method: "load.raw_start", params: floodAdd("d.custom.set=a,b;d.directory.set=/dl/x"), refused: "d.directory.set", reason: notLiteral},
		{name: "nested", method: "d.multicall2", params: strs("", "main", "cat=$d.directory.set=/dl/x"), refused: "d.directory.set", reason: notLiteral},
		{name: "quoted newline", method: "load.raw_start", params: floodAdd("d.directory.set=\"/dl/a\nb\""), refused: "d.directory.set", reason: "control characters"},

		// Refused: a call's params.
		{name: "int path", method: "d.directory.set", params: []xmlrpc.Value{str(hash), xmlrpc.NewInt(5)}, refused: "d.directory.set", reason: "is a int, not a string"},
		{name: "base64 path", method: "d.directory.set", params: []xmlrpc.Value{str(hash), xmlrpc.NewBase64([]byte("/dl/x"))},
			refused: "d.directory.set", reason: "not a string"},
		{name: "array path", method: "d.directory_base.set", params: []xmlrpc.Value{str(hash), xmlrpc.NewArray(str("/dl/x"))},
			refused: "d.directory_base.set", reason: "not a string"},
		{name: "no path", method: "d.directory.set", params: strs(hash), refused: "d.directory.set", reason: "not 1 params"},
		{name: "two paths", method: "d.directory.set", params: strs(hash, "/dl/x", "/etc"), refused: "d.directory.set", reason: "not 3 params"},
		{name: "int path in an entry", method: "system.multicall",
			params:  []xmlrpc.Value{xmlrpc.NewArray(entry("d.directory.set", str(hash), xmlrpc.NewInt(1)))},
			refused: "d.directory.set", where: "system.multicall entry 1", reason: "not a string"},

		// The rest of the policy holds.
		{name: "default directory", method: "directory.default.set", params: strs("", "/dl"), refused: "directory.default.set"},
		{name: "with another denied command", method: "load.raw_start", params: append(floodAdd(`d.directory.set="/dl/x"`), str("execute.throw=sh")),
			refused: "execute.throw", where: "load.raw_start command 5"},
		{name: "denied in the same string", method: "load.raw_start", params: floodAdd(`d.directory.set="/dl/x";execute.throw=sh`),
			refused: "d.directory.set", reason: notLiteral},
		{name: "create link", method: "d.create_link", params: strs(hash, "base_path", "/dl/x"), refused: "d.create_link"},
	}
	p := dirPolicy(t, policy.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(tt.method, tt.params)
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("Check = %v, want allowed", err)
				}
				return
			}
			var r *policy.Refusal
			if !errors.As(err, &r) {
				t.Fatalf("Check = %v, want a refusal of %q", err, tt.refused)
			}
			if r.Method != tt.refused || (tt.where != "" && r.Where != tt.where) || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("refusal %+v, want method %q where %q reason ~%q", *r, tt.refused, tt.where, tt.reason)
			}
			if f := r.Fault(); f.Code != -507 || f.Message != r.Error() {
				t.Errorf("fault %+v", f)
			}
		})
	}
}

func TestPolicyDirectoryRefusalMessage(t *testing.T) {
	torrent := xmlrpc.NewBase64(rtorrenttest.MakeTorrentBytes(t, "x", 1000).Bytes)
	err := dirPolicy(t, policy.Config{}).Check("load.raw_start",
		[]xmlrpc.Value{str(""), torrent, str("d.custom.set=addtime,1700000000"), str(`d.directory.set="/etc"`)})
	const want = `rtgate: method "d.directory.set" refused by policy: "/etc" is outside the allowed directories (inside load.raw_start command 2)`
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v\nwant %s", err, want)
	}
}

// TestPolicyDirectoriesConfig checks how Directories combines with Allow
// and Deny, and that without it nothing changes.
func TestPolicyDirectoriesConfig(t *testing.T) {
	load := func(dirCmd string) []xmlrpc.Value {
		return []xmlrpc.Value{str(""), xmlrpc.NewBase64([]byte("d")), str(dirCmd)}
	}
	type call struct {
		method string
		params []xmlrpc.Value
		// refused is the command the refusal names; empty if allowed.
		refused string
	}
	inside := call{method: "d.directory.set", params: strs(hash, "/dl/x")}
	insideBase := call{method: "d.directory_base.set", params: strs(hash, "/dl/x")}
	insideLoad := call{method: "load.raw", params: load(`d.directory.set="/dl/x"`)}
	outside := call{method: "d.directory.set", params: strs(hash, "/etc"), refused: "d.directory.set"}
	outsideLoad := call{method: "load.raw", params: load(`d.directory.set="/etc"`), refused: "d.directory.set"}
	refused := func(c call) call { c.refused = c.method; return c }
	refusedIn := func(c call, name string) call { c.refused = name; return c }
	tests := []struct {
		name  string
		cfg   policy.Config
		calls []call
		// allows is what Allows says of d.directory.set.
		allows bool
	}{
		{name: "directories", cfg: policy.Config{Directories: []string{"/dl"}},
			calls: []call{inside, insideBase, insideLoad, outside, outsideLoad}},
		{name: "deny wins", cfg: policy.Config{Directories: []string{"/dl"}, Deny: []string{"d.directory.set"}},
			calls: []call{refused(inside), insideBase, refusedIn(insideLoad, "d.directory.set"), outside}},
		{name: "deny by pattern wins", cfg: policy.Config{Directories: []string{"/dl"}, Deny: []string{"d.directory*"}},
			calls: []call{refused(inside), refused(insideBase)}},
		{name: "allow does not lift the bound", cfg: policy.Config{Directories: []string{"/dl"}, Allow: []string{"d.directory.set", "d.*"}},
			calls: []call{inside, outside, outsideLoad}},
		{name: "root slash admits any absolute path", cfg: policy.Config{Directories: []string{"/"}},
			calls: []call{inside, {method: "d.directory.set", params: strs(hash, "/etc")}, refused(call{method: "d.directory.set", params: strs(hash, "etc")})}},
		{name: "empty keeps the default", cfg: policy.Config{},
			calls: []call{refused(inside), refused(insideBase), refusedIn(insideLoad, "d.directory.set"), outside}},
		{name: "empty with allow opens fully", cfg: policy.Config{Allow: []string{"d.directory.set"}},
			calls: []call{inside, {method: "d.directory.set", params: strs(hash, "/etc")},
				{method: "load.raw", params: load(`d.directory.set="/etc"`)}, refused(insideBase)},
			allows: true},
		{name: "empty with allow, deny wins", cfg: policy.Config{Allow: []string{"d.directory*.set"}, Deny: []string{"d.directory_base.set"}},
			calls: []call{inside, refused(insideBase)}, allows: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Allows("d.directory.set"); got != tt.allows {
				t.Errorf("Allows(d.directory.set) = %v, want %v", got, tt.allows)
			}
			if p.Allows("directory.default.set") {
				t.Error("directory.default.set allowed")
			}
			for _, c := range tt.calls {
				err := p.Check(c.method, c.params)
				var r *policy.Refusal
				switch {
				case c.refused == "" && err != nil:
					t.Errorf("%s%v: %v, want allowed", c.method, c.params, err)
				case c.refused != "" && (!errors.As(err, &r) || r.Method != c.refused):
					t.Errorf("%s%v: %v, want a refusal of %s", c.method, c.params, err, c.refused)
				}
			}
		})
	}
}

func TestNewPolicyBadDirectories(t *testing.T) {
	for _, dir := range []string{"", "dl", "./dl", "~/dl", "/dl/../etc", "/dl/$x", "/dl/{x}", "/dl\n"} {
		if _, err := policy.New(policy.Config{Directories: []string{"/ok", dir}}); !errors.Is(err, policy.ErrBadDirectory) {
			t.Errorf("Directories %q: err %v, want ErrBadDirectory", dir, err)
		}
	}
	if _, err := policy.New(policy.Config{Directories: []string{"/", "/dl/", "//x/./y"}}); err != nil {
		t.Errorf("clean-able roots: %v", err)
	}
}

func TestParseLiteralCommand(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantName string
		wantArg  string
		ok       bool
	}{
		{name: "quoted", in: `d.directory.set="/a b"`, wantName: "d.directory.set", wantArg: "/a b", ok: true},
		{name: "unquoted", in: `d.directory.set=/a`, wantName: "d.directory.set", wantArg: "/a", ok: true},
		{name: "escaped comma", in: `d.directory.set=/a\,b`, wantName: "d.directory.set", wantArg: "/a,b", ok: true},
		{name: "escaped space", in: `d.directory.set=/a\ b`, wantName: "d.directory.set", wantArg: "/a b", ok: true},
		{name: "escaped quote", in: `d.directory.set="/a\"b"`, wantName: "d.directory.set", wantArg: `/a"b`, ok: true},
		{name: "escaped escape", in: `d.directory.set="/a\\b"`, wantName: "d.directory.set", wantArg: `/a\b`, ok: true},
		{name: "quote inside", in: `d.directory.set=/a"b"`, wantName: "d.directory.set", wantArg: `/a"b"`, ok: true},
		{name: "blanks", in: " \td.directory_base.set \t= \t\"/x\" \t", wantName: "d.directory_base.set", wantArg: "/x", ok: true},
		{name: "empty", in: `d.directory.set=`, wantName: "d.directory.set", wantArg: "", ok: true},
		{name: "empty quoted", in: `d.directory.set=""`, wantName: "d.directory.set", wantArg: "", ok: true},
		{name: "dollar", in: `d.directory.set=$cat=/etc`, wantName: "d.directory.set", wantArg: "$cat=/etc", ok: true},
		{name: "parentheses inside", in: `d.directory.set=/a(b)`, wantName: "d.directory.set", wantArg: "/a(b)", ok: true},
		{name: "hash inside", in: `d.directory.set=/a#b`, wantName: "d.directory.set", wantArg: "/a#b", ok: true},
		{name: "list", in: `d.directory.set={/a}`},
		{name: "call", in: `d.directory.set=(cat,/a)`},
		{name: "two arguments", in: `d.directory.set=/a,/b`},
		{name: "trailing comma", in: `d.directory.set="/a",`},
		{name: "space inside", in: `d.directory.set=/a b`},
		{name: "tab inside", in: "d.directory.set=/a\tb"},
		{name: "two commands", in: `d.directory.set=/a;d.name=`},
		{name: "trailing semicolon", in: `d.directory.set=/a;`},
		{name: "trailing newline", in: "d.directory.set=/a\n"},
		{name: "vertical tab", in: "d.directory.set=/a\vb"},
		{name: "junk after the quote", in: `d.directory.set="/a"b`},
		{name: "unclosed quote", in: `d.directory.set="/a`},
		{name: "escape at the end", in: `d.directory.set=/a\`},
		{name: "escape at the end quoted", in: `d.directory.set="/a\`},
		{name: "comment", in: `#d.directory.set=/a`},
		{name: "quoted name", in: `"d.directory.set=/a"`},
		{name: "no equals", in: `d.directory.set /a`},
		{name: "nothing", in: ` `},
		{name: "digit first", in: `9d.directory.set=/a`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, arg, ok := policy.ParseLiteralCommand(tt.in)
			if ok != tt.ok || name != tt.wantName || arg != tt.wantArg {
				t.Errorf("ParseLiteralCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.in, name, arg, ok, tt.wantName, tt.wantArg, tt.ok)
			}
		})
	}
}

// quoteArg writes s as one quoted rTorrent argument.
func quoteArg(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// escapeArg writes s as one unquoted rTorrent argument.
func escapeArg(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("\\\", ;\t\n\v\f\r", s[i]) >= 0 || i == 0 && strings.IndexByte("{(", s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FuzzParseLiteralCommand checks that the parser never panics, that what
// it accepts the command scan sees as that command, and that any path,
// quoted or escaped, reads back as itself.
func FuzzParseLiteralCommand(f *testing.F) {
	for _, s := range []string{`d.directory.set="/a b"`, `d.directory.set=/a\,b`, `d.directory.set={/a}`, `d.directory.set="/a\"b"`,
		"d.directory.set=/a;x=", `d.directory.set=$cat=/etc`, " d.x \t= \"\\", "#", ""} {
		f.Add(s, "/dl/My Movies")
	}
	f.Add(`d.directory_base.set=`, `/a\b"c,d;e f{g}(h)`)
	f.Fuzz(func(t *testing.T, s, p string) {
		if name, _, ok := policy.ParseLiteralCommand(s); ok {
			if names, _ := policy.ScanCommands(s); len(names) == 0 || names[0] != name {
				t.Errorf("ParseLiteralCommand(%q) = %q, but the scan finds %q", s, name, names)
			}
		}
		for _, cmd := range []string{"d.directory.set=" + quoteArg(p), "d.directory.set=" + escapeArg(p)} {
			if name, arg, ok := policy.ParseLiteralCommand(cmd); !ok || name != "d.directory.set" || arg != p {
				t.Errorf("ParseLiteralCommand(%q) = %q, %q, %v; want the path %q", cmd, name, arg, ok, p)
			}
		}
	})
}
