package policy

// ScanCommands returns the command names scanCommands finds in s, and
// whether a computed value follows each.
func ScanCommands(s string) (names []string, dynamicAfter []bool) {
	scanCommands(s, func(name string, dyn bool) bool {
		names = append(names, name)
		dynamicAfter = append(dynamicAfter, dyn)
		return true
	})
	return names, dynamicAfter
}

// DefaultClass returns the default table's class of a command name: "read",
// "write", "denied" or "unknown".
func DefaultClass(name string) string { return tableRule(name).class.String() }
