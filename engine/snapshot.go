package engine

import (
	"net"
	"strconv"
	"strings"

	"github.com/anacrolix/torrent"
)

// snapshot is what one call reads of a download's live numbers. anacrolix
// guards every torrent with one client-wide lock, so a call takes each
// number once per download (two lock round trips for a row of Flood's 31
// fields) instead of once per field; files and peers are read only when a
// call asks for them.
type snapshot struct {
	d          *download
	bytesDone  int64
	chunksDone int64
	peersConn  int64 // connected peers
	seeds      int64 // connected peers that have everything
	upTotal    int64
	downTotal  int64

	bits     bitfield // completed pieces; nil until asked for
	peerList []*peerInfo
	peersOK  bool
}

// takeSnapshot reads d's numbers from anacrolix, or from what was recorded
// when it last ran.
func (e *Engine) takeSnapshot(d *download) *snapshot {
	s := &snapshot{d: d, upTotal: d.upBase, downTotal: d.downBase}
	r := d.run
	if r == nil {
		s.bytesDone, s.chunksDone = d.doneBytes, d.doneChunks
		return s
	}
	st := r.t.Stats()
	s.upTotal += st.BytesWrittenData.Int64()
	s.downTotal += st.BytesReadData.Int64()
	s.peersConn = int64(st.ActivePeers)
	s.seeds = int64(st.ConnectedSeeders)
	if d.info != nil {
		s.bytesDone = r.t.BytesCompleted()
		s.chunksDone = int64(st.PiecesComplete)
		if s.complete() {
			e.noteFinished(d)
		}
	}
	return s
}

// noteFinished stamps d.timestamp.finished the first time a transferring
// download is seen complete, and has the announcer tell the trackers.
// The sampler notices within a second; a call that sees it first does it
// at once, so that d.complete and d.timestamp.finished agree.
func (e *Engine) noteFinished(d *download) {
	r := d.run
	if d.tsFinished != 0 || d.hashing != 0 || r == nil || !r.active {
		return
	}
	d.tsFinished = e.now()
	e.markDirty(d)
	select {
	case r.completed <- struct{}{}:
	default:
	}
}

// complete is d.complete: every piece verified.
func (s *snapshot) complete() bool {
	return s.d.info != nil && s.d.numPieces > 0 && s.chunksDone == int64(s.d.numPieces)
}

// pieces returns the completed pieces.
func (s *snapshot) pieces() bitfield {
	if s.bits != nil {
		return s.bits
	}
	d := s.d
	if d.run == nil || d.info == nil || d.run.t.Info() == nil {
		s.bits = d.donePieces
		if s.bits == nil {
			s.bits = bitfield{}
		}
		return s.bits
	}
	bits := newBitfield(d.numPieces)
	i := 0
	for _, run := range d.run.t.PieceStateRuns() {
		if run.Complete {
			for j := 0; j < run.Length; j++ {
				bits.set(i + j)
			}
		}
		i += run.Length
	}
	s.bits = bits
	return bits
}

// peerInfo is one connected peer as p.* commands show it.
type peerInfo struct {
	id         string // p.id: the peer id in uppercase hex
	address    string
	port       int64
	client     string
	completed  int64 // percent of the torrent the peer has
	downRate   int64
	upRate     int64
	downTotal  int64
	upTotal    int64
	encrypted  bool
	obfuscated bool
	incoming   bool
	conn       *torrent.PeerConn
}

// peers returns the download's connected peers.
func (s *snapshot) peers(e *Engine) []*peerInfo {
	if s.peersOK {
		return s.peerList
	}
	s.peersOK = true
	d := s.d
	if d.run == nil {
		return nil
	}
	for _, pc := range d.run.t.PeerConns() {
		st := pc.Stats()
		p := &peerInfo{
			id:        hexUpper(pc.PeerID[:]),
			client:    clientName(pc),
			downRate:  e.peerRates[pc].down,
			upRate:    e.peerRates[pc].up,
			downTotal: st.BytesReadData.Int64(),
			upTotal:   st.BytesWrittenData.Int64(),
			incoming:  pc.Discovery == torrent.PeerSourceIncoming,
			conn:      pc,
		}
		if pc.RemoteAddr != nil {
			host, port, err := net.SplitHostPort(pc.RemoteAddr.String())
			if err == nil {
				p.address = host
				p.port, _ = strconv.ParseInt(port, 10, 64)
			} else {
				p.address = pc.RemoteAddr.String()
			}
		}
		if d.numPieces > 0 && d.info != nil {
			p.completed = int64(st.RemotePieceCount) * 100 / int64(d.numPieces)
		}
		p.encrypted, p.obfuscated = connEncryption(pc)
		s.peerList = append(s.peerList, p)
	}
	return s.peerList
}

// connEncryption reports whether a connection is RC4-encrypted and whether
// its handshake was obfuscated. anacrolix exports this only in the
// connection's String ("flags=I,E,v1": E for RC4, e for an obfuscated
// header only), which is fixed once the handshake is done.
func connEncryption(pc *torrent.PeerConn) (encrypted, obfuscated bool) {
	s := pc.String()
	i := strings.Index(s, "flags=")
	if i < 0 {
		return false, false
	}
	flags := s[i+len("flags="):]
	if j := strings.IndexByte(flags, ' '); j >= 0 {
		flags = flags[:j]
	}
	for f := range strings.SplitSeq(flags, ",") {
		switch f {
		case "E":
			return true, true
		case "e":
			obfuscated = true
		}
	}
	return false, obfuscated
}

// clientName names the peer's client from its peer id, as rTorrent's
// p.client_version does for the common Azureus-style ids ("-lt0D80-" is
// "libTorrent 0.13.8"), falling back to the name the peer gave in its
// extended handshake, then "Unknown".
func clientName(pc *torrent.PeerConn) string {
	id := pc.PeerID[:]
	if id[0] == '-' && id[7] == '-' {
		ver := id[3:7]
		if name, ok := azureusClients[string(id[1:3])]; ok {
			return name + " " + azureusVersion(ver)
		}
	}
	if v, ok := pc.PeerClientName.Load().(string); ok && v != "" {
		return v
	}
	return "Unknown"
}

var azureusClients = map[string]string{
	"lt": "libTorrent", "LT": "libtorrent", "UT": "uTorrent", "qB": "qBittorrent",
	"TR": "Transmission", "DE": "Deluge", "AZ": "Azureus", "BC": "BitComet",
	"KT": "KTorrent", "GT": "anacrolix/torrent",
}

// azureusVersion renders the first three version characters of an
// Azureus-style id, each a digit or a letter standing for 10 and up
// (libTorrent's "0D80" is 0.13.8).
func azureusVersion(v []byte) string {
	digit := func(c byte) int {
		switch {
		case '0' <= c && c <= '9':
			return int(c - '0')
		case 'A' <= c && c <= 'Z':
			return int(c-'A') + 10
		case 'a' <= c && c <= 'z':
			return int(c-'a') + 10
		}
		return 0
	}
	return strconv.Itoa(digit(v[0])) + "." + strconv.Itoa(digit(v[1])) + "." + strconv.Itoa(digit(v[2]))
}
