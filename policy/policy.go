package policy

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Config layers an operator's choices on the default policy. Patterns
// are command names in which '*' matches any run of characters, dots
// included: "d.directory*.set", "throttle.*", "*".
//
// Deny wins over Allow, and both win over the defaults: a name matched by a
// Deny pattern is refused even if an Allow pattern matches it too, and an
// Allow pattern can open a command the defaults deny or one they do not
// know (a method your rtorrent.rc defines).
type Config struct {
	Allow []string
	Deny  []string

	// Directories are the roots below which clients may place downloads:
	// absolute paths, cleaned by New. When there are any,
	// d.directory.set and d.directory_base.set (Flood's destination when it
	// adds a torrent, and its move) are allowed, as calls, as
	// system.multicall entries and in the strings of load.*'s extra
	// commands or multicall fields, only with a plain literal absolute path
	// that lies in a root or below it: "/dl", "/dl/My Movies",
	// d.directory.set="/dl/x". A relative path, a ".." element, '$' or '{'
	// anywhere, a computed value, a list, or a directory command sharing
	// its string with another is refused. An Allow pattern does not lift
	// the bound; a Deny pattern still refuses them outright. Paths are
	// compared lexically: symlinks on rTorrent's side are not resolved, so
	// a root should not hold links that lead out of it.
	//
	// Empty, the two commands are denied unless an Allow pattern opens
	// them, and then to any path. DirectoryDefault gives rTorrent's own
	// directory.default, the usual single root.
	Directories []string
}

// A Policy decides which calls may reach rTorrent. It checks the call's
// method and every command the call would make rTorrent run: the entries of
// system.multicall, the fields of d.multicall2, d.multicall.filtered and
// t/p/f.multicall, the extra commands of load.*, and the arguments of
// commands that evaluate them (branch, if, ...), with commands hidden at any
// depth of quoting ("cat=\"$t.multicall=...\"") found by a conservative scan
// of rTorrent's command syntax.
//
// A Policy is immutable and safe for concurrent use.
type Policy struct {
	allow, deny []string
	dirs        dirRoots

	cache  sync.Map // name → verdict
	cached atomic.Int32
}

// maxCached bounds the names a Policy remembers its verdict for, so that a
// client sending endless distinct names cannot grow it.
const maxCached = 4096

// verdict is what a Policy makes of one command name.
type verdict struct {
	class   class // the default table's
	allowed bool
	eval    bool // evaluates (some of) its arguments as commands
	// dirBound: a directory command the roots bound. It is allowed only
	// with a path they admit (checkDirectory), so allowed is false.
	dirBound bool
}

// New returns the default policy with cfg layered on it. It fails on
// a pattern that cannot match a command name (ErrBadPattern) and on a
// directory that is not a plain absolute path (ErrBadDirectory).
func New(cfg Config) (*Policy, error) {
	for _, list := range [][]string{cfg.Allow, cfg.Deny} {
		for _, pat := range list {
			if err := checkPattern(pat); err != nil {
				return nil, err
			}
		}
	}
	dirs, err := newDirRoots(cfg.Directories)
	if err != nil {
		return nil, err
	}
	return &Policy{
		allow: append([]string(nil), cfg.Allow...),
		deny:  append([]string(nil), cfg.Deny...),
		dirs:  dirs,
	}, nil
}

var defaultPol = sync.OnceValue(func() *Policy {
	p, _ := New(Config{})
	return p
})

// Default returns the default policy, New(Config{}).
func Default() *Policy { return defaultPol() }

// Allows reports whether the policy allows the command name on its own,
// whatever its arguments. It reports false for d.directory.set and
// d.directory_base.set when Config.Directories bounds them: Check
// allows them with some paths only.
func (p *Policy) Allows(name string) bool { return p.lookup(name).allowed }

// Check returns nil if the policy allows the call, and otherwise a
// *Refusal naming the first command it refuses and where it was found.
func (p *Policy) Check(method string, params []xmlrpc.Value) error {
	if r := p.walkCall(method, params, nil, p.checkCommand); r != nil {
		return r
	}
	return nil
}

// checkCommand is Check's visitor.
func (p *Policy) checkCommand(c command, at *site) *Refusal {
	v := p.lookup(c.name)
	if v.dirBound {
		if why := p.checkDirectory(c); why != "" {
			return &Refusal{Method: c.name, Reason: why, Where: at.String()}
		}
		return nil
	}
	if !v.allowed {
		return &Refusal{Method: c.name, Where: at.String()}
	}
	if why := fileTarget(c, at); why != "" {
		return &Refusal{Method: c.name, Reason: why, Where: at.String()}
	}
	if c.dynamicAfter && v.eval {
		// branch=d.is_open=,$d.custom=x runs whatever d.custom holds.
		return &Refusal{Method: c.name, Reason: "it would evaluate a command computed at run time ($... or (...))", Where: at.String()}
	}
	return nil
}

// ReadOnly reports whether every command the call would run only reads,
// by the default table, whatever a Policy allows: such calls may share one
// upstream call, or be answered from state rtgate holds. Calls the default
// policy refuses are never read-only.
func ReadOnly(method string, params []xmlrpc.Value) bool {
	p := Default()
	notRead := &Refusal{}
	r := p.walkCall(method, params, nil, func(c command, at *site) *Refusal {
		if v := p.lookup(c.name); v.class != classRead || !v.allowed || c.dynamicAfter && v.eval {
			return notRead
		}
		return nil
	})
	return r == nil
}

func (p *Policy) lookup(name string) verdict {
	if v, ok := p.cache.Load(name); ok {
		return v.(verdict)
	}
	v := p.decide(name)
	if p.cached.Add(1) <= maxCached {
		p.cache.Store(name, v)
	}
	return v
}

func (p *Policy) decide(name string) verdict {
	r := tableRule(name)
	v := verdict{class: r.class, eval: r.eval}
	v.allowed = r.class == classRead || r.class == classWrite
	for _, pat := range p.deny {
		if matchGlob(pat, name) {
			v.allowed = false
			return v
		}
	}
	if len(p.dirs) > 0 && isDirCommand(name) {
		v.allowed, v.dirBound = false, true
		return v
	}
	for _, pat := range p.allow {
		if matchGlob(pat, name) {
			if !v.allowed {
				// Not a command the defaults vouch for: assume the worst of
				// what it does with its arguments.
				v.eval = true
			}
			v.allowed = true
			return v
		}
	}
	return v
}

// tableRule returns the first default rule matching name, or an unknown
// one for a name rTorrent does not define (see knownMethods).
func tableRule(name string) rule {
	if !knownMethods()[name] {
		return rule{}
	}
	for _, r := range defaultRules {
		if matchGlob(r.pattern, name) {
			return r
		}
	}
	return rule{}
}

// site is where in a call a command was found, innermost last: the
// multicall entry, field, or argument whose string holds it.
type site struct {
	up     *site
	method string // the call whose parameter it is
	part   string // "field", "filter", "command", "entry", "param"
	n      int    // 1-based; 0 for parts that are unique ("filter")
}

func (s *site) String() string {
	if s == nil {
		return ""
	}
	var parts []string
	for ; s != nil; s = s.up {
		part := s.method + " " + s.part
		if s.n > 0 {
			part += " " + strconv.Itoa(s.n)
		}
		parts = append(parts, part)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ", ")
}

// command is one command a call would run, as the walk finds it.
type command struct {
	name string
	// call: the call's method or a system.multicall entry, run with
	// params. Otherwise the command was found in text, a string rTorrent
	// evaluates, with a computed value after it if dynamicAfter.
	call         bool
	params       []xmlrpc.Value
	text         string
	dynamicAfter bool
}

// visitFunc is called for every command a call would run; a non-nil
// Refusal stops the walk and is returned by it. at is nil for the call's
// own method.
type visitFunc func(c command, at *site) *Refusal

// maxWalkDepth bounds system.multicall nesting (rTorrent refuses any) and
// array nesting in parameters (the decoders bound it already).
const maxWalkDepth = 64

// walkCall visits method, then every command its parameters would run.
func (p *Policy) walkCall(method string, params []xmlrpc.Value, at *site, visit visitFunc) *Refusal {
	if method == "" {
		return &Refusal{Method: method, Reason: "empty method name", Where: at.String()}
	}
	if r := visit(command{name: method, call: true, params: params}, at); r != nil {
		return r
	}
	if !p.lookup(method).eval {
		return nil // the parameters are data
	}
	if depth(at) > maxWalkDepth {
		return &Refusal{Method: method, Reason: "nested too deeply", Where: at.String()}
	}
	if method == "system.multicall" {
		return p.walkEntries(params, at, visit)
	}
	for i, v := range params {
		part, n, skip := paramPart(method, params, i)
		if skip {
			continue
		}
		if r := p.walkStrings(v, &site{up: at, method: method, part: part, n: n}, 0, visit); r != nil {
			return r
		}
	}
	return nil
}

// paramPart names parameter i of a call to an evaluating command, and tells
// whether it is data that rTorrent never evaluates: the target, the view or
// file pattern of a multicall, the torrent of load.*.
func paramPart(method string, params []xmlrpc.Value, i int) (part string, n int, skip bool) {
	switch method {
	case "d.multicall2", "t.multicall", "p.multicall", "f.multicall":
		// target, view or pattern, fields... The target and view are
		// inspected all the same: they are strings rTorrent does not
		// evaluate, so nothing in them is a command unless a client puts
		// one there, which a well-behaved client never does.
		if i < 2 {
			return "param", i + 1, false
		}
		return "field", i - 1, false
	case "d.multicall.filtered":
		switch {
		case i < 2:
			return "param", i + 1, false
		case i == 2:
			return "filter", 0, false
		}
		return "field", i - 2, false
	}
	if strings.HasPrefix(method, "load.") {
		// target, torrent (file, URL, magnet or raw data), commands... A
		// URL's query string would look like commands, so the torrent is
		// skipped, but only where rTorrent takes it to be: after a string
		// target. (With no target rTorrent fails the call.)
		if i == 1 && len(params) > 0 && params[0].Kind() == xmlrpc.String {
			return "", 0, true
		}
		if i >= 2 {
			return "command", i - 1, false
		}
	}
	return "param", i + 1, false
}

// walkStrings scans every string in v for commands.
func (p *Policy) walkStrings(v xmlrpc.Value, at *site, nesting int, visit visitFunc) *Refusal {
	switch v.Kind() {
	case xmlrpc.String:
		s := v.String()
		if startsWithComment(s) {
			return &Refusal{Method: at.method, Reason: "a command string starting with '#' hangs rTorrent 0.9.8", Where: at.String()}
		}
		if name, ok := p.literalDirectory(s); ok {
			return visit(command{name: name, text: s}, at)
		}
		var r *Refusal
		scanCommands(s, func(name string, dynamicAfter bool) bool {
			r = visit(command{name: name, text: s, dynamicAfter: dynamicAfter}, at)
			return r == nil
		})
		return r
	case xmlrpc.Array, xmlrpc.Struct:
		if nesting > maxWalkDepth {
			return &Refusal{Method: at.method, Reason: "parameters nested too deeply", Where: at.String()}
		}
		for _, e := range v.Values() {
			if r := p.walkStrings(e, at, nesting+1, visit); r != nil {
				return r
			}
		}
		for _, m := range v.Members() {
			if r := p.walkStrings(m, at, nesting+1, visit); r != nil {
				return r
			}
		}
	}
	return nil
}

// startsWithComment reports whether a command string has a '#' where a
// command starts: first after blanks, or after a ';'. rTorrent 0.9.8's
// parse_command_multiple never moves past such a '#', so the command loop
// spins forever and RPC never answers again. A '#' inside a value
// (d.custom1.set="#tag") is left alone; one after a quoted ';' is refused
// too, which no real client sends.
func startsWithComment(s string) bool {
	for part := range strings.SplitSeq(s, ";") {
		if strings.HasPrefix(strings.TrimLeft(part, " \t\r\n"), "#") {
			return true
		}
	}
	return false
}

// walkEntries walks system.multicall's entries: one array of
// {methodName, params} structs. Anything else is refused rather than left
// to rTorrent's reading of it.
func (p *Policy) walkEntries(params []xmlrpc.Value, at *site, visit visitFunc) *Refusal {
	malformed := func(format string, args ...any) *Refusal {
		return &Refusal{Method: "system.multicall", Reason: fmt.Sprintf(format, args...), Where: at.String()}
	}
	if len(params) != 1 || params[0].Kind() != xmlrpc.Array {
		return malformed("its params must be one array of calls")
	}
	for i, e := range params[0].Values() {
		n := i + 1
		if e.Kind() != xmlrpc.Struct {
			return malformed("entry %d is a %s, not a struct", n, e.Kind())
		}
		var name string
		var args []xmlrpc.Value
		var names, lists int
		for k, m := range e.Members() {
			switch k {
			case "methodName":
				if m.Kind() != xmlrpc.String {
					return malformed("entry %d's methodName is a %s", n, m.Kind())
				}
				name = m.String()
				names++
			case "params":
				if m.Kind() != xmlrpc.Array {
					return malformed("entry %d's params is a %s", n, m.Kind())
				}
				args = m.Values()
				lists++
			}
		}
		// Duplicates would leave it to rTorrent which one counts.
		if names != 1 || lists > 1 {
			return malformed("entry %d needs exactly one methodName and at most one params", n)
		}
		if r := p.walkCall(name, args, &site{up: at, method: "system.multicall", part: "entry", n: n}, visit); r != nil {
			return r
		}
	}
	return nil
}

func depth(s *site) int {
	d := 0
	for ; s != nil; s = s.up {
		d++
	}
	return d
}

// fileTarget says why a file command (f.*) may not run where c is, or
// returns "": rTorrent 0.9.8 crashes (segfault, or abort) on f.* getters
// whose target is not a file, "" or a bare download hash. Called
// directly, its target must be HASH:f<index>; in a command string, it may
// only be a field of f.multicall, which gives each file as the target.
func fileTarget(c command, at *site) string {
	if !strings.HasPrefix(c.name, "f.") || c.name == "f.multicall" {
		return ""
	}
	if c.call {
		if len(c.params) > 0 && c.params[0].Kind() == xmlrpc.String && isFileTarget(c.params[0].String()) {
			return ""
		}
		return "a file command needs a file target, HASH:f<index> (rTorrent 0.9.8 crashes on any other)"
	}
	if at != nil && at.method == "f.multicall" && at.part == "field" {
		return ""
	}
	return "a file command runs only as a field of f.multicall (rTorrent 0.9.8 crashes on any other target)"
}

// isFileTarget reports whether s is HASH:f<index>.
func isFileTarget(s string) bool {
	if len(s) < 43 || s[40] != ':' || s[41] != 'f' || !infohash.IsHex(s[:40]) {
		return false
	}
	for i := 42; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
