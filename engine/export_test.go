package engine

import "io"

// ParseCommand exposes the command-string parser to the fuzz test: it
// reports the command's name and number of arguments, or the error running
// it would report.
func ParseCommand(s string) (name string, args int, err error) {
	x := compile(s, testTable)
	if x.err != nil {
		return x.name, 0, x.err
	}
	return x.name, len(x.args), nil
}

var testTable = commandTable()

// WriteClientStatus writes anacrolix's status of every torrent and
// connection, for diagnosing a stalled transfer.
func (e *Engine) WriteClientStatus(w io.Writer) { e.cl.WriteStatus(w) }
