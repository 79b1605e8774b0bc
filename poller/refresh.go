package poller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/rtorrent"
)

// Refresh reads the downloads with these hashes (40 hex digits, either
// case) from the backend now, with every field, and publishes what changed
// before it returns — so that a client sees the effect of a call that
// went through rtgate without waiting for a tick. A hash the backend does
// not know is published as removed. Active detail topics of these downloads
// are refreshed too. With no hash, an empty one, or more than
// Options.RefreshMax, Refresh runs a full sweep instead.
//
// Refresh waits for a tick in progress to finish. It returns
// ErrNotConnected while the poller has no connection, and the backend's
// error if the read fails; the loop deals with a backend gone away.
func (p *Poller) Refresh(ctx context.Context, hashes ...string) error {
	hs, all, err := normalizeHashes(hashes)
	if err != nil {
		return err
	}
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	c := p.conn
	if c == nil {
		return ErrNotConnected
	}
	if all || len(hs) > p.opts.RefreshMax {
		b, err := p.sweep(ctx, c, nil)
		if err != nil {
			return err
		}
		p.commit(b)
		p.publish()
		return nil
	}
	b := p.newBuilder()
	b.rm.init()
	b.rm.seq = p.writeSeq()
	b.hooksOn = c.hooks.on
	wants := p.detailWants(c, hs)
	extra := make([]rtorrent.MethodCall, len(wants))
	for i, w := range wants {
		extra[i] = w.call
	}
	// The learned detail calls of these downloads, read again with them.
	details := p.detailPlan(hs)
	extra = append(extra, details.calls...)
	res, err := p.fetch(ctx, c, b, hs, extra)
	if err != nil {
		return err
	}
	details.read(c, res[len(wants):], &b.rm)
	b.rm.seq = details.seq
	res = res[:len(wants)]
	// A call that changed downloads may have moved them between views.
	if err := p.readViews(ctx, c, b); err != nil {
		return err
	}
	p.commit(b)
	p.publish()
	p.publishDetails(wants, res)
	return nil
}

// RequestRefresh asks Run's loop to do what Refresh does, as soon as it can,
// without waiting for it: for hooks that must not block, such as the
// gateway's OnWrite after a call that changed downloads. Requests made
// before the loop serves them are merged into one refresh (a sweep if any
// asked for one, or too many downloads are named). Malformed hashes are
// dropped; with none at all the request is for a sweep.
func (p *Poller) RequestRefresh(hashes ...string) {
	hs, all, err := normalizeHashes(hashes)
	p.reqMu.Lock()
	if err != nil || all {
		p.reqAll = true
	}
	for _, h := range hs {
		p.reqHash[h] = struct{}{}
	}
	p.reqMu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// serveRequests runs the refresh that RequestRefresh calls asked for.
func (p *Poller) serveRequests(ctx context.Context) {
	p.reqMu.Lock()
	all := p.reqAll
	hs := make([]string, 0, len(p.reqHash))
	for h := range p.reqHash {
		hs = append(hs, h)
	}
	p.reqAll = false
	clear(p.reqHash)
	p.reqMu.Unlock()
	if all {
		hs = nil
	} else if len(hs) == 0 {
		return
	}
	unseen := p.unknown(hs)
	if err := p.Refresh(ctx, hs...); err != nil && ctx.Err() == nil {
		p.log.Debug("poller: requested refresh failed", "err", err)
		return
	}
	p.retryUnseen(hs, p.unknown(unseen))
}

// Retries of requested downloads not seen yet: rTorrent adds a loaded
// torrent on its main loop after answering load.*, so a refresh right
// after the load may come too early. They are asked again after 50, 100,
// 200, 400 and 800 ms, then left to the ticks.
const (
	retryFirst = 50 * time.Millisecond
	retryMax   = 5
)

// unknown returns those of hs the state does not hold.
func (p *Poller) unknown(hs []string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, h := range hs {
		if _, ok := p.st.torrents[h]; !ok {
			out = append(out, h)
		}
	}
	return out
}

// retryUnseen schedules another refresh of those of the refreshed hashes
// that the refresh did not find and the poller had never seen (an erased
// download is known before its refresh, and is not retried).
func (p *Poller) retryUnseen(refreshed, unseen []string) {
	p.reqMu.Lock()
	defer p.reqMu.Unlock()
	for _, h := range refreshed {
		if !slices.Contains(unseen, h) {
			delete(p.reqTries, h) // found, or known before
		}
	}
	delay := time.Duration(0)
	for _, h := range unseen {
		n := p.reqTries[h] + 1
		if n > retryMax {
			delete(p.reqTries, h)
			continue
		}
		p.reqTries[h] = n
		delay = max(delay, retryFirst<<(n-1))
	}
	if delay == 0 {
		return
	}
	if p.reqTimer != nil {
		p.reqTimer.Stop()
	}
	p.reqTimer = time.AfterFunc(delay, func() {
		p.reqMu.Lock()
		for h := range p.reqTries {
			p.reqHash[h] = struct{}{}
		}
		p.reqMu.Unlock()
		select {
		case p.kick <- struct{}{}:
		default:
		}
	})
}

// stopRetries stops a pending retry when Run returns.
func (p *Poller) stopRetries() {
	p.reqMu.Lock()
	defer p.reqMu.Unlock()
	if p.reqTimer != nil {
		p.reqTimer.Stop()
	}
}

// normalizeHashes uppercases and checks hashes; all is true when one is
// empty or there are none.
func normalizeHashes(hashes []string) (hs []string, all bool, err error) {
	if len(hashes) == 0 {
		return nil, true, nil
	}
	for _, h := range hashes {
		if h == "" {
			return nil, true, nil
		}
		if !infohash.Valid(h) {
			return nil, false, fmt.Errorf("%w: %q", ErrInvalidHash, h)
		}
		hs = append(hs, strings.ToUpper(h))
	}
	slices.Sort(hs)
	return slices.Compact(hs), false, nil
}

// fetch reads every field of the downloads with these hashes, one call per
// field, into b (a hash rTorrent does not know is removed), together with
// the extra calls, whose results it returns.
//
// rTorrent 0.9.8 finds a download by scanning its list, so each call costs
// in proportion to the library; measured with 10,000 downloads, one
// download costs ~10 ms this way against ~20 ms for d.multicall.filtered
// (which evaluates its predicate on every download) and ~400 ms for a
// sweep.
func (p *Poller) fetch(ctx context.Context, c *conn, b *builder, hashes []string, extra []rtorrent.MethodCall) ([]rtorrent.Result, error) {
	cols := c.schema.cols
	calls := make([]rtorrent.MethodCall, 0, len(hashes)*len(cols)+len(extra))
	for _, h := range hashes {
		for _, col := range cols {
			switch {
			case col.kind == kindTrackers:
				calls = append(calls, rtorrent.MethodCall{Method: "t.multicall", Params: append(strs(h, ""), strs(trackerCallCmds...)...)})
			case col.arg != "":
				calls = append(calls, rtorrent.MethodCall{Method: col.method, Params: strs(h, col.arg)})
			default:
				calls = append(calls, rtorrent.MethodCall{Method: col.method, Params: strs(h)})
			}
		}
	}
	fieldCall, fields, withFields := p.fieldFetchCall(c, hashes)
	if withFields {
		calls = append(calls, fieldCall)
	}
	calls = append(calls, extra...)
	res, err := p.multicall(ctx, calls)
	if err != nil {
		return nil, err
	}
	b.rm.init()
	if withFields {
		// The learned fields of the downloads read: a fault leaves them
		// to the next sweep (answers wait for it).
		readFieldRows(res[len(hashes)*len(cols)], fields, b.rm.rowVals)
		res = slices.Delete(res, len(hashes)*len(cols), len(hashes)*len(cols)+1)
	}
	b.rm.rowsRead = append(b.rm.rowsRead, hashes...)
	vals := make([]value, len(cols))
hashes:
	for k, h := range hashes {
		for j, col := range cols {
			r := res[k*len(cols)+j]
			if r.Fault != nil {
				if isNotFound(r.Fault) {
					b.remove(h)
					continue hashes
				}
				return nil, fmt.Errorf("refresh %s: %w", h, r.Err(col.method))
			}
			if col.kind == kindTrackers {
				s, err := summarizeTrackers(r.Value)
				if err != nil {
					return nil, fmt.Errorf("refresh %s: %w", h, err)
				}
				vals[j] = value{s: s}
				continue
			}
			v, err := decodeValue(col.kind, r.Value)
			if err != nil {
				return nil, fmt.Errorf("refresh %s: %s: %w", h, col.name, err)
			}
			vals[j] = v
		}
		if base := b.current(h); base != nil && slices.Equal(base.vals, vals) {
			b.put(base)
			continue
		}
		b.put(&row{key: h, vals: slices.Clone(vals)})
	}
	return res[len(hashes)*len(cols):], nil
}
