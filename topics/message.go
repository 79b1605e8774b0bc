package topics

import (
	"context"
	"fmt"
)

// Kind says what a Message is.
type Kind uint8

const (
	// Snapshot: Data is the topic's whole state at (Epoch, Seq); it
	// replaces whatever the client had. The first message of a fresh
	// subscription, of a resume that could not be recovered, and after a
	// Reset (a new Epoch).
	Snapshot Kind = iota + 1
	// Change: Data is change Seq of Epoch, to apply on top of Seq-1.
	Change
	// Resumed: a resume from exactly the topic's current position
	// succeeded; there is nothing to replay. No Data; Recovered is true.
	Resumed
	// Ended: the topic's producer stopped on its own, or failed to make a
	// snapshot; Err says why. Nothing more comes for the topic and, once
	// Next has returned this, the subscription is gone: Subscribe again to
	// restart the topic.
	Ended
)

// String returns "snapshot", "change", "resumed" or "ended".
func (k Kind) String() string {
	switch k {
	case Snapshot:
		return "snapshot"
	case Change:
		return "change"
	case Resumed:
		return "resumed"
	case Ended:
		return "ended"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Message is what a Subscriber receives. For each topic, messages come in
// order: a Snapshot (or a resume's replay or Resumed), then Changes with
// consecutive seqs, a new Snapshot after a Reset, and at most one Ended.
// Messages of different topics interleave in publishing order.
type Message struct {
	Topic string
	Kind  Kind
	Epoch string // empty for Ended
	Seq   uint64

	// Recovered is true on the first message after a successful resume
	// (the first replayed Change, or Resumed) and false everywhere else,
	// notably on a Snapshot that replaces an unrecoverable position.
	Recovered bool

	// Data is the snapshot or change as the producer encoded it, once for
	// every subscriber: it is shared and must not be modified.
	Data []byte

	// Err is why the topic ended, for Ended only; it wraps the producer's
	// error (ErrStopped if Run returned nil).
	Err error
}

// Position returns the message's (Epoch, Seq).
func (m Message) Position() Position { return Position{m.Epoch, m.Seq} }

// Next returns the next message, waiting for one until ctx is done (then
// it returns ctx.Err()). A snapshot is made when Next reaches it, under the
// topic's lock and at the topic's position at that instant; changes
// published before that are in it and are not delivered separately.
//
// Once the subscriber is closed, whatever the reason, Next returns its
// *CloseError at once: messages still queued are dropped, not drained, so
// CloseError.Positions (updated by every message Next returns) is exactly
// where a resume must start. Next must not be called concurrently with
// itself.
func (s *Subscriber) Next(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return Message{}, err
		}
		if s.q.len() > 0 {
			it := s.q.front()
			if it.kind != Snapshot {
				it := s.q.pop()
				s.bytes -= it.size
				m := Message{
					Topic:     it.sub.name,
					Kind:      it.kind,
					Epoch:     it.e.epoch,
					Seq:       it.e.seq,
					Recovered: it.recovered,
					Data:      it.e.data,
					Err:       it.e.err,
				}
				if it.kind == Ended {
					if s.subs[m.Topic] == it.sub {
						delete(s.subs, m.Topic)
					}
				} else {
					it.sub.pos, it.sub.hasPos = m.Position(), true
				}
				s.mu.Unlock()
				return m, nil
			}
			sub := it.sub
			s.mu.Unlock()
			if m, ok := s.snapshot(sub); ok {
				return m, nil
			}
			continue
		}
		s.mu.Unlock()
		if done := ctx.Done(); done == nil {
			<-s.wake // cheaper than a select, for a context that never ends
		} else {
			select {
			case <-s.wake:
			case <-done:
				return Message{}, ctx.Err()
			}
		}
	}
}

// snapshot turns the snapshot marker at the head of the queue, for sub,
// into a message. It reports false when the caller should look at the
// queue again: the marker went away (closed, unsubscribed) or was stale
// (its subscription ended), and is then dropped.
func (s *Subscriber) snapshot(sub *subscription) (Message, bool) {
	t := sub.topic
	t.mu.Lock()
	defer t.mu.Unlock()

	// The topic lock keeps the marker where it is against everything but
	// close; check it, then release s.mu while the producer encodes, so
	// other topics can publish to s meanwhile.
	s.mu.Lock()
	if !s.headIsMarker(sub) {
		s.mu.Unlock()
		return Message{}, false
	}
	if !sub.active || !t.live {
		s.q.pop()
		s.mu.Unlock()
		return Message{}, false
	}
	s.mu.Unlock()

	data, err := t.snapshotLocked()

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.headIsMarker(sub) {
		return Message{}, false
	}
	s.q.pop()
	if err != nil {
		sub.active = false
		delete(s.subs, sub.name)
		if t.subs[s] == sub {
			delete(t.subs, s)
			t.armLingerLocked()
		}
		return Message{
			Topic: sub.name,
			Kind:  Ended,
			Err:   fmt.Errorf("topics: %s: snapshot: %w", sub.name, err),
		}, true
	}
	sub.pending = false
	sub.pos, sub.hasPos = Position{t.epoch, t.seq}, true
	return Message{Topic: sub.name, Kind: Snapshot, Epoch: t.epoch, Seq: t.seq, Data: data}, true
}

func (s *Subscriber) headIsMarker(sub *subscription) bool {
	if s.err != nil || s.q.len() == 0 {
		return false
	}
	it := s.q.front()
	return it.sub == sub && it.kind == Snapshot
}
