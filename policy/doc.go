// Package policy decides which calls may reach rTorrent: a table of
// rTorrent's commands (read, write, denied), operator patterns layered on
// it, the directories clients may place downloads in, and a conservative
// scanner that finds the commands hidden in the strings rTorrent
// evaluates (multicall fields, load commands, arguments of branch and
// friends), at any depth of quoting.
//
//	pol, err := policy.New(policy.Config{
//		Allow:       []string{"d.move_to_complete"}, // a method your rtorrent.rc defines
//		Directories: []string{"/srv/downloads"},     // Flood's add and move
//	})
//	if err := pol.Check("d.multicall2", params); err != nil {
//		var r *policy.Refusal // fault -507, naming the command and where it was found
//		errors.As(err, &r)
//	}
//
// ReadOnly is the one classification of calls as reads, which the doors'
// coalescer uses to decide what identical calls may share. docs/policy.md
// says what the default policy allows and why.
package policy
