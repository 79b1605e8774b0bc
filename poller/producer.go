package poller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/topics"
)

// Factory returns the topics.Factory of the poller's topics, for
// topics.NewHub: torrents, torrent.<HASH>, torrent.<HASH>.files, .peers
// and .trackers, transfer, events and backend (see the package
// documentation). HASH is 40 uppercase hex digits, as rTorrent writes it.
func (p *Poller) Factory() topics.Factory { return p.producer }

// The topics whose view follows the state's deltas.
type topicKind uint8

const (
	topicTorrents topicKind = iota
	topicTorrent
	topicTransfer
	topicEvents
	topicBackend
)

func (p *Poller) producer(name string) (topics.Producer, error) {
	switch name {
	case "torrents":
		return p.newStateProducer(topicTorrents, ""), nil
	case "transfer":
		return p.newStateProducer(topicTransfer, ""), nil
	case "events":
		return p.newStateProducer(topicEvents, ""), nil
	case "backend":
		return p.newStateProducer(topicBackend, ""), nil
	}
	if rest, ok := strings.CutPrefix(name, "torrent."); ok {
		hash, sub, _ := strings.Cut(rest, ".")
		if infohash.Valid(hash) && strings.ToUpper(hash) == hash {
			if sub == "" && !strings.HasSuffix(rest, ".") {
				return p.newStateProducer(topicTorrent, hash), nil
			}
			if k := detailKindOf(sub); k != nil {
				return &detailProducer{p: p, kind: k, hash: hash, name: name}, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
}

// stateProducer serves the topics that follow the state: torrents,
// torrent.<HASH>, transfer, events and backend. Its view of the state
// moves from delta to delta inside Topic.Update, so that a snapshot (taken
// under the same lock) and the changes after it never overlap or leave a
// gap. Views share the state's immutable rows.
type stateProducer struct {
	p    *Poller
	kind topicKind
	hash string // for torrent.<HASH>

	// The view, guarded by the topic lock (Update, Reset, Snapshot).
	ver      uint64 // the state version the view is at
	evi      int    // events: how many of delta ver+1's events are published
	schema   *schema
	rows     map[string]*row // torrents
	one      *row            // torrent.<HASH>: nil while there is no such download
	trSchema *schema
	transfer *row
	health   Health
}

// newStateProducer makes a producer whose view is the current state, so
// that a snapshot taken before its Run starts is already right.
func (p *Poller) newStateProducer(k topicKind, hash string) *stateProducer {
	pr := &stateProducer{p: p, kind: k, hash: hash}
	p.mu.Lock()
	pr.init()
	p.mu.Unlock()
	return pr
}

// init copies the view from the state. p.mu must be held.
func (pr *stateProducer) init() {
	st := &pr.p.st
	pr.ver, pr.evi = st.ver, 0
	switch pr.kind {
	case topicTorrents:
		pr.schema, pr.rows = st.schema, maps.Clone(st.torrents)
	case topicTorrent:
		pr.schema, pr.one = st.schema, st.torrents[pr.hash]
	case topicTransfer:
		pr.trSchema, pr.transfer = st.trSchema, st.transfer
	case topicBackend:
		pr.health = st.health
	}
}

func (pr *stateProducer) Run(ctx context.Context, t *topics.Topic) error {
	p := pr.p
	p.mu.Lock()
	p.producers[pr] = t
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.producers, pr)
		p.mu.Unlock()
	}()
	// Deltas committed between the Factory and now are published here.
	if err := pr.advance(t); err != nil && !errors.Is(err, topics.ErrStopped) {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case <-p.done:
		return ErrStopped
	}
}

// advance publishes, one Update each, the deltas the view has not seen
// yet. A view that fell further behind than the state's ring, or that a
// delta cannot be told to (new fields), is replaced with Topic.Reset.
// advance may run in several goroutines at once: each Update applies
// exactly the delta after the view's version, so none is applied twice.
func (pr *stateProducer) advance(t *topics.Topic) error {
	for {
		var reset, done bool
		err := t.Update(func() ([]byte, error) {
			d, ok := pr.p.deltaAfter(pr.ver)
			switch {
			case !ok:
				reset = true
				return nil, nil
			case d == nil:
				done = true
				return nil, nil
			}
			var change []byte
			change, reset = pr.step(d)
			return change, nil
		})
		if err != nil || done {
			return err
		}
		if reset {
			err := t.Reset(func() error {
				pr.p.mu.Lock()
				pr.init()
				pr.p.mu.Unlock()
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
}

// step applies d (or, for events, its next event) to the view and returns
// the change to publish, nil when d means nothing to this topic, or reset
// true when the view must be copied anew instead.
func (pr *stateProducer) step(d *delta) (change []byte, reset bool) {
	consumed := true
	defer func() {
		if consumed && !reset {
			pr.ver, pr.evi = d.ver, 0
		}
	}()
	switch pr.kind {
	case topicTorrents:
		switch {
		case d.reset:
			return nil, true
		case d.torrents.empty():
			return nil, false
		case !d.schema.equal(pr.schema):
			return nil, true
		}
		for _, r := range d.torrents.added {
			pr.rows[r.key] = r
		}
		for _, c := range d.torrents.changed {
			pr.rows[c.new.key] = c.new
		}
		for _, h := range d.torrents.removed {
			delete(pr.rows, h)
		}
		return appendTableChange(nil, d.schema, &d.torrents, "hash"), false

	case topicTorrent:
		if d.reset {
			return nil, true
		}
		var tc tableChange
		cmp := func(r *row, h string) int { return strings.Compare(r.key, h) }
		if i, ok := slices.BinarySearchFunc(d.torrents.added, pr.hash, cmp); ok {
			tc.added = d.torrents.added[i : i+1]
			pr.one = tc.added[0]
		} else if i, ok := slices.BinarySearchFunc(d.torrents.changed, pr.hash,
			func(c rowChange, h string) int { return cmp(c.new, h) }); ok {
			tc.changed = d.torrents.changed[i : i+1]
			pr.one = tc.changed[0].new
		} else if _, ok := slices.BinarySearch(d.torrents.removed, pr.hash); ok {
			tc.removed = []string{pr.hash}
			pr.one = nil
		} else {
			return nil, false
		}
		if !d.schema.equal(pr.schema) {
			return nil, true
		}
		return appendTableChange(nil, d.schema, &tc, "hash"), false

	case topicTransfer:
		if d.transfer == nil {
			return nil, false
		}
		if pr.trSchema != nil && !d.trSchema.equal(pr.trSchema) {
			return nil, true
		}
		old := pr.transfer
		pr.trSchema, pr.transfer = d.trSchema, d.transfer.new
		if old == nil {
			return appendObject(nil, d.trSchema, d.transfer.new, ""), false
		}
		return appendChanged(nil, d.trSchema, old, d.transfer.new, diff(old, d.transfer.new)), false

	case topicBackend:
		if d.health == nil {
			return nil, false
		}
		pr.health = *d.health
		return appendHealth(nil, &pr.health), false

	case topicEvents:
		if pr.evi >= len(d.events) {
			return nil, false
		}
		ev := &d.events[pr.evi]
		pr.evi++
		consumed = pr.evi == len(d.events)
		return appendEvent(nil, ev), false
	}
	return nil, false
}

// Snapshot encodes the view; see the package documentation for each
// topic's JSON.
func (pr *stateProducer) Snapshot() ([]byte, error) {
	switch pr.kind {
	case topicTorrents:
		rows := slices.SortedFunc(maps.Values(pr.rows), byKey)
		return appendTable(make([]byte, 0, 64+len(rows)*768), "torrents", pr.schema, rows, "hash"), nil
	case topicTorrent:
		var rows []*row
		if pr.one != nil {
			rows = []*row{pr.one}
		}
		return appendTable(nil, "torrents", pr.schema, rows, "hash"), nil
	case topicTransfer:
		if pr.transfer == nil {
			return []byte("{}"), nil
		}
		return appendObject(nil, pr.trSchema, pr.transfer, ""), nil
	case topicBackend:
		return appendHealth(nil, &pr.health), nil
	case topicEvents:
		return []byte(`{"events":[]}`), nil
	}
	return nil, nil
}

func (p *Poller) registerDetail(dp *detailProducer, t *topics.Topic) {
	p.mu.Lock()
	p.details[dp] = t
	p.mu.Unlock()
}

func (p *Poller) unregisterDetail(dp *detailProducer) {
	p.mu.Lock()
	delete(p.details, dp)
	p.mu.Unlock()
}

// publish brings every registered state topic up to the state. It is
// called by whoever committed, with the poll token held, so that a
// committed delta is queued to every subscriber before the poll (or
// Refresh) returns.
func (p *Poller) publish() {
	type reg struct {
		pr *stateProducer
		t  *topics.Topic
	}
	p.mu.Lock()
	regs := make([]reg, 0, len(p.producers))
	for pr, t := range p.producers {
		regs = append(regs, reg{pr, t})
	}
	p.mu.Unlock()
	for _, r := range regs {
		if err := r.pr.advance(r.t); err != nil && !errors.Is(err, topics.ErrStopped) {
			p.log.Warn("poller: publish failed", "topic", r.t.Name(), "err", err)
		}
	}
}
