package poller_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/topics"
)

func TestTopicNames(t *testing.T) {
	t.Parallel()
	p := poller.New(nil, nil)
	hub := topics.NewHub(p.Factory(), nil)
	defer hub.Close()
	const hash = "0123456789ABCDEF0123456789ABCDEF01234567"
	tests := []struct {
		name  string
		topic string
		ok    bool
	}{
		{"torrent list", "torrents", true},
		{"one torrent", "torrent." + hash, true},
		{"files", "torrent." + hash + ".files", true},
		{"peers", "torrent." + hash + ".peers", true},
		{"trackers", "torrent." + hash + ".trackers", true},
		{"transfer", "transfer", true},
		{"events", "events", true},
		{"backend", "backend", true},
		{"lower-case hash", "torrent." + strings.ToLower(hash), false},
		{"short hash", "torrent.0123", false},
		{"unknown detail", "torrent." + hash + ".pieces", false},
		{"trailing dot", "torrent." + hash + ".", false},
		{"unknown", "torrentz", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := hub.NewSubscriber()
			defer sub.Close()
			err := sub.Subscribe(tt.topic, nil)
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, topics.ErrUnknownTopic) {
				t.Errorf("Subscribe(%q) = %v", tt.topic, err)
			}
		})
	}
}

// TestTopicJSON pins the JSON each topic publishes, as doc.go documents it.
func TestTopicJSON(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "json.bin", 16<<10, nil)
		now := time.UnixMilli(1_700_000_000_123)
		f := startPoller(t, b, &poller.Options{Interval: 20 * time.Millisecond, FullSweep: -1, Now: func() time.Time { return now }})
		cl := newClient(t, f.hub)
		raw := map[string][]string{} // topic → data of each message
		next := func() topics.Message {
			m := cl.next(t)
			raw[m.Topic] = append(raw[m.Topic], string(m.Data))
			return m
		}
		for _, topic := range []string{"torrents", "events", "transfer", "backend"} {
			cl.subscribe(topic, nil)
			next()
		}
		if got, want := raw["torrents"][0], `{"torrents":{}}`; got != want {
			t.Errorf("empty torrents snapshot %s, want %s", got, want)
		}
		if got, want := raw["events"][0], `{"events":[]}`; got != want {
			t.Errorf("events snapshot %s, want %s", got, want)
		}
		wantTransfer := []string{"downMaxRate", "downRate", "downTotal", "upMaxRate", "upRate", "upTotal"}
		if got := slices.Sorted(maps.Keys(cl.objects["transfer"])); !slices.Equal(got, wantTransfer) {
			t.Errorf("transfer snapshot %s", raw["transfer"][0])
		}
		if got, want := raw["backend"][0], `{"state":"connected","version":"`+rtorrenttest.VersionOf(t).Name+`","pid":`; !strings.HasPrefix(got, want) ||
			!strings.HasSuffix(got, `,"since":1700000000123}`) {
			t.Errorf("backend snapshot %s", got)
		}

		b.load(t, tr, false)
		for len(raw["torrents"]) < 2 || len(raw["events"]) < 2 {
			next()
		}
		var added struct{ Added map[string]map[string]any }
		if err := json.Unmarshal([]byte(raw["torrents"][1]), &added); err != nil || len(added.Added) != 1 {
			t.Fatalf("added change %s: %v", raw["torrents"][1], err)
		}
		// Every field 0.9.8 offers, and none it lacks (isSequential, dateActive).
		want := make([]string, len(directFields))
		for i, f := range directFields {
			want[i] = f.name
		}
		slices.Sort(want)
		if got := slices.Sorted(maps.Keys(added.Added[tr.Hash])); !slices.Equal(got, want) {
			t.Errorf("added torrent fields %v, want %v", got, want)
		}
		if got, want := raw["events"][1], `{"event":"event.download.inserted","target":"`+tr.Hash+`","timestamp":1700000000123}`; got != want {
			t.Errorf("event %s, want %s", got, want)
		}

		// A change carries the changed fields only.
		b.call(t, "d.custom1.set", tr.Hash, "tag")
		if err := f.p.Refresh(t.Context(), tr.Hash); err != nil {
			t.Fatal(err)
		}
		next()
		if got, want := raw["torrents"][2], `{"changed":{"`+tr.Hash+`":{"custom1":"tag"}}}`; got != want {
			t.Errorf("change %s, want %s", got, want)
		}
		b.call(t, "throttle.global_down.max_rate.set", "", "1048576")
		for len(raw["transfer"]) < 2 {
			next()
		}
		if got, want := raw["transfer"][1], `{"downMaxRate":1048576}`; got != want {
			t.Errorf("transfer change %s, want %s", got, want)
		}
		b.call(t, "d.erase", tr.Hash)
		for len(raw["torrents"]) < 4 {
			next()
		}
		if got, want := raw["torrents"][3], `{"removed":["`+tr.Hash+`"]}`; got != want {
			t.Errorf("removal %s, want %s", got, want)
		}
		if got := f.p.Transfer(); got.DownMaxRate != 1048576 {
			t.Errorf("Transfer() = %+v", got)
		}
	})
}
