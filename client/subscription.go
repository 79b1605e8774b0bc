package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Position is a point in a topic's stream: subscribe with the last one seen
// to get exactly what was missed.
type Position struct {
	Epoch string `json:"epoch"`
	Seq   uint64 `json:"seq"`
}

// Message kinds, as docs/protocol.md names them.
const (
	KindSnapshot = "snapshot"
	KindChange   = "change"
	KindResumed  = "resumed"
	KindEnded    = "ended"
)

// Message is one rtgate.message notification of a topic.
type Message struct {
	Topic     string          `json:"topic"`
	Kind      string          `json:"kind"`
	Epoch     string          `json:"epoch"`
	Seq       uint64          `json:"seq"`
	Recovered *bool           `json:"recovered,omitempty"` // set on the first message after a resume
	Data      json.RawMessage `json:"data,omitempty"`
	Error     string          `json:"error,omitempty"` // on KindEnded
}

// Position returns the message's place in its topic's stream.
func (m Message) Position() Position { return Position{m.Epoch, m.Seq} }

// Subscription receives one topic's messages in order. Next must not be
// called from two goroutines at once; the other methods are safe anywhere.
type Subscription struct {
	c     *Client
	topic string
	limit int

	mu     sync.Mutex
	queue  []Message
	wake   chan struct{} // 1-buffered: something was queued or the end came
	err    error         // set once the subscription has ended
	last   Position      // of the last message Next returned
	resume Position      // what was asked for, until Next returns something
}

// Subscribe subscribes to topic. With from set (the Position of the last
// message seen, e.g. from a previous connection) rtgate replays exactly
// the missed changes, or sends a snapshot flagged Recovered=false when it
// cannot. The messages are read with Subscription.Next.
func (c *Client) Subscribe(ctx context.Context, topic string, from *Position) (*Subscription, error) {
	s := &Subscription{c: c, topic: topic, limit: c.queueLen, wake: make(chan struct{}, 1)}
	params := map[string]any{"topic": topic}
	if from != nil {
		params["epoch"], params["seq"] = from.Epoch, from.Seq
		s.resume = *from
	}

	// Registered before the request goes out. (rtgate answers before the
	// topic's first message, but nothing is lost if one came first.)
	c.mu.Lock()
	for {
		// An unsubscribe of the same topic still on its way (after an
		// overflow) must not arrive after this subscribe.
		pending := c.unsubs[topic]
		if pending == nil {
			break
		}
		c.mu.Unlock()
		select {
		case <-pending:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
		}
		c.mu.Lock()
		if c.err != nil {
			break
		}
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	if _, dup := c.subs[topic]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("client: already subscribed to %s", topic)
	}
	c.subs[topic] = s
	c.mu.Unlock()

	if _, err := c.call(ctx, "rtgate.subscribe", params); err != nil {
		c.mu.Lock()
		if c.subs[topic] == s {
			delete(c.subs, topic)
		}
		c.mu.Unlock()
		return nil, err
	}
	return s, nil
}

// Topic returns the subscribed topic's name.
func (s *Subscription) Topic() string { return s.topic }

// Next returns the next message, waiting for one. After the subscription
// ended (Unsubscribe, ErrOverflow, the connection closed, an ended topic)
// it returns the reason once the queue is drained.
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			m := s.queue[0]
			s.queue[0] = Message{}
			s.queue = s.queue[1:]
			s.last = m.Position()
			s.mu.Unlock()
			return m, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return Message{}, err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// Position returns the position to resume from: that of the last message
// Next returned, or the one the subscription was asked to resume from.
func (s *Subscription) Position() Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last != (Position{}) {
		return s.last
	}
	return s.resume
}

// Unsubscribe ends the subscription on rtgate and here.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	s.c.mu.Lock()
	if s.c.subs[s.topic] == s {
		delete(s.c.subs, s.topic)
	}
	s.c.mu.Unlock()
	s.end(ErrUnsubscribed)
	_, err := s.c.call(ctx, "rtgate.unsubscribe", map[string]any{"topic": s.topic})
	return err
}

func (s *Subscription) push(m Message) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.limit {
		s.mu.Unlock()
		done := make(chan struct{})
		s.c.mu.Lock()
		if s.c.subs[s.topic] == s {
			delete(s.c.subs, s.topic)
		}
		s.c.unsubs[s.topic] = done
		s.c.mu.Unlock()
		s.end(ErrOverflow)
		// Tell rtgate to stop sending, without blocking the reader that
		// called push; the Client owns and awaits the goroutine.
		s.c.background(func(ctx context.Context) {
			s.c.call(ctx, "rtgate.unsubscribe", map[string]any{"topic": s.topic}) //nolint:errcheck // best effort
			s.c.mu.Lock()
			if s.c.unsubs[s.topic] == done {
				delete(s.c.unsubs, s.topic)
			}
			s.c.mu.Unlock()
			close(done)
		})
		return
	}
	s.queue = append(s.queue, m)
	if m.Kind == KindEnded {
		s.err = &EndedError{Topic: s.topic, Reason: m.Error}
	}
	s.mu.Unlock()
	if m.Kind == KindEnded {
		s.c.mu.Lock()
		if s.c.subs[s.topic] == s {
			delete(s.c.subs, s.topic)
		}
		s.c.mu.Unlock()
	}
	s.signal()
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
