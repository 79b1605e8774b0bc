package poller

import "slices"

// kind says how a column's XML-RPC value is stored and written as JSON.
type kind uint8

const (
	kindInt      kind = iota // an integer, written as a JSON number
	kindBool                 // rTorrent's 0/1, written as true/false
	kindString               // text, written as a JSON string
	kindRatio                // d.ratio: ratio × 1000, written as ratio (a JSON number)
	kindDecimal              // decimal text such as d.custom=addtime, stored and written as an integer (0 if not a number)
	kindTrackers             // the per-tracker summary of trackerSummaryCmd; see trackers.go
)

// column is one field of a polled row: how rTorrent is asked for it, and
// the JSON key it is published under.
type column struct {
	name   string // JSON key
	cmd    string // the field as d.multicall2 (or f/p/t.multicall) takes it
	method string // the command that system.listMethods must list; for torrents also the per-hash call
	arg    string // for torrents: the per-hash call's parameter after the target (d.custom's key)
	kind   kind
	// fast marks the torrent columns that may change without a call while
	// the download is started or hash-checking; only these are polled
	// every tick.
	fast bool
}

// trackerSummaryCmd is one nested t.multicall per row that yields, for each
// tracker, "<enabled>|<scrape complete>|<scrape incomplete>|<url>|||":
// Flood's three tracker fields for the price of one.
const trackerSummaryCmd = `cat="$t.multicall=d.hash=,t.is_enabled=,cat=|,t.scrape_complete=,cat=|,t.scrape_incomplete=,cat=|,t.url=,cat={|||}"`

// torrentColumns are every torrent field rtgate knows, in the order they
// are written. Which of them a backend gets asked for depends on its
// system.listMethods (0.9.8 has neither d.down.sequential nor
// d.timestamp.last_active).
var torrentColumns = []column{
	{name: "name", cmd: "d.name=", method: "d.name", kind: kindString, fast: true},
	{name: "message", cmd: "d.message=", method: "d.message", kind: kindString, fast: true},
	{name: "state", cmd: "d.state=", method: "d.state", kind: kindBool, fast: true},
	{name: "isActive", cmd: "d.is_active=", method: "d.is_active", kind: kindBool, fast: true},
	{name: "isOpen", cmd: "d.is_open=", method: "d.is_open", kind: kindBool, fast: true},
	{name: "isComplete", cmd: "d.complete=", method: "d.complete", kind: kindBool, fast: true},
	{name: "hashing", cmd: "d.hashing=", method: "d.hashing", kind: kindInt, fast: true},
	{name: "isPrivate", cmd: "d.is_private=", method: "d.is_private", kind: kindBool},
	{name: "isMultiFile", cmd: "d.is_multi_file=", method: "d.is_multi_file", kind: kindBool},
	{name: "isSequential", cmd: "d.down.sequential=", method: "d.down.sequential", kind: kindBool},
	{name: "connectionSeed", cmd: "d.connection_seed=", method: "d.connection_seed", kind: kindString},
	{name: "priority", cmd: "d.priority=", method: "d.priority", kind: kindInt},
	{name: "upRate", cmd: "d.up.rate=", method: "d.up.rate", kind: kindInt, fast: true},
	{name: "upTotal", cmd: "d.up.total=", method: "d.up.total", kind: kindInt, fast: true},
	{name: "downRate", cmd: "d.down.rate=", method: "d.down.rate", kind: kindInt, fast: true},
	{name: "downTotal", cmd: "d.down.total=", method: "d.down.total", kind: kindInt, fast: true},
	{name: "ratio", cmd: "d.ratio=", method: "d.ratio", kind: kindRatio, fast: true},
	{name: "bytesDone", cmd: "d.bytes_done=", method: "d.bytes_done", kind: kindInt, fast: true},
	{name: "sizeBytes", cmd: "d.size_bytes=", method: "d.size_bytes", kind: kindInt, fast: true},
	{name: "leftBytes", cmd: "d.left_bytes=", method: "d.left_bytes", kind: kindInt, fast: true},
	{name: "directory", cmd: "d.directory=", method: "d.directory", kind: kindString},
	{name: "basePath", cmd: "d.base_path=", method: "d.base_path", kind: kindString, fast: true},
	{name: "dateAdded", cmd: "d.custom=addtime", method: "d.custom", arg: "addtime", kind: kindDecimal},
	{name: "dateCreated", cmd: "d.creation_date=", method: "d.creation_date", kind: kindInt},
	{name: "dateStarted", cmd: "d.timestamp.started=", method: "d.timestamp.started", kind: kindInt, fast: true},
	{name: "dateFinished", cmd: "d.timestamp.finished=", method: "d.timestamp.finished", kind: kindInt, fast: true},
	{name: "dateActive", cmd: "d.timestamp.last_active=", method: "d.timestamp.last_active", kind: kindInt, fast: true},
	{name: "custom1", cmd: "d.custom1=", method: "d.custom1", kind: kindString},
	{name: "custom2", cmd: "d.custom2=", method: "d.custom2", kind: kindString},
	{name: "trackers", cmd: trackerSummaryCmd, method: "t.multicall", kind: kindTrackers, fast: true},
	{name: "seedsConnected", cmd: "d.peers_complete=", method: "d.peers_complete", kind: kindInt, fast: true},
	{name: "peersConnected", cmd: "d.peers_accounted=", method: "d.peers_accounted", kind: kindInt, fast: true},
	{name: "connections", cmd: "d.peers_connected=", method: "d.peers_connected", kind: kindInt, fast: true},
}

// colID names a torrent column by its index in torrentColumns.
type colID int

// The torrent columns the poller's own logic reads.
const (
	colName colID = iota
	colMessage
	colState
	colIsActive
	colIsOpen
	colIsComplete
	colHashing
	colIsPrivate
	colIsMultiFile
	colIsSequential
	colConnectionSeed
	colPriority
	colUpRate
	colUpTotal
	colDownRate
	colDownTotal
	colRatio
	colBytesDone
	colSizeBytes
	colLeftBytes
	colDirectory
	colBasePath
	colDateAdded
	colDateCreated
	colDateStarted
	colDateFinished
	colDateActive
	colCustom1
	colCustom2
	colTrackers
	colSeedsConnected
	colPeersConnected
	colConnections
	numTorrentColumns
)

// transferColumns are the global transfer figures, each one call with
// target "".
var transferColumns = []column{
	{name: "downRate", method: "throttle.global_down.rate", kind: kindInt},
	{name: "downTotal", method: "throttle.global_down.total", kind: kindInt},
	{name: "upRate", method: "throttle.global_up.rate", kind: kindInt},
	{name: "upTotal", method: "throttle.global_up.total", kind: kindInt},
	{name: "downMaxRate", method: "throttle.global_down.max_rate", kind: kindInt},
	{name: "upMaxRate", method: "throttle.global_up.max_rate", kind: kindInt},
}

const (
	trDownRate = iota
	trDownTotal
	trUpRate
	trUpTotal
	trDownMaxRate
	trUpMaxRate
)

// schema is the subset of a column list that one backend connection
// offers. Rows polled under it hold one value per column, in cols order.
// A schema never changes once made: a reconnect to a backend offering
// other commands makes a new one.
type schema struct {
	cols []column
	ids  []int // ids[i]: index of cols[i] in the full column list
	pos  []int // pos[id]: index in cols of full column id, or -1
	fast []int // indexes in cols of the fast columns
}

// newSchema keeps the columns of all whose command has is true for.
func newSchema(all []column, has func(method string) bool) *schema {
	if len(all) > 64 {
		panic("poller: more than 64 columns do not fit a change mask")
	}
	s := &schema{pos: make([]int, len(all))}
	for id, c := range all {
		s.pos[id] = -1
		if !has(c.method) || (c.kind == kindTrackers && !has("cat")) {
			continue
		}
		s.pos[id] = len(s.cols)
		if c.fast {
			s.fast = append(s.fast, len(s.cols))
		}
		s.cols = append(s.cols, c)
		s.ids = append(s.ids, id)
	}
	return s
}

// equal reports whether s and o have the same columns, so that rows of
// one can be diffed against rows of the other.
func (s *schema) equal(o *schema) bool {
	return s != nil && o != nil && slices.Equal(s.ids, o.ids)
}

// cmds returns key followed by the commands of the columns at idx (all
// columns when idx is nil), as d.multicall2 takes them.
func (s *schema) cmds(key string, idx []int) []string {
	out := []string{key}
	if idx == nil {
		for _, c := range s.cols {
			out = append(out, c.cmd)
		}
		return out
	}
	for _, i := range idx {
		out = append(out, s.cols[i].cmd)
	}
	return out
}

// get returns the value of full column id (a colID or a tr* constant) in
// r, or the zero value when the schema lacks it.
func (s *schema) get(r *row, id int) value {
	if p := s.pos[id]; p >= 0 {
		return r.vals[p]
	}
	return value{}
}
