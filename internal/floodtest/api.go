package floodtest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// waitPoll is how often WaitTorrents asks Flood for the list.
const waitPoll = 50 * time.Millisecond

// ConnectionTest asks Flood whether it can reach its client
// (GET /api/client/connection-test). Flood re-runs its connect-time probe
// for it: system.listMethods as JSON-RPC, then as XML-RPC if that fails
// (see the package doc), so a request made while it runs may go out in
// the wrong protocol: do not overlap it with other requests. A 500 with
// isConnected false is reported as false, not as an error.
func (f *Flood) ConnectionTest(ctx context.Context) (bool, error) {
	var reply struct {
		IsConnected bool `json:"isConnected"`
	}
	err := f.Do(ctx, http.MethodGet, "/api/client/connection-test", nil, &reply)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusInternalServerError {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return reply.IsConnected, nil
}

// Torrents returns Flood's torrent list (GET /api/torrents), keyed by info
// hash as rTorrent reports it (40 uppercase hex digits). Each call makes
// Flood fetch the list from its client afresh (one d.multicall2 over
// "main"); it is not a cached copy.
func (f *Flood) Torrents(ctx context.Context) (map[string]TorrentProps, error) {
	var reply struct {
		ID       int64                   `json:"id"` // Date.now() of the fetch
		Torrents map[string]TorrentProps `json:"torrents"`
	}
	if err := f.getStrict(ctx, "/api/torrents", &reply); err != nil {
		return nil, err
	}
	return reply.Torrents, nil
}

// AddFiles adds .torrent files (POST /api/torrents/add-files), to be
// stored in destination, which must lie inside Options.AllowedPath; Flood
// creates it if needed. With start they are started at once. In XML mode
// Flood sends one load.raw_start (or load.raw) per file and answers 202
// with an empty list, since rTorrent's load.raw* do not return a hash; in
// JSON mode it sends one batch of load.start_throw (load.throw) and
// answers 200 with the hashes. Either way rTorrent adds the torrents
// asynchronously: wait for them with WaitTorrent.
func (f *Flood) AddFiles(ctx context.Context, files [][]byte, destination string, start bool) error {
	encoded := make([]string, len(files))
	for i, file := range files {
		encoded[i] = base64.StdEncoding.EncodeToString(file)
	}
	req := map[string]any{"files": encoded, "destination": destination, "start": start}
	return f.Do(ctx, http.MethodPost, "/api/torrents/add-files", req, nil)
}

// StartTorrents starts the torrents (POST /api/torrents/start): one
// system.multicall of d.open and d.start per hash.
func (f *Flood) StartTorrents(ctx context.Context, hashes []string) error {
	return f.Do(ctx, http.MethodPost, "/api/torrents/start", map[string]any{"hashes": hashes}, nil)
}

// StopTorrents stops the torrents (POST /api/torrents/stop): one
// system.multicall of d.stop and d.close per hash.
func (f *Flood) StopTorrents(ctx context.Context, hashes []string) error {
	return f.Do(ctx, http.MethodPost, "/api/torrents/stop", map[string]any{"hashes": hashes}, nil)
}

// CheckHash rechecks the torrents' data (POST /api/torrents/check-hash):
// one system.multicall of d.check_hash per hash. The check runs after the
// call returns.
func (f *Flood) CheckHash(ctx context.Context, hashes []string) error {
	return f.Do(ctx, http.MethodPost, "/api/torrents/check-hash", map[string]any{"hashes": hashes}, nil)
}

// DeleteTorrents removes the torrents from the client
// (POST /api/torrents/delete): Flood stops them, then sends d.erase for
// each. With deleteData Flood itself (not rTorrent) then unlinks their
// files, and the directories of multi-file torrents, inside --allowedpath.
func (f *Flood) DeleteTorrents(ctx context.Context, hashes []string, deleteData bool) error {
	req := map[string]any{"hashes": hashes, "deleteData": deleteData}
	return f.Do(ctx, http.MethodPost, "/api/torrents/delete", req, nil)
}

// Content is one file of a torrent as GET /api/torrents/HASH/contents
// returns it (from f.multicall).
type Content struct {
	Index           int     `json:"index"`           // position in f.multicall
	Path            string  `json:"path"`            // f.path, relative to the torrent's directory
	Filename        string  `json:"filename"`        // last element of Path
	PercentComplete float64 `json:"percentComplete"` // completed chunks / chunks × 100
	Priority        int     `json:"priority"`        // f.priority: 0 off, 1 normal, 2 high
	SizeBytes       int64   `json:"sizeBytes"`
}

// Contents returns the torrent's files (GET /api/torrents/HASH/contents).
func (f *Flood) Contents(ctx context.Context, hash string) ([]Content, error) {
	var out []Content
	err := f.getStrict(ctx, "/api/torrents/"+url.PathEscape(hash)+"/contents", &out)
	return out, err
}

// Peer is one connected peer as GET /api/torrents/HASH/peers returns it
// (from p.multicall). Rates and CompletedPercent vary with time.
type Peer struct {
	Address          string  `json:"address"` // p.address, IPv6 without brackets
	ClientVersion    string  `json:"clientVersion"`
	CompletedPercent float64 `json:"completedPercent"`
	DownloadRate     int64   `json:"downloadRate"`
	UploadRate       int64   `json:"uploadRate"`
	IsEncrypted      bool    `json:"isEncrypted"`
	IsIncoming       bool    `json:"isIncoming"`
	Country          string  `json:"country"` // Flood's own GeoIP lookup of Address
}

// Peers returns the torrent's connected peers (GET /api/torrents/HASH/peers).
func (f *Flood) Peers(ctx context.Context, hash string) ([]Peer, error) {
	var out []Peer
	err := f.getStrict(ctx, "/api/torrents/"+url.PathEscape(hash)+"/peers", &out)
	return out, err
}

// Tracker is one enabled tracker as GET /api/torrents/HASH/trackers returns
// it (from t.multicall; Flood drops disabled ones).
type Tracker struct {
	URL  string `json:"url"`
	Type int    `json:"type"` // t.type: 1 http, 2 udp, 3 dht
}

// Trackers returns the torrent's enabled trackers
// (GET /api/torrents/HASH/trackers). A torrent whose only announce URL is
// rtorrenttest.PlaceholderAnnounce has none.
func (f *Flood) Trackers(ctx context.Context, hash string) ([]Tracker, error) {
	var out []Tracker
	err := f.getStrict(ctx, "/api/torrents/"+url.PathEscape(hash)+"/trackers", &out)
	return out, err
}

// Settings returns the client settings Flood shows on its settings page
// (GET /api/client/settings), read from rTorrent in one system.multicall.
// Keys are Flood's names (throttleGlobalDownSpeed for
// throttle.global_down.max_rate, piecesMemoryMax in MiB, ...); numbers are
// float64, as encoding/json decodes them.
func (f *Flood) Settings(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	err := f.Do(ctx, http.MethodGet, "/api/client/settings", nil, &out)
	return out, err
}

// SetSettings changes client settings (PATCH /api/client/settings), keyed
// as Settings returns them. Flood sends one system.multicall of
// "<command>.set" calls with target "" and each value as a string
// (booleans as "1"/"0", dht as dht.mode.set "auto"/"disable").
func (f *Flood) SetSettings(ctx context.Context, settings map[string]any) error {
	return f.Do(ctx, http.MethodPatch, "/api/client/settings", settings, nil)
}

// WaitTorrents polls Torrents until cond accepts the list, and returns
// that list. If ctx ends first it returns the last list it saw with an
// error that includes the last failure, if any.
func (f *Flood) WaitTorrents(ctx context.Context, cond func(map[string]TorrentProps) bool) (map[string]TorrentProps, error) {
	var last map[string]TorrentProps
	var lastErr error
	for {
		list, err := f.Torrents(ctx)
		if err == nil {
			last, lastErr = list, nil
			if cond(list) {
				return list, nil
			}
		} else if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return last, fmt.Errorf("flood: wait for torrents: %w (last error: %v)", ctx.Err(), lastErr)
			}
			return last, fmt.Errorf("flood: wait for torrents: %w", ctx.Err())
		case <-time.After(waitPoll):
		}
	}
}

// WaitTorrent polls Torrents until the torrent with the given hash (in
// either case) is listed and cond accepts it, and returns it. A nil cond
// accepts any. If ctx ends first the error shows the torrent as last seen.
func (f *Flood) WaitTorrent(ctx context.Context, hash string, cond func(TorrentProps) bool) (TorrentProps, error) {
	hash = strings.ToUpper(hash)
	var last TorrentProps
	var seen bool
	_, err := f.WaitTorrents(ctx, func(list map[string]TorrentProps) bool {
		p, ok := list[hash]
		last, seen = p, ok
		return ok && (cond == nil || cond(p))
	})
	if err != nil {
		if !seen {
			return last, fmt.Errorf("%w; %s not listed", err, hash)
		}
		return last, fmt.Errorf("%w; %s last seen as %+v", err, hash, last)
	}
	return last, nil
}
