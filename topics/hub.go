package topics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Producer is the source of one topic.
//
// The hub calls Run in a goroutine it owns when a topic's first subscriber
// arrives, and cancels ctx (then waits for Run to return) once the topic
// has had no subscriber for Options.Linger, or when the Hub is closed. Run
// changes the producer's state only inside t.Update and t.Reset, and
// returns soon after ctx is done. If Run returns before that, with an error
// or nil, the topic is torn down and each of its subscribers gets an Ended
// message carrying the error (ErrStopped for nil); a later Subscribe starts
// a new producer. The hub does not restart producers by itself. A new
// producer of the same name may start while the previous one's Run, its
// context cancelled, is still returning.
//
// Snapshot encodes the producer's whole state. The hub calls it with the
// topic locked, so no Update or Reset function runs at the same time, from
// the goroutine of some subscriber's Next, possibly before Run has done
// anything (the snapshot then describes the initial state, say an empty
// list) and possibly after Run has returned. It must not call the Topic's
// methods. The bytes returned are shared with subscribers and must not be
// modified afterwards. An error ends that one subscription (an Ended
// message); the producer keeps running.
type Producer interface {
	Run(ctx context.Context, t *Topic) error
	Snapshot() ([]byte, error)
}

// Factory makes the producer of the topic called name, or returns an error
// wrapping ErrUnknownTopic (or any other error, which Subscribe returns).
// It is called once per activation of a topic, with the hub's lock held: it
// must be quick and must not call the Hub. Starting work belongs in Run.
type Factory func(name string) (Producer, error)

// Options tune a Hub. The zero value (or nil) gives the documented
// defaults.
type Options struct {
	// History is how many changes a topic keeps for resumes. Zero means
	// 1024; negative means none (a resume then succeeds only from the
	// current position).
	History int

	// HistoryBytes bounds the data a topic's history holds; the oldest
	// changes are dropped first. Zero means 4 MiB.
	HistoryBytes int

	// Linger is how long a topic's producer keeps running, and its history
	// is kept, after its last subscriber leaves, so that a client that
	// reconnects quickly can resume. Zero means 30 s.
	Linger time.Duration

	// QueueBytes bounds each subscriber's backlog of live changes, counted
	// as len(Data) plus a small per-message constant. A change that would
	// take the backlog over the bound closes the subscriber with ReasonSlow,
	// except that one change bigger than the whole bound is still accepted
	// into an empty backlog. Snapshots, resume replays and markers are not
	// counted: a snapshot is made only when Next reaches it (so it is never
	// queued), and a replay references changes the history holds anyway.
	// Zero means 1 MiB.
	QueueBytes int
}

// Defaults for the zero Options.
const (
	defaultHistory      = 1024
	defaultHistoryBytes = 4 << 20
	defaultLinger       = 30 * time.Second
	defaultQueueBytes   = 1 << 20
)

// Hub serves named topics to subscribers. All its methods are safe for
// concurrent use.
type Hub struct {
	factory      Factory
	history      int
	historyBytes int
	linger       time.Duration
	queueBytes   int

	wg sync.WaitGroup // one per producer goroutine (Topic.run)

	mu     sync.Mutex
	closed bool
	topics map[string]*Topic        // active, lingering included
	subs   map[*Subscriber]struct{} // open subscribers, for Close
}

// errHubClosed tells Subscribe that activate found the hub closed.
var errHubClosed = errors.New("topics: hub closed")

// NewHub returns a Hub whose topics are made by f, which must not be nil.
// opts may be nil.
func NewHub(f Factory, opts *Options) *Hub {
	if f == nil {
		panic("topics: NewHub with a nil Factory")
	}
	if opts == nil {
		opts = &Options{}
	}
	h := &Hub{
		factory:      f,
		history:      opts.History,
		historyBytes: opts.HistoryBytes,
		linger:       opts.Linger,
		queueBytes:   opts.QueueBytes,
		topics:       make(map[string]*Topic),
		subs:         make(map[*Subscriber]struct{}),
	}
	if h.history == 0 {
		h.history = defaultHistory
	}
	if h.historyBytes <= 0 {
		h.historyBytes = defaultHistoryBytes
	}
	if h.linger <= 0 {
		h.linger = defaultLinger
	}
	if h.queueBytes <= 0 {
		h.queueBytes = defaultQueueBytes
	}
	return h
}

// NewSubscriber returns a Subscriber with no topics, for one connection.
// On a closed Hub the Subscriber is already closed with ReasonHubClosed.
func (h *Hub) NewSubscriber() *Subscriber {
	s := &Subscriber{
		hub:  h,
		wake: make(chan struct{}, 1),
		subs: make(map[string]*subscription),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.mu.Lock()
		s.shutLocked(ReasonHubClosed, "")
		s.mu.Unlock()
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Topics returns the names of the active topics, sorted: those with a
// running producer, including those lingering without subscribers.
func (h *Hub) Topics() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.topics))
}

// Close stops every producer and waits for their Run to return, and closes
// every subscriber with ReasonHubClosed. It may be called more than once
// and from several goroutines; every call returns once all producers have
// returned. It returns nil.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	ts := slices.Collect(maps.Values(h.topics))
	ss := slices.Collect(maps.Keys(h.subs))
	clear(h.topics)
	clear(h.subs)
	h.mu.Unlock()

	for _, t := range ts {
		t.mu.Lock()
		t.stopLocked()
		t.mu.Unlock()
	}
	for _, s := range ss {
		s.close(ReasonHubClosed)
	}
	h.wg.Wait()
	return nil
}

// activate returns the active topic called name, starting its producer if
// there is none.
func (h *Hub) activate(name string) (*Topic, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errHubClosed
	}
	if t := h.topics[name]; t != nil {
		return t, nil
	}
	p, err := h.factory(name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("topics: factory returned no producer for %q", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Topic{
		hub:      h,
		name:     name,
		producer: p,
		cancel:   cancel,
		live:     true,
		epoch:    newEpoch(),
		hist:     history{max: h.history, maxBytes: h.historyBytes},
		subs:     make(map[*Subscriber]*subscription),
	}
	h.topics[name] = t
	h.wg.Add(1)
	go t.run(ctx)
	return t, nil
}

// forget drops a closed subscriber from the set Close walks.
func (h *Hub) forget(s *Subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}
