package policy

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/rtgate/rtgate/internal/rtcmd"
	"github.com/rtgate/rtgate/xmlrpc"
)

// This file bounds d.directory.set and d.directory_base.set to the
// directory roots of Config.Directories: Flood names a new torrent's
// destination with them in load.*'s extra commands and moves torrents with
// them, and unbounded they let a client have rTorrent write anywhere its
// user may (a crafted torrent into ~/.ssh).
//
// Only a plain literal path is judged: the argument is read as rTorrent
// 0.9.8 reads a command string (rpc/parse_commands.cc parse_command,
// rpc/parse.cc parse_whole_list and parse_string), and anything rTorrent
// would compute ('$' at the start of the parsed string, even escaped or
// quoted; a {list}; a (call)) or split (a ',' list, a ';' or newline
// before another command) is refused. Measured on 0.9.8:
//
//	d.directory.set="/a b"     "/a b"
//	d.directory.set=/a\ b      "/a b"   an escape works outside quotes too
//	d.directory.set=/a\,b      "/a,b"
//	d.directory.set="/a\"b"    `/a"b`
//	d.directory.set=/a"b"      `/a"b"`  quotes count only at the start
//	d.directory.set=/dl/(x)    "/dl/(x)", and so /a{b}, /a=b, /x#y
//	d.directory.set=/a,b       fails: a list ("Wrong object type.")
//	d.directory.set=/a b       fails: "Junk at end of input."
//	d.directory.set=/x;d.directory.set=/y     "/y": two commands
//	d.directory.set=$cat=/etc, "$cat=/etc", \$cat=/etc, (cat,/etc)   "/etc"
//	d.directory.set={/a}       "/a"
//	d.directory.set=~/x        "$HOME/x";  d.directory.set=   "."
//
// Paths are compared lexically: rtgate cannot resolve symlinks on
// rTorrent's filesystem, so a symlink inside a root that points out of it
// leads out of it. A ".." element is refused outright rather than cleaned
// away, since after a symlink ".." is not the lexical parent. For a
// multi-file torrent d.directory.set appends the torrent's name, which
// libtorrent 0.13.8 refuses to be ".", ".." or to hold a '/' (as it
// refuses such elements in file paths), so the content stays below the
// path.

// isDirCommand reports the commands Config.Directories bounds.
func isDirCommand(name string) bool {
	return name == "d.directory.set" || name == "d.directory_base.set"
}

// dirRoots are the cleaned roots of Config.Directories.
type dirRoots []string

// newDirRoots checks and cleans Config.Directories.
func newDirRoots(dirs []string) (dirRoots, error) {
	var roots dirRoots
	for _, d := range dirs {
		if why := notPlainPath(d); why != "" {
			return nil, fmt.Errorf("%w: %q: %s", ErrBadDirectory, d, why)
		}
		roots = append(roots, path.Clean(d))
	}
	return roots, nil
}

// notPlainPath says why p is not a path a client may name, or returns "".
func notPlainPath(p string) string {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < ' ' || c == 0x7f {
			return "it holds control characters"
		}
	}
	switch {
	case strings.ContainsAny(p, "${"):
		return "it is not a plain literal path ('$' and '{' are refused: rTorrent may compute what follows)"
	case !strings.HasPrefix(p, "/"):
		return "it is not an absolute path"
	case hasDotDot(p):
		return `it has a ".." element`
	}
	return ""
}

func hasDotDot(p string) bool {
	for _, e := range strings.Split(p, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// check returns "" if a download may be put at p, and otherwise why not,
// as a Refusal's Reason.
func (roots dirRoots) check(p string) string {
	if why := notPlainPath(p); why != "" {
		return fmt.Sprintf("its path %q is refused: %s", p, why)
	}
	p = path.Clean(p)
	for _, root := range roots {
		if p == root || root == "/" || strings.HasPrefix(p, root+"/") {
			return ""
		}
	}
	return fmt.Sprintf("%q is outside the allowed directories", p)
}

// notLiteral is the Reason for a directory command whose path is not one
// plain literal string.
const notLiteral = `its path is not a plain literal (send d.directory.set="/path" alone in its string)`

// checkDirectory returns "" if the policy's roots admit the path a
// directory command c is given, and otherwise why not.
func (p *Policy) checkDirectory(c command) string {
	if c.call {
		// target, path: rTorrent would also take ["/etc"] or a base64
		// value for a path, and 5 for the relative path "5".
		if len(c.params) != 2 {
			return fmt.Sprintf("it takes a target and one path, not %d params", len(c.params))
		}
		if k := c.params[1].Kind(); k != xmlrpc.String {
			return fmt.Sprintf("its path is a %s, not a string", k)
		}
		return p.dirs.check(c.params[1].String())
	}
	name, arg, ok := parseLiteralCommand(c.text)
	if !ok || name != c.name {
		return notLiteral
	}
	return p.dirs.check(arg)
}

// literalDirectory reports whether s, a string rTorrent evaluates, is
// exactly one directory command that the policy admits with its path. Such
// a string runs that command and nothing else, so the command scan (which
// would take the "a" of "/dl/a=b" for a command) is spared it.
func (p *Policy) literalDirectory(s string) (name string, ok bool) {
	if len(p.dirs) == 0 || !strings.Contains(s, "d.directory") {
		return "", false
	}
	name, arg, ok := parseLiteralCommand(s)
	if !ok || !isDirCommand(name) || !p.lookup(name).dirBound || p.dirs.check(arg) != "" {
		return "", false
	}
	return name, true
}

// parseLiteralCommand reads s as rTorrent 0.9.8's parse_command does
// (package rtcmd, the engine's parser) and returns the command's name and
// argument when s is exactly one command whose argument is one string,
// quoted or not, followed by nothing but spaces and tabs. It does not undo
// what rTorrent does after parsing: an argument starting with '$' is then
// replaced by the result of the command it names, and one starting with
// '(' is a call; neither is a plain absolute path, which the roots check.
func parseLiteralCommand(s string) (name, arg string, ok bool) {
	c := rtcmd.Parse(s)
	if c.Empty || c.Err != nil || c.Rest != "" || c.IsList || len(c.Args) != 1 || c.Args[0].IsList || !isName(c.Name) {
		return "", "", false // a list, another command, junk, or a '#' comment
	}
	return c.Name, c.Args[0].Str, true
}

// isName reports whether s can be an rTorrent command name: a letter, then
// letters, digits, '_' and '.'.
func isName(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// Caller is the backend DirectoryDefault asks: rTorrent's client or the
// embedded engine, reached directly rather than through a Policy.
type Caller interface {
	Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

// DirectoryDefault asks rTorrent for directory.default, where it puts a
// download no client placed, as an absolute cleaned path: the root the
// rtgate binary gives Config.Directories unless told otherwise. A
// leading '~' is replaced by HOME in rTorrent's environment (system.env)
// and a relative directory (rTorrent's own default is "./") is resolved
// against rTorrent's working directory (system.cwd), as rTorrent resolves
// them when it places a download. c must reach rTorrent directly, not through a
// Policy: the default one denies system.env. The answer holds for
// rTorrent as it is now; an rtorrent.rc may change directory.default later.
func DirectoryDefault(ctx context.Context, c Caller) (string, error) {
	get := func(method string, params ...xmlrpc.Value) (string, error) {
		v, err := c.Call(ctx, method, params...)
		if err != nil {
			return "", fmt.Errorf("directory default: %s: %w", method, err)
		}
		if v.Kind() != xmlrpc.String {
			return "", fmt.Errorf("%w: %s answered a %s, not a string", ErrBadDirectory, method, v.Kind())
		}
		return v.String(), nil
	}
	target := xmlrpc.NewString("")
	dir, err := get("directory.default", target)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(dir, "~") {
		// rak::path_expand: HOME, then the rest, whatever it is ("~x"
		// becomes HOME+"x"); unchanged when HOME is unset.
		home, err := get("system.env", target, xmlrpc.NewString("HOME"))
		if err != nil {
			return "", err
		}
		if home != "" {
			dir = home + dir[1:]
		}
	}
	if !strings.HasPrefix(dir, "/") {
		cwd, err := get("system.cwd", target)
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(cwd, "/") {
			return "", fmt.Errorf("%w: system.cwd %q is not absolute", ErrBadDirectory, cwd)
		}
		dir = cwd + "/" + dir
	}
	if why := notPlainPath(path.Clean(dir)); why != "" {
		return "", fmt.Errorf("%w: directory.default %q: %s", ErrBadDirectory, dir, why)
	}
	return path.Clean(dir), nil
}
