package poller

import (
	"slices"
	"strings"
)

// state is the poller's picture of the backend. Only the goroutine holding
// the poll token (the loop, or Refresh) changes it, and only in commit,
// with Poller.mu held; readers take Poller.mu.
type state struct {
	ver      uint64              // counts deltas
	schema   *schema             // of torrents; nil until the first connection
	loaded   bool                // torrents hold a full sweep
	torrents map[string]*row     // by hash
	fast     map[string]struct{} // hashes of the downloads started or hash-checking, as last polled
	trSchema *schema
	transfer *row // nil until polled
	health   Health
	ring     [ringSize]*delta
}

// ringSize is how many deltas the state keeps for topics that fall behind
// (a producer made just before a commit and registered just after it).
// One further behind gets a Reset.
const ringSize = 64

// delta is one committed change of the state. Deltas are immutable and
// numbered: delta ver turns state ver-1 into state ver. Every topic view
// applies each one exactly once, in order.
type delta struct {
	ver      uint64
	reset    bool // torrents were replaced wholesale (first sweep, new schema)
	schema   *schema
	torrents tableChange // lists in hash order
	events   []event
	trSchema *schema
	transfer *rowChange // nil when unchanged; old nil the first time
	health   *Health    // nil when unchanged
}

// isFast reports whether a download is started or hash-checking, the two
// views whose downloads can change without a call.
func isFast(s *schema, r *row) bool {
	return s.get(r, int(colState)).n != 0 || s.get(r, int(colHashing)).n != 0
}

// builder collects one poll's results against the state, then commit
// turns them into a delta.
type builder struct {
	st     *state
	schema *schema
	reset  bool // replace the torrents with next (a sweep under a new schema)
	sweep  bool // next and same together hold every download: the rest are gone
	next   map[string]*row
	same   map[string]struct{} // unchanged downloads a sweep saw
	gone   map[string]struct{}

	// unknown holds the hashes a tick must read in full: listed by a fast
	// poll but not in the state, or gone from the fast views.
	unknown []string

	trSchema *schema
	transfer *row
	health   *Health
	at       int64 // ms, for events

	rm rmUpdate // what the poll read for the read model

	// hooked: the lifecycle events the event hooks logged, in rTorrent's
	// order; exact when that is all of them, which then replace the
	// lifecycle events derived from the diffs.
	hooked  []hookEvent
	exact   bool
	hooksOn bool // the hooks are on: lifecycle events come from their log
	readLog bool // this poll read the log
}

func (p *Poller) newBuilder() *builder {
	return &builder{
		st: &p.st, schema: p.st.schema, trSchema: p.st.trSchema,
		next: map[string]*row{}, gone: map[string]struct{}{},
		at: p.now().UnixMilli(),
	}
}

// current returns the row of hash as this poll has it so far, or nil.
func (b *builder) current(hash string) *row {
	if _, ok := b.gone[hash]; ok {
		return nil
	}
	if r := b.next[hash]; r != nil {
		return r
	}
	if b.reset {
		return nil
	}
	return b.st.torrents[hash]
}

// put records r, a whole row, as the download's state.
func (b *builder) put(r *row) {
	delete(b.gone, r.key)
	if !b.reset && b.st.torrents[r.key] == r {
		delete(b.next, r.key)
		if b.same != nil {
			b.same[r.key] = struct{}{}
		}
		return
	}
	b.next[r.key] = r
}

// remove records that the download is gone.
func (b *builder) remove(hash string) {
	delete(b.next, hash)
	b.gone[hash] = struct{}{}
}

// count returns how many downloads the state will hold after commit.
func (b *builder) count() int {
	if b.reset {
		return len(b.next)
	}
	n := len(b.st.torrents)
	for h := range b.next {
		if _, ok := b.st.torrents[h]; !ok {
			n++
		}
	}
	for h := range b.gone {
		if _, ok := b.st.torrents[h]; ok {
			n--
		}
	}
	return n
}

// has reports whether the download will exist after commit.
func (b *builder) has(hash string) bool { return b.current(hash) != nil }

// commit applies b to the state, under p.mu, and returns the delta, or nil
// when nothing changed.
func (p *Poller) commit(b *builder) *delta {
	st := &p.st
	d := &delta{schema: b.schema, trSchema: b.trSchema, health: b.health}
	if b.sweep && !b.reset {
		for h := range st.torrents {
			if _, ok := b.next[h]; ok {
				continue
			}
			if _, ok := b.same[h]; !ok {
				b.gone[h] = struct{}{}
			}
		}
	}
	if b.reset {
		d.reset = true // views copy the state; no list to publish
	} else {
		for h, r := range b.next {
			old := st.torrents[h]
			if old == nil {
				d.torrents.added = append(d.torrents.added, r)
			} else if mask := diff(old, r); mask != 0 {
				d.torrents.changed = append(d.torrents.changed, rowChange{old: old, new: r, mask: mask})
			}
		}
		for h := range b.gone {
			if _, ok := st.torrents[h]; ok {
				d.torrents.removed = append(d.torrents.removed, h)
			}
		}
		slices.SortFunc(d.torrents.added, byKey)
		slices.SortFunc(d.torrents.changed, func(a, b rowChange) int { return strings.Compare(a.new.key, b.new.key) })
		slices.Sort(d.torrents.removed)
		if st.loaded {
			d.events = p.events(d, b.at)
		}
	}
	if b.transfer != nil {
		switch {
		case st.transfer == nil || !b.trSchema.equal(st.trSchema):
			d.transfer = &rowChange{new: b.transfer}
		default:
			if mask := diff(st.transfer, b.transfer); mask != 0 {
				d.transfer = &rowChange{old: st.transfer, new: b.transfer, mask: mask}
			}
		}
	}
	if !d.reset {
		p.noteCooling(d)
	}
	if st.loaded && b.hooksOn {
		d.events = hookedEvents(d.events, b.hooked, b.readLog, b.exact, b.at)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The read model after the rows; its version moves when an answer
	// may have.
	answersMoved := d.reset || !d.torrents.empty() || d.transfer != nil
	defer func() {
		if p.applyReadModel(&b.rm, d.torrents.removed, d.reset) || answersMoved {
			p.rm.ver++
			clear(p.rm.cache)
		}
	}()
	if !d.reset && d.torrents.empty() && d.transfer == nil && d.health == nil && len(d.events) == 0 {
		return nil
	}

	if d.reset {
		st.torrents = b.next
		st.fast = map[string]struct{}{}
		for h, r := range st.torrents {
			if isFast(b.schema, r) {
				st.fast[h] = struct{}{}
			}
		}
		st.schema = b.schema
		st.loaded = true
	} else {
		for _, r := range d.torrents.added {
			st.torrents[r.key] = r
			p.markFast(r)
		}
		for _, c := range d.torrents.changed {
			st.torrents[c.new.key] = c.new
			p.markFast(c.new)
		}
		for _, h := range d.torrents.removed {
			delete(st.torrents, h)
			delete(st.fast, h)
		}
		if b.sweep {
			st.loaded = true
		}
		st.schema = b.schema // the same fields, maybe of a newer connection
	}
	if d.transfer != nil {
		st.transfer, st.trSchema = d.transfer.new, b.trSchema
	}
	if d.health != nil {
		st.health = *d.health
	}
	st.ver++
	d.ver = st.ver
	st.ring[d.ver%ringSize] = d
	return d
}

func (p *Poller) markFast(r *row) {
	if isFast(p.st.schema, r) {
		p.st.fast[r.key] = struct{}{}
	} else {
		delete(p.st.fast, r.key)
	}
}

// events derives the download events of a delta.
func (p *Poller) events(d *delta, at int64) []event {
	var evs []event
	for _, r := range d.torrents.added {
		evs = deriveEvents(evs, d.schema, r.key, nil, r, at)
	}
	for _, c := range d.torrents.changed {
		evs = deriveEvents(evs, d.schema, c.new.key, c.old, c.new, at)
	}
	for _, h := range d.torrents.removed {
		evs = deriveEvents(evs, d.schema, h, nil, nil, at)
	}
	return evs
}

// deltaAfter returns the delta following version ver, nil if ver is the
// current version, and ok false if that delta has left the ring.
func (p *Poller) deltaAfter(ver uint64) (d *delta, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ver >= p.st.ver {
		return nil, true
	}
	d = p.st.ring[(ver+1)%ringSize]
	if d == nil || d.ver != ver+1 {
		return nil, false
	}
	return d, true
}

func byKey(a, b *row) int { return strings.Compare(a.key, b.key) }
