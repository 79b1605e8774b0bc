package stackcheck_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/internal/floodtest"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

var (
	composeCmd = flag.String("compose", "docker-compose", "the compose command; it runs with the environment's COMPOSE_FILE and COMPOSE_PROJECT_NAME")
	wsURL      = flag.String("ws", "", "rtgate's published WebSocket URL, ws://host:port/ws (empty: skip)")
	floodURL   = flag.String("flood", "", "Flood's published URL, http://host:port")
	tokenFile  = flag.String("token-file", "", "the file holding rtgate's token")
)

// within bounds each wait for the stack; a step waits at most this long
// for what it checks, however slow the machine.
const within = 60 * time.Second

// TestStack drives the running stack through what its users meet: Flood
// lists, adds and stops a download through rtgate; a /ws client follows
// the torrents and backend topics throughout; rTorrent is killed (rtgate
// stays up and reports the backend down on /ws and /readyz) and comes
// back; rtgate is restarted (the client resumes, with no gap); the stack
// goes down and up again (nothing is lost). Each step is a subtest; the
// first that fails ends the run, since the next ones build on it.
func TestStack(t *testing.T) {
	if *wsURL == "" {
		t.Skip("runs against a started compose stack: make test-compose (scripts/test-compose.sh)")
	}
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{
		token: strings.TrimSpace(string(tok)),
		http:  "http" + strings.TrimSuffix(strings.TrimPrefix(*wsURL, "ws"), "/ws"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	var watchers sync.WaitGroup
	defer func() {
		cancel()
		watchers.Wait()
	}()
	tr := rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("stackcheck-%d.bin", time.Now().UnixNano()), 256<<10)
	var flood *floodtest.Flood
	var torrents, backend *topicLog

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"rtgate is ready, its health endpoints open, /RPC2 behind the token", func(t *testing.T) {
			s.waitReady(t, true)
			if status, body := s.get(t, "/healthz", ""); status != 200 || body != "ok\n" {
				t.Errorf("/healthz: %d %q", status, body)
			}
			if status, _ := s.get(t, "/RPC2", ""); status != http.StatusUnauthorized {
				t.Errorf("/RPC2 without the token: %d, want 401", status)
			}
		}},
		{"a /ws client subscribes to torrents and backend", func(t *testing.T) {
			torrents, backend = newTopicLog("torrents"), newTopicLog("backend")
			for _, l := range []*topicLog{torrents, backend} {
				watchers.Add(1)
				go func() {
					defer watchers.Done()
					l.watch(ctx, *wsURL, s.token)
				}()
			}
			waitFor(t, "the first snapshots", func() bool {
				return torrents.snapshots() > 0 && backend.field("state") == "connected"
			})
			if backend.field("backend") != "rtorrent" {
				t.Errorf("backend topic: %v", backend.last())
			}
		}},
		{"Flood lists the downloads through rtgate", func(t *testing.T) {
			flood = attachFlood(t)
			if _, err := flood.Torrents(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"Flood adds a download through rtgate", func(t *testing.T) {
			if err := flood.AddFiles(t.Context(), [][]byte{tr.Bytes}, "/data/downloads", true); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(t.Context(), within)
			defer cancel()
			if _, err := flood.WaitTorrent(wctx, tr.Hash, nil); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the download on /ws", func() bool { return torrents.has(tr.Hash, "state", true) })
		}},
		{"Flood stops it through rtgate", func(t *testing.T) {
			if err := flood.StopTorrents(t.Context(), []string{tr.Hash}); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(t.Context(), within)
			defer cancel()
			if _, err := flood.WaitTorrent(wctx, tr.Hash, func(p floodtest.TorrentProps) bool { return p.HasStatus("stopped") }); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the stop on /ws", func() bool { return torrents.has(tr.Hash, "state", false) })
		}},
		{"rTorrent killed: rtgate stays up and reports the backend down on /ws and /readyz", func(t *testing.T) {
			before := containerState(t, "rtgate")
			compose(t, "kill", "rtorrent")
			r := s.waitReady(t, false)
			if r["reason"] != "the backend is not reachable" || r["backend"] != "rtorrent" {
				t.Errorf("/readyz with rTorrent gone: %v", r)
			}
			waitFor(t, "the backend topic to say so", func() bool {
				st := backend.field("state")
				return st == "disconnected" || st == "reconnecting"
			})
			if status, _ := s.get(t, "/healthz", ""); status != 200 {
				t.Errorf("/healthz with rTorrent gone: %d", status)
			}
			if after := containerState(t, "rtgate"); after != before {
				t.Errorf("the rtgate container changed: %s, then %s", before, after)
			}
		}},
		{"rTorrent back: rtgate recovers", func(t *testing.T) {
			compose(t, "start", "rtorrent")
			s.waitReady(t, true)
			waitFor(t, "the backend topic connected", func() bool { return backend.field("state") == "connected" })
			// A killed rTorrent comes back as its last session save left it:
			// the download (saved when added) started, since the stop was
			// not saved yet. rtgate shows what rTorrent has; stop it again.
			wctx, cancel := context.WithTimeout(t.Context(), within)
			defer cancel()
			p, err := flood.WaitTorrent(wctx, tr.Hash, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the download on /ws as Flood shows it", func() bool { return torrents.has(tr.Hash, "state", !p.HasStatus("stopped")) })
			if err := flood.StopTorrents(t.Context(), []string{tr.Hash}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the stop on /ws", func() bool { return torrents.has(tr.Hash, "state", false) })
		}},
		{"rtgate restarted: the /ws client resumes with no gap", func(t *testing.T) {
			seen := torrents.reconnects()
			compose(t, "restart", "rtgate")
			s.waitReady(t, true)
			waitFor(t, "the client back on the new rtgate", func() bool { return torrents.messagesAfterReconnect(seen+1) > 0 })
			// A new process has new epochs: the client's first message from
			// it must be a snapshot (flagged recovered:false when the client
			// asked to resume, which gaps checks), never a change of another
			// stream as if nothing happened.
			old := torrents.lastBeforeReconnect(seen + 1).Epoch
			waitFor(t, "a message of the new rtgate", func() bool { return torrents.firstOfAnotherEpoch(seen+1, old).Epoch != "" })
			if first := torrents.firstOfAnotherEpoch(seen+1, old); first.Kind != client.KindSnapshot {
				t.Errorf("first message of the new rtgate: %s %s:%d; the log: %s", first.Kind, first.Epoch, first.Seq, torrents.String())
			}
			if gaps := torrents.gaps(); len(gaps) > 0 {
				t.Errorf("torrents topic: %s; the log: %s", strings.Join(gaps, "; "), torrents.String())
			}
			waitFor(t, "the download in the new snapshot", func() bool { return torrents.has(tr.Hash, "state", false) })
			wctx, cancel := context.WithTimeout(t.Context(), within)
			defer cancel()
			if _, err := flood.WaitTorrent(wctx, tr.Hash, nil); err != nil {
				t.Errorf("Flood through the restarted rtgate: %v", err)
			}
		}},
		{"compose down and up: nothing lost", func(t *testing.T) {
			seen := torrents.reconnects()
			compose(t, "down")
			compose(t, "up", "-d")
			s.waitReady(t, true)
			flood = attachFlood(t)
			wctx, cancel := context.WithTimeout(t.Context(), within)
			defer cancel()
			if _, err := flood.WaitTorrent(wctx, tr.Hash, func(p floodtest.TorrentProps) bool { return p.HasStatus("stopped") }); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the /ws client on the new stack", func() bool { return torrents.messagesAfterReconnect(seen+1) > 0 })
			waitFor(t, "the download on /ws", func() bool { return torrents.has(tr.Hash, "state", false) })
		}},
		{"no gap on /ws: every change in order, every resume honest", func(t *testing.T) {
			for _, l := range []*topicLog{torrents, backend} {
				if gaps := l.gaps(); len(gaps) > 0 {
					t.Errorf("%s: %s", l.topic, strings.Join(gaps, "; "))
				}
				t.Logf("%s: %d messages, %d reconnects", l.topic, l.count(), l.reconnects())
			}
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			t.Fatalf("stopped at %q: the later steps build on it", st.name)
		}
	}
}

// stack is the running stack as the host reaches it.
type stack struct {
	token string
	http  string // rtgate's http://host:port
}

// get GETs path from rtgate, with the token unless it is empty.
func (s *stack) get(t *testing.T, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.http+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady waits until /readyz answers 200 (ready) or 503 (not) and
// returns its body.
func (s *stack) waitReady(t *testing.T, ready bool) map[string]any {
	t.Helper()
	want := http.StatusServiceUnavailable
	if ready {
		want = http.StatusOK
	}
	var body map[string]any
	var status int
	var raw string
	waitFor(t, fmt.Sprintf("/readyz to answer %d", want), func() bool {
		status, raw = s.get(t, "/readyz", "")
		body = nil
		return status == want && json.Unmarshal([]byte(raw), &body) == nil && body["ready"] == ready
	})
	return body
}

// attachFlood logs in to Flood, waiting until it answers.
func attachFlood(t *testing.T) *floodtest.Flood {
	t.Helper()
	var f *floodtest.Flood
	var err error
	waitFor(t, "Flood to answer", func() bool {
		f, err = floodtest.Attach(t.Context(), *floodURL)
		return err == nil
	})
	return f
}

// compose runs the compose command with args and fails t if it fails.
func compose(t *testing.T, args ...string) string {
	t.Helper()
	parts := strings.Fields(*composeCmd)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, parts[0], append(parts[1:], args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", *composeCmd, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// containerState is what changes when a service's container restarts:
// its id, start time and restart count.
func containerState(t *testing.T, service string) string {
	t.Helper()
	id := strings.TrimSpace(compose(t, "ps", "-q", service))
	out, err := exec.CommandContext(t.Context(), "docker", "inspect", "-f", "{{.Id}} {{.State.Running}} {{.State.StartedAt}} {{.RestartCount}}", id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect %s: %v\n%s", service, err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitFor polls cond until it holds, failing t after within. Every 100 ms,
// not rtorrenttest.WaitFor's 10: conds here are HTTP requests, and Flood
// allows 200 logins per 5 minutes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// topicLog follows one topic with client.Watch, keeping every message and
// every reconnect in order, and the state the messages build.
type topicLog struct {
	topic string

	mu      sync.Mutex
	entries []entry
	rows    map[string]map[string]any // torrents: hash → field → value
	object  map[string]any            // backend: the last message's data
}

// entry is one message, or (reconnect true) the end of a connection.
type entry struct {
	msg       client.Message
	reconnect bool
}

func newTopicLog(topic string) *topicLog {
	return &topicLog{topic: topic, rows: map[string]map[string]any{}}
}

// watch runs client.Watch until ctx ends.
func (l *topicLog) watch(ctx context.Context, url, token string) {
	client.Watch(ctx, url, &client.Options{Token: token}, l.topic, &client.WatchOptions{
		MaxBackoff: 2 * time.Second,
		OnReconnect: func(error, time.Duration) {
			l.mu.Lock()
			l.entries = append(l.entries, entry{reconnect: true})
			l.mu.Unlock()
		},
	}, func(m client.Message) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.entries = append(l.entries, entry{msg: m})
		l.apply(m)
		return nil
	})
}

// apply updates the state with m (the shapes of poller/doc.go).
func (l *topicLog) apply(m client.Message) {
	switch {
	case m.Kind == client.KindSnapshot && l.topic == "torrents":
		var snap struct {
			Torrents map[string]map[string]any `json:"torrents"`
		}
		json.Unmarshal(m.Data, &snap)
		l.rows = snap.Torrents
	case m.Kind == client.KindChange && l.topic == "torrents":
		var ch struct {
			Added   map[string]map[string]any `json:"added"`
			Changed map[string]map[string]any `json:"changed"`
			Removed []string                  `json:"removed"`
		}
		json.Unmarshal(m.Data, &ch)
		for h, row := range ch.Added {
			l.rows[h] = row
		}
		for h, fields := range ch.Changed {
			for k, v := range fields {
				if l.rows[h] != nil {
					l.rows[h][k] = v
				}
			}
		}
		for _, h := range ch.Removed {
			delete(l.rows, h)
		}
	case (m.Kind == client.KindSnapshot || m.Kind == client.KindChange) && l.topic == "backend":
		l.object = nil
		json.Unmarshal(m.Data, &l.object)
	}
}

// has reports whether the torrents state holds the download with field
// equal to want.
func (l *topicLog) has(hash, field string, want any) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	row, ok := l.rows[hash]
	return ok && row[field] == want
}

func (l *topicLog) field(name string) any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.object[name]
}

func (l *topicLog) last() map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.object
}

// countOf counts the entries so far that match.
func (l *topicLog) countOf(match func(entry) bool) (n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if match(e) {
			n++
		}
	}
	return n
}

func (l *topicLog) count() int {
	return l.countOf(func(e entry) bool { return !e.reconnect })
}

func (l *topicLog) snapshots() int {
	return l.countOf(func(e entry) bool { return !e.reconnect && e.msg.Kind == client.KindSnapshot })
}

func (l *topicLog) reconnects() int {
	return l.countOf(func(e entry) bool { return e.reconnect })
}

// afterReconnect returns the messages that came after the nth reconnect
// (1, 2, …) and before the next.
func (l *topicLog) afterReconnect(n int) []client.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []client.Message
	seen := 0
	for _, e := range l.entries {
		switch {
		case e.reconnect:
			seen++
		case seen >= n:
			out = append(out, e.msg)
		}
	}
	return out
}

func (l *topicLog) messagesAfterReconnect(n int) int { return len(l.afterReconnect(n)) }

// firstOfAnotherEpoch returns the first message after the nth reconnect
// whose epoch is not epoch (a zero Message if none came yet).
func (l *topicLog) firstOfAnotherEpoch(n int, epoch string) client.Message {
	for _, m := range l.afterReconnect(n) {
		if m.Kind != client.KindEnded && m.Epoch != epoch {
			return m
		}
	}
	return client.Message{}
}

// lastBeforeReconnect returns the last message before the nth reconnect
// that has a position.
func (l *topicLog) lastBeforeReconnect(n int) client.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last client.Message
	seen := 0
	for _, e := range l.entries {
		switch {
		case e.reconnect:
			if seen++; seen == n {
				return last
			}
		case e.msg.Kind != client.KindEnded:
			last = e.msg
		}
	}
	return last
}

// String lists the log compactly: kind epoch:seq, with recovered flags
// and reconnects.
func (l *topicLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.entries {
		switch {
		case e.reconnect:
			b.WriteString(" | reconnect")
		default:
			fmt.Fprintf(&b, " | %s %s:%d", e.msg.Kind, e.msg.Epoch, e.msg.Seq)
			if e.msg.Recovered != nil {
				fmt.Fprintf(&b, " recovered=%v", *e.msg.Recovered)
			}
		}
	}
	return b.String()
}

// gaps checks the protocol's promise over every message so far: a change
// follows the message before it in the same epoch at the next seq; after
// a reconnect the first message is a resume that recovered (resumed at the
// same position, or the next change flagged recovered) or a snapshot
// flagged recovered:false; an ended topic starts again with a snapshot.
func (l *topicLog) gaps() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	var prev *client.Message
	resuming := false
	for i, e := range l.entries {
		if e.reconnect {
			resuming = prev != nil
			continue
		}
		m := e.msg
		bad := func(why string) {
			out = append(out, fmt.Sprintf("message %d (%s %s:%d): %s", i, m.Kind, m.Epoch, m.Seq, why))
		}
		recovered := m.Recovered != nil && *m.Recovered
		switch m.Kind {
		case client.KindSnapshot:
			if resuming && (m.Recovered == nil || recovered) {
				bad("a snapshot answering a resume must say recovered:false")
			}
		case client.KindResumed:
			if !resuming || !recovered || prev == nil || m.Epoch != prev.Epoch || m.Seq != prev.Seq {
				bad("resumed elsewhere than where the client stood")
			}
		case client.KindChange:
			if prev == nil || m.Epoch != prev.Epoch || m.Seq != prev.Seq+1 {
				bad("a change that does not follow the message before it")
			}
			if resuming && !recovered {
				bad("the first change replayed after a reconnect must say recovered:true")
			}
		case client.KindEnded:
			prev, resuming = nil, false
			continue
		}
		resuming = false
		prev = &l.entries[i].msg
	}
	return out
}
