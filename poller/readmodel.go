package poller

import (
	"slices"
	"strings"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// The read model is what the poller holds, beyond the topics' state, to
// answer legacy reads (see Answer): the hash lists of the views clients
// list, in rTorrent's order; the values of the fields clients ask that
// are not columns; the global getters they read. Each is learned on
// demand: the first read of something new goes to rTorrent, and makes the
// poller read it from then on, until no client has asked for it for
// Options.ForgetAfter. Everything in it is changed only in commit, with
// the rest of the state, so that an answer never mixes two polls.

// Bounds of what the read model learns; past them, reads go to rTorrent.
const (
	maxViews   = 16
	maxFields  = 64
	maxGlobals = 256
	maxCalls   = 32
)

// readModel is guarded by Poller.mu.
type readModel struct {
	ver uint64 // bumped by every commit: answers of one version are equal

	views   map[string]*learnedView
	fields  map[string]*learnedField // by field command ("d.custom=addtime")
	globals map[string]*learnedGlobal
	calls   map[string]*learnedCall // by callKey: detail calls of one download

	// Writes through rtgate (NoteWrite), for read-your-writes: what a
	// write may have changed is not answered until a poll that started
	// after it has read it again.
	seq          uint64            // writes noted so far
	dirty        map[string]uint64 // by hash: the last write naming it
	dirtyViews   uint64            // the last write that may change views (a load)
	dirtyGlobals uint64            // the last setting changed
	dirtyAll     uint64            // the last write that may change anything

	cache map[string]xmlrpc.Value // answers of version ver, by call

	// Of the connection, set at connect.
	has        map[string]bool // the backend's commands; nil before the first connection
	hooks      bool            // the event hooks are on: views are answered
	dMulticall bool            // d.multicall is d.multicall2 (rTorrent 0.16)
	cols       map[string]int  // field command -> column of colsOf, for the columns held exactly
	colsOf     *schema
}

// exactColumns maps the field command of each column whose value the
// state holds exactly as rTorrent gives it to its index in s.
func exactColumns(s *schema) map[string]int {
	m := map[string]int{}
	for i, c := range s.cols {
		switch c.kind {
		case kindInt, kindBool, kindRatio, kindString:
			m[c.cmd] = i
		}
	}
	return m
}

type learnedView struct {
	asked  time.Time
	hashes []string // nil until read
	ready  bool
	failed bool // rTorrent refused to list it: answered upstream until forgotten
}

type learnedField struct {
	class  fieldClass
	asked  time.Time
	vals   map[string]xmlrpc.Value // by hash
	ready  bool                    // read over every download once
	failed bool
}

// learnedCall is a detail call (f.multicall, p.multicall, t.multicall of
// one download) read every tick while asked.
type learnedCall struct {
	method string
	params []xmlrpc.Value
	hash   string
	asked  time.Time
	val    xmlrpc.Value
	ready  bool
	failed bool
}

type learnedGlobal struct {
	class  fieldClass
	asked  time.Time
	val    xmlrpc.Value
	ready  bool
	failed bool
}

func newReadModel() readModel {
	return readModel{
		views:   map[string]*learnedView{},
		fields:  map[string]*learnedField{},
		globals: map[string]*learnedGlobal{},
		calls:   map[string]*learnedCall{},
		dirty:   map[string]uint64{},
		cache:   map[string]xmlrpc.Value{},
	}
}

// rmPlan is what one poll reads for the read model, decided under p.mu
// at its start.
type rmPlan struct {
	seq        uint64   // rm.seq at the start: the writes this poll covers
	views      []string // view lists to read
	mainFields []string // field commands read over every download
	fastFields []string // field commands read over started and hashing
	globals    []string
	details    []string // keys of the learned calls read
	detailCall []rtorrent.MethodCall
	calls      []rtorrent.MethodCall
}

// rmUpdate is what a poll read for the read model, applied by commit.
type rmUpdate struct {
	seq       uint64
	views     map[string][]string // nil list: the view failed
	mainVals  map[string]map[string]xmlrpc.Value
	mainFail  map[string]bool
	fastVals  map[string]map[string]xmlrpc.Value
	rowVals   map[string]map[string]xmlrpc.Value // by field, by hash: fields of fetched downloads
	globals   map[string]xmlrpc.Value
	globFail  map[string]bool
	details   map[string]xmlrpc.Value // learned calls read, by key
	detFail   map[string]bool
	rowsRead  []string // hashes read in full (fetched)
	sweep     bool     // every download read in full, every field, view and global
	viewsRead bool     // every asked view list read
	globsRead bool     // every asked global read
}

func (u *rmUpdate) init() {
	if u.views == nil {
		u.views = map[string][]string{}
		u.mainVals = map[string]map[string]xmlrpc.Value{}
		u.mainFail = map[string]bool{}
		u.fastVals = map[string]map[string]xmlrpc.Value{}
		u.rowVals = map[string]map[string]xmlrpc.Value{}
		u.globals = map[string]xmlrpc.Value{}
		u.globFail = map[string]bool{}
		u.details = map[string]xmlrpc.Value{}
		u.detFail = map[string]bool{}
	}
}

// planReadModel decides what a tick reads: with sweep, every field, view
// and global asked; else the new ones, the fast fields over the started
// and hashing views, and the volatile fields and globals. It forgets what
// nobody asked for in Options.ForgetAfter.
func (p *Poller) planReadModel(c *conn, sweep bool) rmPlan {
	p.mu.Lock()
	defer p.mu.Unlock()
	rm := &p.rm
	pl := rmPlan{seq: rm.seq}
	now := time.Now()
	for name, v := range rm.views {
		if now.Sub(v.asked) > p.opts.ForgetAfter {
			delete(rm.views, name)
			continue
		}
		if !v.failed && (sweep || !v.ready) {
			pl.views = append(pl.views, name)
		}
	}
	for cmd, f := range rm.fields {
		if now.Sub(f.asked) > p.opts.ForgetAfter {
			delete(rm.fields, cmd)
			continue
		}
		switch {
		case f.failed:
		case sweep || !f.ready || f.class == classVolatile:
			pl.mainFields = append(pl.mainFields, cmd)
		case f.class == classFast:
			pl.fastFields = append(pl.fastFields, cmd)
		}
	}
	for m, g := range rm.globals {
		if now.Sub(g.asked) > p.opts.ForgetAfter {
			delete(rm.globals, m)
			continue
		}
		if !g.failed && (sweep || !g.ready || g.class == classVolatile || rm.dirtyGlobals > 0) {
			pl.globals = append(pl.globals, m)
		}
	}
	for key, lc := range rm.calls {
		if now.Sub(lc.asked) > p.opts.ForgetAfter || p.st.torrents[lc.hash] == nil {
			delete(rm.calls, key)
			continue
		}
		if !lc.failed {
			pl.details = append(pl.details, key)
			pl.detailCall = append(pl.detailCall, rtorrent.MethodCall{Method: lc.method, Params: lc.params})
		}
	}
	pl.calls = append(c.rmCalls(pl.views, pl.mainFields, pl.fastFields, pl.globals), pl.detailCall...)
	return pl
}

// detailPlan reads the learned calls of these downloads, for a refresh.
func (p *Poller) detailPlan(hashes []string) rmPlan {
	p.mu.Lock()
	defer p.mu.Unlock()
	pl := rmPlan{seq: p.rm.seq}
	for key, lc := range p.rm.calls {
		if !lc.failed && slices.Contains(hashes, lc.hash) {
			pl.details = append(pl.details, key)
			pl.detailCall = append(pl.detailCall, rtorrent.MethodCall{Method: lc.method, Params: lc.params})
		}
	}
	pl.calls = pl.detailCall
	return pl
}

// rmCalls are the calls reading views, fields over main, fields over the
// fast views and globals.
func (c *conn) rmCalls(views, mainFields, fastFields, globals []string) []rtorrent.MethodCall {
	var calls []rtorrent.MethodCall
	for _, v := range views {
		calls = append(calls, rtorrent.MethodCall{Method: "d.multicall2", Params: strs("", v, "d.hash=")})
	}
	if len(mainFields) > 0 {
		calls = append(calls, rtorrent.MethodCall{Method: "d.multicall2", Params: strs(append([]string{"", "main", "d.hash="}, mainFields...)...)})
	}
	if len(fastFields) > 0 {
		for _, view := range c.fastViews {
			calls = append(calls, rtorrent.MethodCall{Method: "d.multicall2", Params: strs(append([]string{"", view, "d.hash="}, fastFields...)...)})
		}
	}
	for _, g := range globals {
		calls = append(calls, rtorrent.MethodCall{Method: g, Params: strs("")})
	}
	return calls
}

// readRM records the results of a plan's calls into u.
func (pl *rmPlan) read(c *conn, res []rtorrent.Result, u *rmUpdate) {
	u.init()
	u.seq = pl.seq
	i := 0
	for _, v := range pl.views {
		hashes, ok := hashList(res[i])
		if ok {
			u.views[v] = hashes
		} else {
			u.views[v] = nil
		}
		i++
	}
	if len(pl.mainFields) > 0 {
		if !readFieldRows(res[i], pl.mainFields, u.mainVals) {
			for _, f := range pl.mainFields {
				u.mainFail[f] = true
			}
		}
		i++
	}
	if len(pl.fastFields) > 0 {
		for range c.fastViews {
			readFieldRows(res[i], pl.fastFields, u.fastVals)
			i++
		}
	}
	for _, g := range pl.globals {
		if res[i].Fault != nil {
			u.globFail[g] = true
		} else {
			u.globals[g] = res[i].Value
		}
		i++
	}
	for _, key := range pl.details {
		if res[i].Fault != nil {
			u.detFail[key] = true
		} else {
			u.details[key] = res[i].Value
		}
		i++
	}
}

// hashList reads a d.multicall2 of d.hash= alone.
func hashList(r rtorrent.Result) ([]string, bool) {
	if r.Fault != nil || r.Value.Kind() != xmlrpc.Array {
		return nil, false
	}
	out := make([]string, 0, r.Value.Len())
	for _, rv := range r.Value.Values() {
		if rv.Kind() != xmlrpc.Array || rv.Len() != 1 || rv.Index(0).Kind() != xmlrpc.String {
			return nil, false
		}
		out = append(out, rv.Index(0).String())
	}
	return out, true
}

// readFieldRows reads a d.multicall2 (or d.multicall.filtered) of d.hash=
// followed by fields into vals, by field then hash.
func readFieldRows(r rtorrent.Result, fields []string, vals map[string]map[string]xmlrpc.Value) bool {
	if r.Fault != nil || r.Value.Kind() != xmlrpc.Array {
		return false
	}
	for _, f := range fields {
		if vals[f] == nil {
			vals[f] = map[string]xmlrpc.Value{}
		}
	}
	for _, rv := range r.Value.Values() {
		if rv.Kind() != xmlrpc.Array || rv.Len() != len(fields)+1 || rv.Index(0).Kind() != xmlrpc.String {
			return false
		}
		h := rv.Index(0).String()
		for j, f := range fields {
			vals[f][h] = rv.Index(j + 1)
		}
	}
	return true
}

// fieldFetchCall reads the learned fields of the downloads hashes with
// one d.multicall.filtered over main, or nil when there is none to read
// or the backend lacks the command.
func (p *Poller) fieldFetchCall(c *conn, hashes []string) (rtorrent.MethodCall, []string, bool) {
	if !c.hasFiltered || len(hashes) == 0 {
		return rtorrent.MethodCall{}, nil, false
	}
	p.mu.Lock()
	var fields []string
	for cmd, f := range p.rm.fields {
		if f.ready && !f.failed {
			fields = append(fields, cmd)
		}
	}
	p.mu.Unlock()
	if len(fields) == 0 {
		return rtorrent.MethodCall{}, nil, false
	}
	return rtorrent.MethodCall{Method: "d.multicall.filtered", Params: strs(append([]string{"", "main", hashPredicate(hashes), "d.hash="}, fields...)...)}, fields, true
}

// applyReadModel applies u to the read model, under p.mu, after the rows
// of the same poll: removed downloads lose their values. It reports
// whether anything an answer holds changed.
func (p *Poller) applyReadModel(u *rmUpdate, removed []string, reset bool) (moved bool) {
	rm := &p.rm
	if rm.colsOf != p.st.schema && p.st.schema != nil {
		rm.cols, rm.colsOf = exactColumns(p.st.schema), p.st.schema
		moved = true
	}
	if reset {
		for _, f := range rm.fields {
			f.vals, f.ready = map[string]xmlrpc.Value{}, false
		}
	}
	for _, h := range removed {
		for _, f := range rm.fields {
			delete(f.vals, h)
		}
	}
	if u.views != nil {
		for name, hashes := range u.views {
			v := rm.views[name]
			if v == nil {
				continue
			}
			if hashes == nil {
				v.failed, v.ready, v.hashes, moved = true, false, nil, true
				continue
			}
			if !v.ready || !slices.Equal(v.hashes, hashes) {
				v.hashes, v.ready, moved = hashes, true, true
			}
		}
		for cmd, vals := range u.mainVals {
			f := rm.fields[cmd]
			if f == nil {
				continue
			}
			// A read over main holds every download: the others are gone.
			if !f.ready || !sameValues(f.vals, vals) {
				f.vals, f.ready, moved = vals, true, true
			}
		}
		for cmd := range u.mainFail {
			if f := rm.fields[cmd]; f != nil {
				f.failed, f.ready, moved = true, false, true
			}
		}
		for _, src := range []map[string]map[string]xmlrpc.Value{u.fastVals, u.rowVals} {
			for cmd, vals := range src {
				f := rm.fields[cmd]
				if f == nil || !f.ready {
					continue
				}
				for h, v := range vals {
					if _, ok := p.st.torrents[h]; !ok {
						continue
					}
					if old, ok := f.vals[h]; !ok || !old.Equal(v) {
						f.vals[h], moved = v, true
					}
				}
			}
		}
		for m, v := range u.globals {
			if g := rm.globals[m]; g != nil && (!g.ready || !g.val.Equal(v)) {
				g.val, g.ready, moved = v, true, true
			}
		}
		for m := range u.globFail {
			if g := rm.globals[m]; g != nil {
				g.failed, g.ready, moved = true, false, true
			}
		}
		for key, v := range u.details {
			if lc := rm.calls[key]; lc != nil && (!lc.ready || !lc.val.Equal(v)) {
				lc.val, lc.ready, moved = v, true, true
			}
		}
		for key := range u.detFail {
			if lc := rm.calls[key]; lc != nil {
				lc.failed, lc.ready, moved = true, false, true
			}
		}
	}
	// What this poll read again after a write is clean.
	if u.sweep {
		if rm.dirtyAll <= u.seq {
			rm.dirtyAll = 0
		}
		for h, s := range rm.dirty {
			if s <= u.seq {
				delete(rm.dirty, h)
			}
		}
	}
	for _, h := range u.rowsRead {
		if s, ok := rm.dirty[h]; ok && s <= u.seq {
			delete(rm.dirty, h)
		}
	}
	if (u.sweep || u.viewsRead) && rm.dirtyViews <= u.seq {
		rm.dirtyViews = 0
	}
	if (u.sweep || u.globsRead) && rm.dirtyGlobals <= u.seq {
		rm.dirtyGlobals = 0
	}
	return moved || len(removed) > 0 || reset
}

// sameValues reports whether two value maps are equal.
func sameValues(a, b map[string]xmlrpc.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !w.Equal(v) {
			return false
		}
	}
	return true
}

// NoteWrite records a call that went through rtgate and may have changed
// rTorrent: until a poll that starts after it has read again what it may
// have changed, reads of that are sent to rTorrent (read-your-writes).
// targets are the downloads it names (the gateway's OnWrite gives them);
// a setting ("X.set" with target "") dirties the globals; anything else
// naming no download dirties everything until the next sweep. It then
// asks the loop for that refresh (RequestRefresh). It does not block.
func (p *Poller) NoteWrite(method string, targets []string) {
	p.mu.Lock()
	rm := &p.rm
	rm.seq++
	clear(rm.cache) // answered again only once read again
	switch {
	case len(targets) > 0:
		for _, h := range targets {
			rm.dirty[strings.ToUpper(h)] = rm.seq
		}
		// d.start, d.erase, a load: any of them can move downloads
		// between views.
		rm.dirtyViews = rm.seq
	case isGlobalSetter(method):
		rm.dirtyGlobals = rm.seq
	default:
		rm.dirtyAll = rm.seq
	}
	p.mu.Unlock()
	switch {
	case len(targets) > 0:
		p.RequestRefresh(targets...)
	case isGlobalSetter(method):
		p.wakeLoop()
	default:
		p.RequestRefresh()
	}
}

// isGlobalSetter reports whether method sets a global setting (or a
// throttle), which changes no download.
func isGlobalSetter(method string) bool {
	if !strings.HasSuffix(method, ".set") {
		return false
	}
	for _, prefix := range []string{"d.", "f.", "p.", "t.", "view.", "load.", "method.", "group.", "schedule", "event."} {
		if strings.HasPrefix(method, prefix) {
			return false
		}
	}
	return true
}

// writeSeq is the number of writes noted so far.
func (p *Poller) writeSeq() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rm.seq
}

// hasMethod reports whether the backend of the last connection has method.
func (p *Poller) hasMethod(method string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rm.has[method]
}

// setHooks records whether the event hooks are on.
func (p *Poller) setHooks(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rm.hooks = on
}
