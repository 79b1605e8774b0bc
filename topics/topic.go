package topics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// Position is a point in a topic's stream: the epoch names one unbroken
// run of changes and seq counts the changes in it. A snapshot at seq N
// includes changes 1…N of its epoch; a new epoch starts at seq 0. Seqs
// from different epochs do not compare.
type Position struct {
	Epoch string
	Seq   uint64
}

// String returns "epoch:seq".
func (p Position) String() string { return fmt.Sprintf("%s:%d", p.Epoch, p.Seq) }

// Topic is one active topic, handed to its Producer's Run. Its methods are
// safe for concurrent use, but must not be called from inside an Update or
// Reset function or from Producer.Snapshot (the topic is locked there).
type Topic struct {
	hub      *Hub
	name     string
	producer Producer
	cancel   context.CancelFunc // of Run's context

	mu    sync.Mutex
	live  bool   // false once stopped, by linger, failure or hub close
	fail  *entry // the Ended entry, once Run returned on its own
	epoch string
	seq   uint64
	hist  history
	snap  []byte // Snapshot() at (epoch, seq), shared; nil when unknown
	subs  map[*Subscriber]*subscription

	linger    *time.Timer // armed while live with no subscriber
	lingerGen uint64      // tells a stale timer from the armed one
}

// newEpoch returns 16 random hex digits.
func newEpoch() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b[:])
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Position returns the topic's current position: that of its last change,
// or (epoch, 0) when it has none in this epoch.
func (t *Topic) Position() Position {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Position{t.epoch, t.seq}
}

// Update runs fn with the topic locked: fn changes the producer's state and
// returns that change encoded, or nil when nothing changed. A non-nil
// change gets the next seq, goes into the history and into every
// subscriber's queue; the hub keeps the slice, so it must not be modified
// afterwards. Update never waits for a subscriber to read: one whose queue
// overflows is closed with ReasonSlow. fn's error is returned and nothing
// is published. Once the topic is stopped Update returns ErrStopped without
// calling fn.
func (t *Topic) Update(fn func() (change []byte, err error)) error {
	cut, err := t.update(fn)
	for _, c := range cut {
		c.s.detach(c.subs)
	}
	return err
}

// cut is a subscriber closed as slow while the topic was locked; its other
// topics are left once the lock is released (lock order: topic, then
// subscriber, never two topics).
type cut struct {
	s    *Subscriber
	subs []*subscription
}

func (t *Topic) update(fn func() ([]byte, error)) (cuts []cut, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.live {
		return nil, ErrStopped
	}
	data, err := fn()
	if err != nil || data == nil {
		return nil, err
	}
	t.seq++
	t.snap = nil
	e := &entry{epoch: t.epoch, seq: t.seq, data: data}
	t.hist.push(e)
	size := len(data) + itemOverhead
	for s, sub := range t.subs {
		if subs, ok := s.publish(sub, e, size, t.hub.queueBytes); !ok {
			delete(t.subs, s)
			cuts = append(cuts, cut{s, subs})
		}
	}
	if len(cuts) > 0 {
		t.armLingerLocked()
	}
	return cuts, nil
}

// Reset runs fn (which may be nil) with the topic locked, for a change of
// state that cannot be told as a change: say the backend came back after a
// gap. It then starts a new epoch at seq 0, drops the history, and gives
// every subscriber a fresh snapshot (Recovered false) in place of the
// changes it had not read yet. The new epoch starts even when fn fails,
// since fn may have changed the state partway; fn's error is returned.
// Once the topic is stopped Reset returns ErrStopped without calling fn.
func (t *Topic) Reset(fn func() error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.live {
		return ErrStopped
	}
	var err error
	if fn != nil {
		err = fn()
	}
	t.epoch = newEpoch()
	t.seq = 0
	t.snap = nil
	t.hist.reset()
	for s, sub := range t.subs {
		s.resnapshot(sub)
	}
	return err
}

// snapshotLocked returns the snapshot at the current position, made by
// the producer or shared with an earlier caller at the same position.
func (t *Topic) snapshotLocked() ([]byte, error) {
	if t.snap != nil {
		return t.snap, nil
	}
	data, err := t.producer.Snapshot()
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	t.snap = data
	return data, nil
}

// attach subscribes s to t from (maybe) a position. It reports false when
// t was stopped by the hub since the hub returned it, so that the caller
// activates anew.
func (t *Topic) attach(s *Subscriber, from *Position) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.live && t.fail == nil {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		t.armLingerLocked()
		return true, s.err
	}
	if s.subs[t.name] != nil {
		t.armLingerLocked()
		return true, fmt.Errorf("%w: %s", ErrAlreadySubscribed, t.name)
	}
	if t.fail != nil {
		// Run returned in the moment between activation and now: this
		// subscriber learns it as the others did, from an Ended message,
		// rather than looping on a producer that fails at once.
		sub := &subscription{topic: t, name: t.name}
		s.subs[t.name] = sub
		s.push(item{sub: sub, kind: Ended, e: t.fail})
		return true, nil
	}
	sub := &subscription{topic: t, name: t.name, active: true}
	s.subs[t.name] = sub
	t.subs[s] = sub
	t.disarmLingerLocked()

	var replay []*entry
	ok := false
	if from != nil {
		sub.pos, sub.hasPos = *from, true
		if from.Epoch == t.epoch {
			replay, ok = t.hist.since(from.Seq, t.seq)
		}
	}
	switch {
	case !ok:
		s.push(item{sub: sub, kind: Snapshot})
		sub.pending = true
	case len(replay) == 0:
		s.push(item{sub: sub, kind: Resumed, recovered: true,
			e: &entry{epoch: t.epoch, seq: t.seq}})
	default:
		for i, e := range replay {
			s.push(item{sub: sub, kind: Change, recovered: i == 0, e: e})
		}
	}
	return true, nil
}

// detach removes s from t if sub is still its subscription.
func (t *Topic) detach(s *Subscriber, sub *subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.subs[s] == sub {
		delete(t.subs, s)
		t.armLingerLocked()
	}
}

// armLingerLocked starts the linger timer if the topic is live, has no
// subscriber and no timer yet.
func (t *Topic) armLingerLocked() {
	if !t.live || len(t.subs) > 0 || t.linger != nil {
		return
	}
	t.lingerGen++
	gen := t.lingerGen
	t.linger = time.AfterFunc(t.hub.linger, func() { t.expire(gen) })
}

func (t *Topic) disarmLingerLocked() {
	if t.linger != nil {
		t.linger.Stop()
		t.linger = nil
		t.lingerGen++
	}
}

// expire stops the topic if the timer of generation gen is still the
// armed one (no subscriber came back meanwhile).
func (t *Topic) expire(gen uint64) {
	h := t.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.live || t.lingerGen != gen || len(t.subs) > 0 {
		return
	}
	t.linger = nil
	if h.topics[t.name] == t {
		delete(h.topics, t.name)
	}
	t.stopLocked()
}

// stopLocked marks the topic stopped and cancels Run's context. The caller
// has removed it from the hub's map.
func (t *Topic) stopLocked() {
	if !t.live {
		return
	}
	t.live = false
	t.disarmLingerLocked()
	t.snap = nil
	t.hist.reset()
	t.cancel()
}

// run is the producer goroutine, owned by the hub (Hub.wg); named so that
// it stands out in stack dumps.
func (t *Topic) run(ctx context.Context) {
	defer t.hub.wg.Done()
	err := t.producer.Run(ctx, t)
	t.ended(err)
}

// ended handles Run's return. When the topic was not stopped by the hub it
// failed: it is torn down and its subscribers get Ended.
func (t *Topic) ended(err error) {
	h := t.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.live {
		return
	}
	if h.topics[t.name] == t {
		delete(h.topics, t.name)
	}
	t.stopLocked()
	if err == nil {
		err = ErrStopped
	}
	t.fail = &entry{err: fmt.Errorf("topics: %s: producer: %w", t.name, err)}
	for s, sub := range t.subs {
		s.end(sub, t.fail)
	}
	clear(t.subs)
}
