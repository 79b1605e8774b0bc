package policy

import "strings"

// This file finds the commands hidden in strings that rTorrent evaluates:
// d.multicall2 fields, the extra commands of load.*, the arguments of
// branch and friends. rTorrent's command syntax (rpc/parse.cc and
// rpc/parse_commands.cc in 0.9.8) is:
//
//	name=arg,arg,...        a command; the name is [A-Za-z][A-Za-z0-9_.]*,
//	                        spaces and tabs may stand before the '='
//	$name=args              an argument replaced by that command's result
//	(name,args) ((name))    the 0.9 call syntax, also evaluated
//	{a,b}  "a,b"  \x        lists, quoted strings, escapes
//	cmd1=;cmd2=             several commands on one line
//
// and every level of quoting and escaping is undone once per level of
// evaluation, so a command can sit several levels deep
// (cat="$t.multicall=d.hash=,t.url=,cat={|||}").
//
// Instead of parsing levels, scanCommands is deliberately conservative: a
// string rTorrent derives from s by dropping quote and escape characters is,
// with those characters dropped, a substring of s with them dropped. So it
// looks at s twice, once with every '"' and '\' removed and once with each
// replaced by a space (in case removing them glued a name to what precedes
// it), and reports every name that is followed by '=' or preceded by '$' or
// '(' in either view. That finds every command rTorrent could run from s, at
// whatever depth, and some that it could not (a URL's "?a=b" yields "a"):
// when in doubt, a token is a command.

// isNameByte reports whether c may appear in an rTorrent command name.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.'
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isBlank reports the characters skipped between a name and its '=' or
// between '$' or '(' and a name. rTorrent skips spaces and tabs; newlines
// and carriage returns are skipped too, to err on the side of a command.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// isDynamic reports the characters that start a computed value: '$' (the
// result of a command) or '(' (the call syntax).
func isDynamic(c byte) bool { return c == '$' || c == '(' }

// scanCommands calls yield for every command name rTorrent might run while
// evaluating s, in order, stopping early if yield returns false. dynamicAfter
// tells whether a computed value ('$' or '(') appears after the name: a
// command that evaluates its arguments as commands (branch, d.multicall2, …)
// must not be handed one, since its text is only known at run time. It
// returns false if yield stopped it.
func scanCommands(s string, yield func(name string, dynamicAfter bool) bool) bool {
	if !strings.ContainsAny(s, "\"\\") {
		return scanView(s, yield)
	}
	stripped := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
	if !scanView(stripped, yield) {
		return false
	}
	spaced := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
	return scanView(spaced, yield)
}

// scanView reports the commands of one view of a string; see scanCommands.
func scanView(v string, yield func(name string, dynamicAfter bool) bool) bool {
	lastDynamic := -1
	for i := len(v) - 1; i >= 0; i-- {
		if isDynamic(v[i]) && isObjectStart(v, i) {
			lastDynamic = i
			break
		}
	}
	for i := 0; i < len(v); {
		if !isNameByte(v[i]) {
			i++
			continue
		}
		start := i
		for i < len(v) && isNameByte(v[i]) {
			i++
		}
		end := i
		// rTorrent names start with a letter: "9execute" cannot be one, but
		// what follows the digits might be, once a level of parsing has
		// split them off. Drop the leading non-letters.
		first := start
		for first < end && !isLetter(v[first]) {
			first++
		}
		if first == end {
			continue
		}
		if isCommandAt(v, start, end) && !yield(v[first:end], lastDynamic > end) {
			return false
		}
	}
	return true
}

// isCommandAt reports whether the name run v[start:end] is used as a
// command: followed by '=', or preceded by a '$' or '(' that starts a value.
func isCommandAt(v string, start, end int) bool {
	j := end
	for j < len(v) && isBlank(v[j]) {
		j++
	}
	if j < len(v) && v[j] == '=' {
		return true
	}
	k := start - 1
	for k >= 0 && isBlank(v[k]) {
		k--
	}
	return k >= 0 && isDynamic(v[k]) && isObjectStart(v, k)
}

// isObjectStart reports whether v[i] stands where rTorrent starts parsing a
// value: at the beginning, or after '=', ',', '{', '(', '$' or ';' (blanks
// skipped). Elsewhere a '$' or '(' is a literal character inside a string
// ("price$5", "name (2021)"), at this level and at any level below, since a
// level below sees the same characters before it.
func isObjectStart(v string, i int) bool {
	k := i - 1
	for k >= 0 && isBlank(v[k]) {
		k--
	}
	return k < 0 || strings.IndexByte("=,{($;", v[k]) >= 0
}
