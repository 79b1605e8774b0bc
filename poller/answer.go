package poller

import (
	"errors"
	"strings"
	"time"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Answer answers a read-only call from what the poller holds, when it
// holds the answer exactly as rTorrent would give it now (within the
// freshness rule of docs/freshness.md), so that the call need not reach
// rTorrent:
//
//   - d.multicall2 (and 0.16's d.multicall) over a view ("main",
//     "started", "name", a custom one, …): the view's downloads in
//     rTorrent's order, with any fields the poller holds — its columns,
//     or fields it learned;
//   - a download getter with a hash target (d.name, d.custom with a key,
//     …), from the same values;
//   - a global getter with target "" or none (directory.default,
//     throttle.global_down.rate, system.client_version, …);
//   - a system.multicall of only such calls.
//
// Whatever it cannot answer it learns: the views, fields and globals of a
// call it could not answer are read by the following polls, and answered
// from then on while clients keep asking (bounded; forgotten after
// Options.ForgetAfter without a read). Views are answered only while the
// event hooks are on, which make their order exact; nothing a write
// through rtgate (NoteWrite) may have changed is answered before a poll
// started after that write has read it again; and nothing is answered
// when the last successful poll is older than twice Interval.
//
// version identifies the state the answer comes from: answers of one call
// with equal versions are equal, so that a door can encode one for all.
// ok false sends the call to the backend. Answer does not block on the
// backend.
func (p *Poller) Answer(method string, params []xmlrpc.Value) (v xmlrpc.Value, version uint64, ok bool) {
	at := p.polledAt.Load()
	if at == 0 || time.Since(time.Unix(0, at)) > 2*p.opts.Interval {
		return xmlrpc.Value{}, 0, false
	}
	key, err := xmlrpc.Encoder{AllowDouble: true, AllowNil: true}.AppendCall(nil, method, params)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.st.loaded || p.rm.has == nil {
		return xmlrpc.Value{}, 0, false
	}
	if err == nil {
		if v, ok := p.rm.cache[string(key)]; ok {
			p.touch(method, params)
			return v, p.rm.ver, true
		}
	}
	a := answerer{p: p, rm: &p.rm, st: &p.st, now: time.Now()}
	v, ok = a.answer(method, params, 0)
	if !ok {
		return xmlrpc.Value{}, 0, false
	}
	if err == nil {
		if len(p.rm.cache) >= 64 {
			clear(p.rm.cache)
		}
		p.rm.cache[string(key)] = v
	}
	return v, p.rm.ver, true
}

// touch renews the asks of a call answered from the cache, so that what it
// reads is not forgotten while it is asked.
func (p *Poller) touch(method string, params []xmlrpc.Value) {
	a := answerer{p: p, rm: &p.rm, st: &p.st, now: time.Now(), touchOnly: true}
	a.answer(method, params, 0)
}

// answerer answers one call under Poller.mu.
type answerer struct {
	p         *Poller
	rm        *readModel
	st        *state
	now       time.Time
	touchOnly bool // only renew the asks
}

func (a *answerer) answer(method string, params []xmlrpc.Value, depth int) (xmlrpc.Value, bool) {
	switch {
	case method == "system.multicall":
		if depth > 0 {
			return xmlrpc.Value{}, false
		}
		return a.multicall(params)
	case method == "d.multicall2" || method == "d.multicall" && a.rm.dMulticall:
		return a.view(params, false)
	case method == "d.multicall.filtered":
		return a.view(params, true)
	case method == "f.multicall" || method == "p.multicall" || method == "t.multicall":
		return a.detail(method, params)
	case strings.HasPrefix(method, "d."):
		return a.getter(method, params)
	}
	return a.global(method, params)
}

// multicall answers a system.multicall whose every entry it can answer.
func (a *answerer) multicall(params []xmlrpc.Value) (xmlrpc.Value, bool) {
	if len(params) != 1 || params[0].Kind() != xmlrpc.Array || params[0].Len() == 0 {
		return xmlrpc.Value{}, false
	}
	entries := params[0].Values()
	out := make([]xmlrpc.Value, len(entries))
	ok := true
	for i, e := range entries {
		name, _ := e.Member("methodName")
		args, _ := e.Member("params")
		if e.Kind() != xmlrpc.Struct || e.Len() != 2 || name.Kind() != xmlrpc.String || args.Kind() != xmlrpc.Array {
			return xmlrpc.Value{}, false
		}
		// Every entry is asked, so that one poll learns them all.
		v, ok1 := a.answer(name.String(), args.Values(), 1)
		ok = ok && ok1
		if ok {
			out[i] = xmlrpc.NewArray(v)
		}
	}
	if !ok || a.touchOnly {
		return xmlrpc.Value{}, false
	}
	return xmlrpc.NewArray(out...), true
}

// view answers d.multicall2("", VIEW, fields...) and, filtered,
// d.multicall.filtered("", VIEW, PREDICATE, fields...). rTorrent lists
// the view "default" for an empty name.
func (a *answerer) view(params []xmlrpc.Value, filtered bool) (xmlrpc.Value, bool) {
	first := 2
	if filtered {
		first = 3
	}
	if len(params) < first {
		return xmlrpc.Value{}, false
	}
	for _, p := range params {
		if p.Kind() != xmlrpc.String {
			return xmlrpc.Value{}, false
		}
	}
	if params[0].String() != "" {
		return xmlrpc.Value{}, false
	}
	name := params[1].String()
	if name == "" {
		name = "default"
	}
	ok := true
	var pred pexpr
	if filtered {
		pred, ok = a.compilePredicate(params[2].String())
	}
	srcs := make([]source, len(params)-first)
	for i, f := range params[first:] {
		srcs[i] = a.field(f.String())
		ok = ok && srcs[i].ok()
	}
	v := a.rm.views[name]
	if v == nil {
		if len(a.rm.views) >= maxViews {
			return xmlrpc.Value{}, false
		}
		v = &learnedView{}
		a.rm.views[name] = v
		a.p.wakeLoop()
	}
	v.asked = a.now
	if !ok || a.touchOnly || !v.ready || !a.rm.hooks || len(a.rm.dirty) > 0 || a.rm.dirtyViews > 0 || a.rm.dirtyAll > 0 {
		return xmlrpc.Value{}, false
	}
	rows := make([]xmlrpc.Value, 0, len(v.hashes))
	for _, h := range v.hashes {
		r := a.st.torrents[h]
		if r == nil {
			return xmlrpc.Value{}, false
		}
		if pred != nil {
			pv, err := pred(h, r)
			if errors.Is(err, errMissing) {
				return xmlrpc.Value{}, false
			}
			if err != nil || !truth(pv) {
				continue
			}
		}
		vals := make([]xmlrpc.Value, len(srcs))
		for j, s := range srcs {
			val, ok := s.value(a.st.schema, h, r)
			if !ok {
				return xmlrpc.Value{}, false
			}
			vals[j] = val
		}
		rows = append(rows, xmlrpc.NewArray(vals...))
	}
	return xmlrpc.NewArray(rows...), true
}

// getter answers a download command with a hash target: d.name(HASH),
// d.custom(HASH, "addtime").
func (a *answerer) getter(method string, params []xmlrpc.Value) (xmlrpc.Value, bool) {
	if len(params) < 1 || len(params) > 2 || params[0].Kind() != xmlrpc.String {
		return xmlrpc.Value{}, false
	}
	hash := params[0].String()
	if !infohash.IsHex(hash) || len(hash) != 40 || strings.ToUpper(hash) != hash {
		return xmlrpc.Value{}, false
	}
	cmd := method + "="
	if len(params) == 2 {
		arg := params[1]
		if arg.Kind() != xmlrpc.String || !isPlainArg(arg.String()) {
			return xmlrpc.Value{}, false
		}
		cmd += arg.String()
	}
	s := a.field(cmd)
	if !s.ok() || a.touchOnly {
		return xmlrpc.Value{}, false
	}
	r := a.st.torrents[hash]
	if r == nil || a.rm.dirty[hash] > 0 || a.rm.dirtyAll > 0 {
		return xmlrpc.Value{}, false
	}
	return s.value(a.st.schema, hash, r)
}

// detail answers f.multicall, p.multicall and t.multicall of a download,
// HASH, "" and fields: the call itself is learned, and read every tick
// while it is asked.
func (a *answerer) detail(method string, params []xmlrpc.Value) (xmlrpc.Value, bool) {
	if len(params) < 2 {
		return xmlrpc.Value{}, false
	}
	for _, p := range params {
		if p.Kind() != xmlrpc.String {
			return xmlrpc.Value{}, false
		}
	}
	hash := params[0].String()
	if params[1].String() != "" || a.st.torrents[hash] == nil {
		return xmlrpc.Value{}, false
	}
	for _, f := range params[2:] {
		if classifyField(f.String(), a.has) == classNone {
			return xmlrpc.Value{}, false
		}
	}
	key := callKey(method, params)
	c := a.rm.calls[key]
	if c == nil {
		if len(a.rm.calls) >= maxCalls || !a.has(method) {
			return xmlrpc.Value{}, false
		}
		c = &learnedCall{method: method, params: params, hash: hash}
		a.rm.calls[key] = c
		a.p.wakeLoop()
	}
	c.asked = a.now
	if !c.ready || a.touchOnly || a.rm.dirty[hash] > 0 || a.rm.dirtyAll > 0 {
		return xmlrpc.Value{}, false
	}
	return c.val, true
}

// callKey names a call of string params.
func callKey(method string, params []xmlrpc.Value) string {
	var sb strings.Builder
	sb.WriteString(method)
	for _, p := range params {
		sb.WriteByte(0)
		sb.WriteString(p.String())
	}
	return sb.String()
}

// isPlainArg reports whether s is written the same as a command string's
// argument and as an XML-RPC parameter.
func isPlainArg(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// global answers a global getter with target "" (or none).
func (a *answerer) global(method string, params []xmlrpc.Value) (xmlrpc.Value, bool) {
	switch len(params) {
	case 0:
	case 1:
		if params[0].Kind() != xmlrpc.String || params[0].String() != "" {
			return xmlrpc.Value{}, false
		}
	default:
		return xmlrpc.Value{}, false
	}
	if a.rm.dirtyGlobals > 0 || a.rm.dirtyAll > 0 {
		return xmlrpc.Value{}, false
	}
	if v, ok := a.transfer(method); ok {
		if a.touchOnly {
			return xmlrpc.Value{}, false
		}
		return v, true
	}
	g := a.rm.globals[method]
	if g == nil {
		class := classifyGlobal(method, a.has)
		if class == classNone || len(a.rm.globals) >= maxGlobals {
			return xmlrpc.Value{}, false
		}
		g = &learnedGlobal{class: class}
		a.rm.globals[method] = g
		a.p.wakeLoop()
	}
	g.asked = a.now
	if !g.ready || a.touchOnly {
		return xmlrpc.Value{}, false
	}
	return g.val, true
}

// transfer answers the global figures the poller reads every tick.
func (a *answerer) transfer(method string) (xmlrpc.Value, bool) {
	if a.st.transfer == nil {
		return xmlrpc.Value{}, false
	}
	for id, c := range transferColumns {
		if c.method == method {
			if a.st.trSchema.pos[id] < 0 {
				return xmlrpc.Value{}, false
			}
			return xmlrpc.NewInt(a.st.trSchema.get(a.st.transfer, id).n), true
		}
	}
	return xmlrpc.Value{}, false
}

func (a *answerer) has(method string) bool { return a.rm.has[method] }

// source is where a field's values come from: a column of the torrents'
// schema, a learned field, or a constant.
type source struct {
	col     int // index in the schema's columns, or -1
	learned *learnedField
	cnst    *xmlrpc.Value
}

func (s source) ok() bool { return s.col >= 0 || s.learned != nil || s.cnst != nil }

// value returns the field's value for the download hash, row r.
func (s source) value(sc *schema, hash string, r *row) (xmlrpc.Value, bool) {
	switch {
	case s.cnst != nil:
		return *s.cnst, true
	case s.col >= 0:
		v := r.vals[s.col]
		if sc.cols[s.col].kind == kindString {
			return xmlrpc.NewString(v.s), true
		}
		return xmlrpc.NewInt(v.n), true
	case s.learned != nil && s.learned.ready:
		v, ok := s.learned.vals[hash]
		return v, ok
	}
	return xmlrpc.Value{}, false
}

var zero = xmlrpc.NewInt(0)

// field returns the source of a field command, learning it when it is
// neither a column nor learned yet; a source that is not ok when it
// cannot be answered now.
func (a *answerer) field(cmd string) source {
	if cmd == "false=" {
		return source{col: -1, cnst: &zero}
	}
	if i, ok := a.rm.cols[cmd]; ok {
		return source{col: i}
	}
	f := a.rm.fields[cmd]
	if f == nil {
		class := classifyField(cmd, a.has)
		if class == classNone || len(a.rm.fields) >= maxFields {
			return source{col: -1}
		}
		f = &learnedField{class: class, vals: map[string]xmlrpc.Value{}}
		a.rm.fields[cmd] = f
		a.p.wakeLoop()
	}
	f.asked = a.now
	if !f.ready || f.failed {
		return source{col: -1}
	}
	return source{col: -1, learned: f}
}
