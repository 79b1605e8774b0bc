package topics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/topics"
)

// kv is the test producer. Change k sets key k%7 to k, so the state after
// k changes is known without keeping it (want); a snapshot carries the
// producer's own count, which must equal the snapshot's seq.
type kv struct {
	name    string
	topic   atomic.Pointer[topics.Topic]
	running chan struct{} // closed when Run starts
	stopped chan struct{} // closed when Run returns
	fail    chan error    // Run returns what is sent here

	snapshots atomic.Int64 // calls of Snapshot
	snapErr   atomic.Pointer[error]

	// Guarded by the topic lock.
	n    uint64
	vals map[uint64]uint64
}

type kvSnapshot struct {
	N    uint64            `json:"n"`
	Vals map[uint64]uint64 `json:"vals"`
}

type kvChange struct {
	K uint64 `json:"k"`
	V uint64 `json:"v"`
}

func newKV(name string) *kv {
	return &kv{
		name:    name,
		running: make(chan struct{}),
		stopped: make(chan struct{}),
		fail:    make(chan error, 1),
		vals:    map[uint64]uint64{},
	}
}

func (p *kv) Run(ctx context.Context, t *topics.Topic) error {
	defer close(p.stopped)
	p.topic.Store(t)
	close(p.running)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-p.fail:
		return err
	}
}

func (p *kv) Snapshot() ([]byte, error) {
	p.snapshots.Add(1)
	if err := p.snapErr.Load(); err != nil {
		return nil, *err
	}
	return json.Marshal(kvSnapshot{N: p.n, Vals: p.vals})
}

// T waits for Run to start and returns its topic.
func (p *kv) T(tb testing.TB) *topics.Topic {
	tb.Helper()
	select {
	case <-p.running:
		return p.topic.Load()
	case <-time.After(5 * time.Second):
		tb.Fatalf("producer of %s never ran", p.name)
		return nil
	}
}

// set publishes count changes.
func (p *kv) set(tb testing.TB, count int) {
	tb.Helper()
	t := p.T(tb)
	for range count {
		if err := p.update(t); err != nil {
			tb.Fatal(err)
		}
	}
}

// update publishes one change on t, the producer's topic.
func (p *kv) update(t *topics.Topic) error {
	return t.Update(func() ([]byte, error) {
		p.n++
		p.vals[p.n%7] = p.n
		return json.Marshal(kvChange{K: p.n % 7, V: p.n})
	})
}

// reset starts a new epoch with the producer's count back at 0.
func (p *kv) reset(t *topics.Topic) error {
	return t.Reset(func() error {
		p.n = 0
		clear(p.vals)
		return nil
	})
}

func (p *kv) waitStopped(tb testing.TB) {
	tb.Helper()
	select {
	case <-p.stopped:
	case <-time.After(5 * time.Second):
		tb.Fatalf("producer of %s never stopped", p.name)
	}
}

func (p *kv) isStopped() bool {
	select {
	case <-p.stopped:
		return true
	default:
		return false
	}
}

// want is the kv state after changes 1…n.
func want(n uint64) map[uint64]uint64 {
	m := map[uint64]uint64{}
	for k := n; k >= 1 && k+7 > n; k-- {
		m[k%7] = k
	}
	return m
}

// env is a hub whose factory makes kv producers for names starting with
// "t" and records every activation.
type env struct {
	hub *topics.Hub

	mu   sync.Mutex
	made map[string][]*kv
}

func newEnv(tb testing.TB, opts *topics.Options) *env {
	tb.Helper()
	e := &env{made: map[string][]*kv{}}
	e.hub = topics.NewHub(e.factory, opts)
	tb.Cleanup(func() {
		e.hub.Close()
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, ps := range e.made {
			for _, p := range ps {
				if !p.isStopped() {
					tb.Errorf("producer of %s still running after Hub.Close", p.name)
				}
			}
		}
	})
	return e
}

func (e *env) factory(name string) (topics.Producer, error) {
	if !strings.HasPrefix(name, "t") {
		return nil, fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
	}
	p := newKV(name)
	e.mu.Lock()
	e.made[name] = append(e.made[name], p)
	e.mu.Unlock()
	return p, nil
}

// activations returns how many producers of name were made.
func (e *env) activations(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.made[name])
}

// p returns the latest producer of name.
func (e *env) p(tb testing.TB, name string) *kv {
	tb.Helper()
	p := e.latest(name)
	if p == nil {
		tb.Fatalf("no producer of %s", name)
	}
	return p
}

// latest returns the latest producer of name, or nil.
func (e *env) latest(name string) *kv {
	e.mu.Lock()
	defer e.mu.Unlock()
	ps := e.made[name]
	if len(ps) == 0 {
		return nil
	}
	return ps[len(ps)-1]
}

func (e *env) sub(tb testing.TB, names ...string) *topics.Subscriber {
	tb.Helper()
	s := e.hub.NewSubscriber()
	tb.Cleanup(func() { s.Close() })
	for _, n := range names {
		if err := s.Subscribe(n, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// next returns the subscriber's next message or fails.
func next(tb testing.TB, s *topics.Subscriber) topics.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := s.Next(ctx)
	if err != nil {
		tb.Fatalf("Next: %v", err)
	}
	return m
}

// none fails if the subscriber has a message within a short while.
func none(tb testing.TB, s *topics.Subscriber) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if m, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		tb.Fatalf("Next = %+v, %v; want nothing", m, err)
	}
}

// client is what a gateway client holds for one kv topic; apply checks
// every message against the stream rules and the producer's known state.
type client struct {
	epoch string
	seq   uint64
	vals  map[uint64]uint64
	ok    bool // has a state
}

func (c *client) apply(m topics.Message) error {
	switch m.Kind {
	case topics.Snapshot:
		var s kvSnapshot
		if err := json.Unmarshal(m.Data, &s); err != nil {
			return err
		}
		if s.N != m.Seq {
			return fmt.Errorf("snapshot at seq %d holds %d changes", m.Seq, s.N)
		}
		if m.Recovered {
			return errors.New("snapshot flagged recovered")
		}
		c.epoch, c.seq, c.vals, c.ok = m.Epoch, m.Seq, s.Vals, true
		if c.vals == nil {
			c.vals = map[uint64]uint64{}
		}
	case topics.Change:
		if !c.ok || m.Epoch != c.epoch || m.Seq != c.seq+1 {
			return fmt.Errorf("change %s:%d after %s:%d", m.Epoch, m.Seq, c.epoch, c.seq)
		}
		var ch kvChange
		if err := json.Unmarshal(m.Data, &ch); err != nil {
			return err
		}
		c.vals[ch.K] = ch.V
		c.seq = m.Seq
	case topics.Resumed:
		if !c.ok || m.Epoch != c.epoch || m.Seq != c.seq || !m.Recovered {
			return fmt.Errorf("resumed %s:%d recovered=%v at %s:%d", m.Epoch, m.Seq, m.Recovered, c.epoch, c.seq)
		}
	default:
		return fmt.Errorf("unexpected %v: %v", m.Kind, m.Err)
	}
	if !maps.Equal(c.vals, want(c.seq)) {
		return fmt.Errorf("state at seq %d is %v, want %v", c.seq, c.vals, want(c.seq))
	}
	return nil
}

func (c *client) pos() *topics.Position {
	return &topics.Position{Epoch: c.epoch, Seq: c.seq}
}
