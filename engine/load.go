package engine

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/rtgate/rtgate/xmlrpc"
)

// The load.* commands add a download: from a .torrent in memory (load.raw*,
// base64 in XML-RPC), or from a string naming a .torrent file, a magnet
// URI or a data URI (load.normal, load.start and their forms). Arguments
// after the source are command strings run on the new download before it
// starts, such as Flood's `d.directory.set="/dl"` and
// `d.custom.set=addtime,1700000000`.
//
// Like rTorrent 0.9.8, the plain and _verbose forms answer 0 whether or not
// the download could be added (the _verbose ones log why not); the _throw
// forms, from later rTorrents, answer a fault instead.

type loadMode uint8

const (
	loadQuiet loadMode = iota
	loadVerbose
	loadThrow
)

func loadCommands() []*command {
	var cmds []*command
	for _, raw := range []bool{false, true} {
		for _, start := range []bool{false, true} {
			for _, mode := range []loadMode{loadQuiet, loadVerbose, loadThrow} {
				name := "load."
				switch {
				case raw && start:
					name += "raw_start"
				case raw:
					name += "raw"
				case start:
					name += "start"
				case mode == loadQuiet:
					name += "normal"
				}
				switch mode {
				case loadVerbose:
					name += "_verbose"
				case loadThrow:
					name += "_throw"
				}
				name = strings.Replace(name, "load._", "load.", 1)
				cmds = append(cmds, &command{name: name, fn: loadFunc(raw, start, mode)})
			}
		}
	}
	return cmds
}

func loadFunc(raw, start bool, mode loadMode) cmdFunc {
	return func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		if len(args) == 0 {
			return xmlrpc.Value{}, errTooFewArgs
		}
		err := c.e.load(c, raw, start, args[0], args[1:])
		if err == nil {
			return zero, nil
		}
		msg := "Could not create download: " + err.Error()
		switch mode {
		case loadThrow:
			return xmlrpc.Value{}, fault(xmlrpc.FaultParse, msg)
		case loadVerbose:
			c.e.log.Warn("engine: "+msg, "source", describeSource(args[0]))
		default:
			c.e.log.Debug("engine: "+msg, "source", describeSource(args[0]))
		}
		return zero, nil
	}
}

func describeSource(v xmlrpc.Value) string {
	if v.Kind() == xmlrpc.String {
		s := v.String()
		if len(s) > 80 {
			s = s[:80] + "…"
		}
		return s
	}
	return fmt.Sprintf("<%s of %d bytes>", v.Kind(), len(v.Bytes()))
}

// errDuplicate is rTorrent's reason for refusing a torrent it already has.
//
//lint:ignore ST1005 rTorrent's own message, which clients see
var errDuplicate = errors.New("Info hash already used by another torrent.")

// load adds the download src describes and runs cmds on it.
func (e *Engine) load(c *call, raw, start bool, src xmlrpc.Value, cmds []xmlrpc.Value) error {
	var d *download
	var torrentBytes []byte
	var err error
	switch {
	case raw:
		if src.Kind() != xmlrpc.Base64 && src.Kind() != xmlrpc.String {
			return errors.New("raw data must be base64")
		}
		torrentBytes = src.Bytes()
	case src.Kind() != xmlrpc.String:
		return errors.New("source must be a string")
	case strings.HasPrefix(src.String(), "magnet:"):
		d, err = e.downloadFromMagnet(src.String())
	case strings.HasPrefix(src.String(), "data:"):
		torrentBytes, err = decodeDataURI(src.String())
	case strings.Contains(src.String(), "://"):
		return fmt.Errorf("fetching %s is not supported: load the .torrent's contents with load.raw", src.String())
	default:
		torrentBytes, err = os.ReadFile(src.String())
	}
	if err != nil {
		return err
	}
	if d == nil {
		d, err = e.downloadFromTorrent(torrentBytes)
		if err != nil {
			return err
		}
		if !raw && !strings.HasPrefix(src.String(), "data:") {
			d.tiedToFile = src.String()
		}
	}
	if e.lookup(d.hash) != nil {
		return errDuplicate
	}
	if len(d.trackers) == 0 && e.opts.DisableDHT && !announcesDHT(d) {
		//lint:ignore ST1005 rTorrent's own message, which clients see
		return errors.New("Could not find any trackers")
	}

	d.seq = e.nextSeq
	e.nextSeq++
	d.dirBase = e.settings.directoryDefault
	d.loadDate = e.now()
	d.priority = 2
	e.downloads[d.hash] = d
	e.order = append(e.order, d)
	if e.opts.SessionDir != "" {
		if torrentBytes != nil {
			err = writeFileAtomic(e.torrentPath(d), torrentBytes)
		} else if d.meta != nil {
			err = e.writeTorrentFile(d)
		}
		if err != nil {
			e.log.Warn("engine: saving metainfo", "hash", d.hash, "err", err)
		}
	}
	e.markDirty(d)

	t := target{kind: targetDownload, d: d}
	for _, cmd := range cmds {
		if cmd.Kind() != xmlrpc.String {
			continue
		}
		if _, err := c.eval(c.compile(cmd.String()), t); err != nil {
			e.log.Debug("engine: load command failed", "hash", d.hash, "command", cmd.String(), "err", err)
		}
		if d.gone {
			return nil
		}
	}
	if start {
		e.start(d)
	}
	return nil
}

// downloadFromTorrent makes a download of a .torrent's bytes.
func (e *Engine) downloadFromTorrent(b []byte) (*download, error) {
	mi, err := metainfo.Load(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("invalid torrent: %w", err)
	}
	return newDownloadFromMeta(mi)
}

// newDownloadFromMeta makes a download of a parsed .torrent, checking
// that its info describes pieces anacrolix can verify.
func newDownloadFromMeta(mi *metainfo.MetaInfo) (*download, error) {
	info, err := mi.UnmarshalInfo()
	if err != nil {
		return nil, fmt.Errorf("invalid info dictionary: %w", err)
	}
	if !info.HasV1() || info.PieceLength <= 0 || len(info.Pieces)%20 != 0 {
		return nil, errors.New("invalid info dictionary: only BitTorrent v1 torrents are supported")
	}
	if want := (info.TotalLength() + info.PieceLength - 1) / info.PieceLength; int64(info.NumPieces()) != want {
		return nil, errors.New("invalid info dictionary: piece count does not match the length")
	}
	ih := mi.HashInfoBytes()
	d := &download{
		hash:     hexUpper(ih[:]),
		ih:       ih,
		meta:     mi,
		custom:   map[string]string{},
		trackers: trackersFromAnnounceList(mi.UpvertedAnnounceList()),
	}
	d.setInfo(&info)
	return d, nil
}

// downloadFromMagnet makes a download of a magnet URI: no info until its
// metadata comes from peers.
func (e *Engine) downloadFromMagnet(uri string) (*download, error) {
	m, err := metainfo.ParseMagnetUri(uri)
	if err != nil {
		return nil, fmt.Errorf("invalid magnet URI: %w", err)
	}
	d := &download{
		hash:   hexUpper(m.InfoHash[:]),
		ih:     m.InfoHash,
		magnet: uri,
		custom: map[string]string{},
	}
	var tiers [][]string
	for _, tr := range m.Trackers {
		tiers = append(tiers, []string{tr})
	}
	d.trackers = trackersFromAnnounceList(tiers)
	d.setMetaPlaceholder()
	return d, nil
}

// announcesDHT reports whether a torrent names the DHT as its tracker
// ("dht://"), which rTorrent accepts in place of a real one.
func announcesDHT(d *download) bool {
	if d.meta == nil {
		return false
	}
	for _, tier := range d.meta.UpvertedAnnounceList() {
		for _, u := range tier {
			if strings.HasPrefix(u, "dht:") {
				return true
			}
		}
	}
	return false
}

// decodeDataURI returns the bytes of a "data:<type>;base64,<data>" URI (or
// of one with percent-encoded data), the form Flood sends .torrent files
// in over JSON-RPC.
func decodeDataURI(s string) ([]byte, error) {
	head, data, ok := strings.Cut(strings.TrimPrefix(s, "data:"), ",")
	if !ok {
		return nil, errors.New("invalid data URI")
	}
	if strings.HasSuffix(head, ";base64") {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("invalid data URI: %w", err)
		}
		return b, nil
	}
	text, err := url.PathUnescape(data)
	if err != nil {
		return nil, fmt.Errorf("invalid data URI: %w", err)
	}
	return []byte(text), nil
}
