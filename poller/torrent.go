package poller

// Torrent is one download as last polled: every field Flood shows plus
// those rtgate needs. A field the backend does not offer (0.9.8 has neither
// d.down.sequential nor d.timestamp.last_active) is left zero; the topics
// leave it out altogether. Times are Unix seconds, 0 when unset.
type Torrent struct {
	Hash           string // d.hash: 40 uppercase hex digits
	Name           string // d.name
	Message        string // d.message: the last tracker or storage error
	State          bool   // d.state: started (a paused download is still started)
	IsActive       bool   // d.is_active: open and not paused
	IsOpen         bool   // d.is_open
	IsComplete     bool   // d.complete
	Hashing        int64  // d.hashing: 0 none, 1 initial, 2 after download, 3 rehash
	IsPrivate      bool   // d.is_private
	IsMultiFile    bool   // d.is_multi_file
	IsSequential   bool   // d.down.sequential, where offered
	ConnectionSeed string // d.connection_seed: "" or "initial_seed", …
	Priority       int64  // d.priority: 0 off, 1 low, 2 normal, 3 high
	UpRate         int64  // d.up.rate, bytes/s
	UpTotal        int64  // d.up.total, bytes
	DownRate       int64  // d.down.rate, bytes/s
	DownTotal      int64  // d.down.total, bytes
	Ratio          int64  // d.ratio: upload ratio × 1000 (the topics publish it divided)
	BytesDone      int64  // d.bytes_done
	SizeBytes      int64  // d.size_bytes
	LeftBytes      int64  // d.left_bytes
	Directory      string // d.directory
	BasePath       string // d.base_path: empty while closed
	DateAdded      int64  // d.custom=addtime, as Flood and ruTorrent set it
	DateCreated    int64  // d.creation_date
	DateStarted    int64  // d.timestamp.started
	DateFinished   int64  // d.timestamp.finished
	DateActive     int64  // d.timestamp.last_active, where offered
	Custom1        string // d.custom1: Flood's and ruTorrent's tags
	Custom2        string // d.custom2: ruTorrent's comment ("VRS24mrker" + URI-encoded)
	TrackerURIs    []string
	SeedsTotal     int64 // the first tracker's scrape_complete
	PeersTotal     int64 // the first tracker's scrape_incomplete
	SeedsConnected int64 // d.peers_complete
	PeersConnected int64 // d.peers_accounted
	Connections    int64 // d.peers_connected: every connected peer
}

// torrentOf converts a row of schema s.
func torrentOf(s *schema, r *row) Torrent {
	t := Torrent{Hash: r.key}
	for i, id := range s.ids {
		v := r.vals[i]
		switch colID(id) {
		case colName:
			t.Name = v.s
		case colMessage:
			t.Message = v.s
		case colState:
			t.State = v.n != 0
		case colIsActive:
			t.IsActive = v.n != 0
		case colIsOpen:
			t.IsOpen = v.n != 0
		case colIsComplete:
			t.IsComplete = v.n != 0
		case colHashing:
			t.Hashing = v.n
		case colIsPrivate:
			t.IsPrivate = v.n != 0
		case colIsMultiFile:
			t.IsMultiFile = v.n != 0
		case colIsSequential:
			t.IsSequential = v.n != 0
		case colConnectionSeed:
			t.ConnectionSeed = v.s
		case colPriority:
			t.Priority = v.n
		case colUpRate:
			t.UpRate = v.n
		case colUpTotal:
			t.UpTotal = v.n
		case colDownRate:
			t.DownRate = v.n
		case colDownTotal:
			t.DownTotal = v.n
		case colRatio:
			t.Ratio = v.n
		case colBytesDone:
			t.BytesDone = v.n
		case colSizeBytes:
			t.SizeBytes = v.n
		case colLeftBytes:
			t.LeftBytes = v.n
		case colDirectory:
			t.Directory = v.s
		case colBasePath:
			t.BasePath = v.s
		case colDateAdded:
			t.DateAdded = v.n
		case colDateCreated:
			t.DateCreated = v.n
		case colDateStarted:
			t.DateStarted = v.n
		case colDateFinished:
			t.DateFinished = v.n
		case colDateActive:
			t.DateActive = v.n
		case colCustom1:
			t.Custom1 = v.s
		case colCustom2:
			t.Custom2 = v.s
		case colTrackers:
			ts := parseTrackers(v.s)
			t.TrackerURIs, t.SeedsTotal, t.PeersTotal = ts.urls, ts.seedsTotal, ts.peersTotal
		case colSeedsConnected:
			t.SeedsConnected = v.n
		case colPeersConnected:
			t.PeersConnected = v.n
		case colConnections:
			t.Connections = v.n
		}
	}
	return t
}

// Transfer is the global transfer state, in bytes and bytes/s. A max rate
// of 0 means unlimited.
type Transfer struct {
	DownRate    int64 // throttle.global_down.rate
	DownTotal   int64 // throttle.global_down.total
	UpRate      int64 // throttle.global_up.rate
	UpTotal     int64 // throttle.global_up.total
	DownMaxRate int64 // throttle.global_down.max_rate
	UpMaxRate   int64 // throttle.global_up.max_rate
}

func transferOf(s *schema, r *row) Transfer {
	if r == nil {
		return Transfer{}
	}
	return Transfer{
		DownRate: s.get(r, trDownRate).n, DownTotal: s.get(r, trDownTotal).n,
		UpRate: s.get(r, trUpRate).n, UpTotal: s.get(r, trUpTotal).n,
		DownMaxRate: s.get(r, trDownMaxRate).n, UpMaxRate: s.get(r, trUpMaxRate).n,
	}
}
