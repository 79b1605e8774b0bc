package topics

import (
	"errors"
	"fmt"
	"sync"
)

// Subscriber is one connection's view of the hub: a set of topics and one
// queue of messages from all of them, read with Next. Subscribe,
// Unsubscribe, Close and Err are safe for concurrent use with each other
// and with Next; Next itself is meant for a single goroutine (the
// connection's writer) and must not be called concurrently with itself.
type Subscriber struct {
	hub  *Hub
	wake chan struct{} // a token when the queue turns non-empty, or on close

	mu    sync.Mutex
	err   *CloseError // nil while open
	subs  map[string]*subscription
	q     ring[item]
	bytes int // of live changes in q, against Options.QueueBytes
}

// subscription is one subscriber's membership in one activation of a
// topic. Its fields are guarded by the subscriber's lock; topic and name
// never change.
type subscription struct {
	topic  *Topic
	name   string
	active bool // false once unsubscribed, ended or closed

	// pending is set while a snapshot marker for this subscription is
	// queued: changes are not queued meanwhile, the snapshot will hold them.
	pending bool

	pos    Position // where the client's state is, for CloseError
	hasPos bool
}

// item is one queued message. A Snapshot item is a marker: the snapshot
// is made when Next reaches it.
type item struct {
	sub       *subscription
	e         *entry // nil for a Snapshot marker
	kind      Kind
	recovered bool
	size      int // counted against QueueBytes: live changes only
}

// itemOverhead is what a queued change costs beyond its data, roughly the
// item plus its share of the entry.
const itemOverhead = 64

// Subscribe adds topic to the subscriber, starting its producer if it is
// not active. With from nil the first message for the topic is a Snapshot.
// With a position from an earlier connection (a Message's, or one of
// CloseError.Positions), the subscriber resumes: when the topic is in the
// same epoch and its history still holds every change after from, those
// changes come first, the first of them with Recovered set, or, if there
// are none, one Resumed message at from; otherwise (another epoch, too old,
// in the future, or the producer was restarted) a Snapshot with Recovered
// false replaces the client's state. Never a partial replay.
//
// Errors: one wrapping ErrInvalidTopic; the Factory's error (wrapping
// ErrUnknownTopic); one wrapping ErrAlreadySubscribed; a *CloseError
// (matching ErrClosed) once the subscriber is closed. A producer that fails
// is reported by an Ended message, not here.
func (s *Subscriber) Subscribe(topic string, from *Position) error {
	if err := checkName(topic); err != nil {
		return err
	}
	s.mu.Lock()
	err, dup := s.closeErr(), s.subs[topic] != nil
	s.mu.Unlock()
	switch {
	case err != nil:
		return err
	case dup:
		return fmt.Errorf("%w: %s", ErrAlreadySubscribed, topic)
	}
	for {
		t, err := s.hub.activate(topic)
		if errors.Is(err, errHubClosed) {
			if err := s.Err(); err != nil {
				return err
			}
			return &CloseError{Reason: ReasonHubClosed, Positions: map[string]Position{}}
		}
		if err != nil {
			return err
		}
		if ok, err := t.attach(s, from); ok {
			return err
		}
		// t lingered out or the hub closed in between: look again.
	}
}

// maxName is the longest topic name accepted.
const maxName = 200

// checkName accepts 1 to 200 bytes of printable ASCII without spaces.
func checkName(name string) error {
	if name == "" || len(name) > maxName {
		return fmt.Errorf("%w: %d bytes", ErrInvalidTopic, len(name))
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%w: %q", ErrInvalidTopic, name)
		}
	}
	return nil
}

// Unsubscribe removes topic from the subscriber and drops the messages
// queued for it, an Ended included: once Unsubscribe returns, Next returns
// nothing more for it (bar one that a concurrent Next was already
// returning). The topic's producer lingers (Options.Linger) if this was
// its last subscriber. It returns an error wrapping ErrNotSubscribed if
// the subscriber does not have the topic (or Next has returned its Ended),
// or a *CloseError once closed.
func (s *Subscriber) Unsubscribe(topic string) error {
	s.mu.Lock()
	sub, err := s.subs[topic], s.closeErr()
	s.mu.Unlock()
	switch {
	case err != nil:
		return err
	case sub == nil:
		return fmt.Errorf("%w: %s", ErrNotSubscribed, topic)
	}
	t := sub.topic
	t.mu.Lock()
	defer t.mu.Unlock()
	s.mu.Lock()
	if err := s.closeErr(); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.subs[topic] != sub { // a concurrent Unsubscribe, or its Ended returned
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNotSubscribed, topic)
	}
	sub.active = false
	delete(s.subs, topic)
	s.dropLocked(sub)
	s.mu.Unlock()
	if t.subs[s] == sub {
		delete(t.subs, s)
		t.armLingerLocked()
	}
	return nil
}

// Close closes the subscriber with ReasonClosed, leaving all its topics
// and dropping its queue; a Next waiting in another goroutine returns the
// *CloseError. It may be called more than once and returns nil.
func (s *Subscriber) Close() error {
	s.close(ReasonClosed)
	return nil
}

// Err returns nil while the subscriber is open and its *CloseError once it
// is closed.
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr()
}

// closeErr returns s.err as an error, nil (not a typed nil) while open.
func (s *Subscriber) closeErr() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

func (s *Subscriber) close(r Reason) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	subs := s.shutLocked(r, "")
	s.mu.Unlock()
	s.detach(subs)
}

// shutLocked closes s: records why and where each topic stands, drops the
// queue, wakes Next. It returns the subscriptions to detach from their
// topics once no topic lock is held.
func (s *Subscriber) shutLocked(r Reason, topic string) []*subscription {
	pos := make(map[string]Position, len(s.subs))
	subs := make([]*subscription, 0, len(s.subs))
	for name, sub := range s.subs {
		if sub.hasPos && sub.active {
			pos[name] = sub.pos
		}
		sub.active = false
		subs = append(subs, sub)
	}
	s.err = &CloseError{Reason: r, Topic: topic, Positions: pos}
	s.subs = nil
	s.q.reset()
	s.bytes = 0
	s.signal() // a waiting Next wakes up and finds s.err
	return subs
}

// detach removes the closed s from the topics of subs and from the hub.
func (s *Subscriber) detach(subs []*subscription) {
	for _, sub := range subs {
		sub.topic.detach(s, sub)
	}
	s.hub.forget(s)
}

// push queues it and wakes Next if the queue was empty. s.mu is held.
func (s *Subscriber) push(it item) {
	s.q.push(it)
	if s.q.len() == 1 {
		s.signal()
	}
}

func (s *Subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default: // a token is already there
	}
}

// publish queues a live change for sub, with the topic locked. It returns
// ok false when the change overflowed the queue: s is then closed with
// ReasonSlow and subs are the subscriptions to detach (the caller removes
// s from the publishing topic itself).
func (s *Subscriber) publish(sub *subscription, e *entry, size, limit int) (subs []*subscription, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || !sub.active || sub.pending {
		return nil, true
	}
	if s.bytes > 0 && s.bytes+size > limit {
		return s.shutLocked(ReasonSlow, sub.name), false
	}
	s.bytes += size
	s.push(item{sub: sub, e: e, kind: Change, size: size})
	return nil, true
}

// resnapshot replaces sub's queued messages with a snapshot marker, after
// a Reset, with the topic locked.
func (s *Subscriber) resnapshot(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || !sub.active {
		return
	}
	s.dropLocked(sub)
	s.push(item{sub: sub, kind: Snapshot})
	sub.pending = true
}

// end queues Ended for sub, whose topic failed, with the topic locked.
// Changes already queued stay ahead of it. The subscription stays in
// s.subs, inactive, until Next returns the Ended (or Unsubscribe drops
// it), so that a Subscribe meanwhile cannot be mistaken for the topic that
// ended.
func (s *Subscriber) end(sub *subscription, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || !sub.active {
		return
	}
	sub.active = false
	s.push(item{sub: sub, kind: Ended, e: e})
}

// dropLocked removes sub's queued messages.
func (s *Subscriber) dropLocked(sub *subscription) {
	s.q.filter(func(it *item) bool {
		if it.sub != sub {
			return true
		}
		s.bytes -= it.size
		return false
	})
}
