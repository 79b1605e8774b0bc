package poller

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/rtgate/rtgate/internal/jsonenc"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/topics"
	"github.com/rtgate/rtgate/xmlrpc"
)

// detailKind is one of the per-torrent detail topics: torrent.<HASH>.files,
// .peers and .trackers. Each is polled, with one multicall entry per topic,
// only while the topic is active.
type detailKind struct {
	name   string   // topic suffix and snapshot member: "files"
	method string   // f.multicall, p.multicall, t.multicall
	keyCmd string   // the key field; "" keys rows by their index
	cols   []column // the fields, filtered by the backend's methods
}

var detailKinds = []*detailKind{
	{
		name: "files", method: "f.multicall",
		cols: []column{
			{name: "path", cmd: "f.path=", method: "f.path", kind: kindString},
			{name: "priority", cmd: "f.priority=", method: "f.priority", kind: kindInt},
			{name: "sizeBytes", cmd: "f.size_bytes=", method: "f.size_bytes", kind: kindInt},
			{name: "sizeChunks", cmd: "f.size_chunks=", method: "f.size_chunks", kind: kindInt},
			{name: "completedChunks", cmd: "f.completed_chunks=", method: "f.completed_chunks", kind: kindInt},
		},
	},
	{
		name: "peers", method: "p.multicall", keyCmd: "p.id=",
		cols: []column{
			{name: "address", cmd: "p.address=", method: "p.address", kind: kindString},
			{name: "port", cmd: "p.port=", method: "p.port", kind: kindInt},
			{name: "clientVersion", cmd: "p.client_version=", method: "p.client_version", kind: kindString},
			{name: "completedPercent", cmd: "p.completed_percent=", method: "p.completed_percent", kind: kindInt},
			{name: "downRate", cmd: "p.down_rate=", method: "p.down_rate", kind: kindInt},
			{name: "downTotal", cmd: "p.down_total=", method: "p.down_total", kind: kindInt},
			{name: "upRate", cmd: "p.up_rate=", method: "p.up_rate", kind: kindInt},
			{name: "upTotal", cmd: "p.up_total=", method: "p.up_total", kind: kindInt},
			{name: "isEncrypted", cmd: "p.is_encrypted=", method: "p.is_encrypted", kind: kindBool},
			{name: "isIncoming", cmd: "p.is_incoming=", method: "p.is_incoming", kind: kindBool},
			{name: "isSnubbed", cmd: "p.is_snubbed=", method: "p.is_snubbed", kind: kindBool},
		},
	},
	{
		name: "trackers", method: "t.multicall",
		cols: []column{
			{name: "url", cmd: "t.url=", method: "t.url", kind: kindString},
			{name: "type", cmd: "t.type=", method: "t.type", kind: kindInt},
			{name: "isEnabled", cmd: "t.is_enabled=", method: "t.is_enabled", kind: kindBool},
			{name: "group", cmd: "t.group=", method: "t.group", kind: kindInt},
			{name: "scrapeComplete", cmd: "t.scrape_complete=", method: "t.scrape_complete", kind: kindInt},
			{name: "scrapeIncomplete", cmd: "t.scrape_incomplete=", method: "t.scrape_incomplete", kind: kindInt},
			{name: "scrapeDownloaded", cmd: "t.scrape_downloaded=", method: "t.scrape_downloaded", kind: kindInt},
			{name: "scrapeTimeLast", cmd: "t.scrape_time_last=", method: "t.scrape_time_last", kind: kindInt},
			{name: "successCounter", cmd: "t.success_counter=", method: "t.success_counter", kind: kindInt},
			{name: "failedCounter", cmd: "t.failed_counter=", method: "t.failed_counter", kind: kindInt},
			{name: "normalInterval", cmd: "t.normal_interval=", method: "t.normal_interval", kind: kindInt},
			{name: "minInterval", cmd: "t.min_interval=", method: "t.min_interval", kind: kindInt},
		},
	},
}

// detailKindOf returns the detail kind called name, or nil.
func detailKindOf(name string) *detailKind {
	for _, k := range detailKinds {
		if k.name == name {
			return k
		}
	}
	return nil
}

// detailCall returns the multicall entry polling kind k of hash under
// schema s.
func detailCall(k *detailKind, s *schema, hash string) rtorrent.MethodCall {
	params := []xmlrpc.Value{xmlrpc.NewString(hash), xmlrpc.NewString("")}
	if k.keyCmd != "" {
		params = append(params, xmlrpc.NewString(k.keyCmd))
	}
	for _, c := range s.cols {
		params = append(params, xmlrpc.NewString(c.cmd))
	}
	return rtorrent.MethodCall{Method: k.method, Params: params}
}

// decodeDetail reads the rows of a detail multicall.
func decodeDetail(k *detailKind, s *schema, v xmlrpc.Value) ([]*row, error) {
	if v.Kind() != xmlrpc.Array {
		return nil, fmt.Errorf("%w: %s returned %v", ErrBadReply, k.method, v.Kind())
	}
	width := len(s.cols)
	if k.keyCmd != "" {
		width++
	}
	rows := make([]*row, 0, v.Len())
	for i, rv := range v.Values() {
		if rv.Kind() != xmlrpc.Array || rv.Len() != width {
			return nil, fmt.Errorf("%w: %s row %d is %v of %d values, want %d", ErrBadReply, k.method, i, rv.Kind(), rv.Len(), width)
		}
		vals := rv.Values()
		r := &row{vals: make([]value, len(s.cols))}
		if k.keyCmd != "" {
			if vals[0].Kind() != xmlrpc.String {
				return nil, fmt.Errorf("%w: %s row %d key is %v", ErrBadReply, k.method, i, vals[0].Kind())
			}
			r.key, vals = vals[0].String(), vals[1:]
		} else {
			r.key = strconv.Itoa(i)
		}
		for j, c := range s.cols {
			val, err := decodeValue(c.kind, vals[j])
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", k.name, c.name, err)
			}
			r.vals[j] = val
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// detailProducer serves torrent.<HASH>.<kind>. The poller's loop polls
// the detail while the producer is registered and hands each result to
// publish, which diffs it against the producer's view.
type detailProducer struct {
	p    *Poller
	kind *detailKind
	hash string
	name string // the topic's name

	// The view, guarded by the topic lock (Update, Reset, Snapshot).
	schema *schema
	rows   []*row // in backend order
	byKey  map[string]*row
}

func (dp *detailProducer) Run(ctx context.Context, t *topics.Topic) error {
	dp.p.registerDetail(dp, t)
	defer dp.p.unregisterDetail(dp)
	dp.p.wakeLoop() // poll it now rather than at the next tick
	select {
	case <-ctx.Done():
		return nil
	case <-dp.p.done:
		return ErrStopped
	}
}

// Snapshot returns {"<kind>":{KEY:{...},...}}: files and trackers keyed by
// their index ("0", "1", …), peers by their peer id.
func (dp *detailProducer) Snapshot() ([]byte, error) {
	if dp.schema == nil {
		return append(jsonenc.AppendString([]byte{'{'}, dp.kind.name), ":{}}"...), nil
	}
	return appendTable(nil, dp.kind.name, dp.schema, dp.rows, ""), nil
}

// publish replaces the view with rows polled under s (nil rows: the
// download is gone, so is its detail) and publishes the difference.
func (dp *detailProducer) publish(t *topics.Topic, s *schema, rows []*row) error {
	reset := false
	err := t.Update(func() ([]byte, error) {
		if dp.schema != nil && !dp.schema.equal(s) {
			reset = true
			return nil, nil
		}
		var tc tableChange
		rows, byKey := dedupe(rows)
		for _, r := range rows {
			old := dp.byKey[r.key]
			switch {
			case old == nil:
				tc.added = append(tc.added, r)
			default:
				if mask := diff(old, r); mask != 0 {
					tc.changed = append(tc.changed, rowChange{old: old, new: r, mask: mask})
				}
			}
		}
		for _, r := range dp.rows {
			if byKey[r.key] == nil {
				tc.removed = append(tc.removed, r.key)
			}
		}
		dp.schema, dp.rows, dp.byKey = s, rows, byKey
		if tc.empty() {
			return nil, nil
		}
		return appendTableChange(nil, s, &tc, ""), nil
	})
	if reset {
		err = t.Reset(func() error {
			dp.schema = s
			dp.rows, dp.byKey = dedupe(rows)
			return nil
		})
	}
	return err
}

// dedupe drops rows whose key an earlier row has (two connections from one
// peer id), and indexes the rest.
func dedupe(rows []*row) ([]*row, map[string]*row) {
	byKey := make(map[string]*row, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		if _, dup := byKey[r.key]; !dup {
			byKey[r.key] = r
			out = append(out, r)
		}
	}
	return out, byKey
}

// detailWant is one detail polled for the registered producers of it.
type detailWant struct {
	kind      *detailKind
	hash      string
	schema    *schema
	call      rtorrent.MethodCall
	producers []*detailProducer
}

// detailWants returns the details the registered detail producers want
// (only those of hashes, when not nil), one per kind and hash.
func (p *Poller) detailWants(c *conn, hashes []string) []*detailWant {
	p.mu.Lock()
	defer p.mu.Unlock()
	var wants []*detailWant
	byName := map[string]*detailWant{}
	for dp := range p.details {
		if hashes != nil && !slices.Contains(hashes, dp.hash) {
			continue
		}
		w := byName[dp.name]
		if w == nil {
			s := c.details[dp.kind]
			w = &detailWant{kind: dp.kind, hash: dp.hash, schema: s, call: detailCall(dp.kind, s, dp.hash)}
			byName[dp.name] = w
			wants = append(wants, w)
		}
		w.producers = append(w.producers, dp)
	}
	return wants
}

// publishDetails hands each detail's result to its producers. A download
// that is gone has no detail; any other failure skips the detail this time.
func (p *Poller) publishDetails(wants []*detailWant, res []rtorrent.Result) {
	for i, w := range wants {
		var rows []*row
		switch r := res[i]; {
		case isNotFound(r.Fault):
		case r.Fault != nil:
			p.log.Warn("poller: detail poll failed", "topic", w.producers[0].name, "err", r.Fault)
			continue
		default:
			var err error
			if rows, err = decodeDetail(w.kind, w.schema, r.Value); err != nil {
				p.log.Warn("poller: detail poll failed", "topic", w.producers[0].name, "err", err)
				continue
			}
		}
		for _, dp := range w.producers {
			p.mu.Lock()
			t := p.details[dp]
			p.mu.Unlock()
			if t != nil {
				dp.publish(t, w.schema, rows)
			}
		}
	}
}
