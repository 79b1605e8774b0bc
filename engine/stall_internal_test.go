package engine

import (
	"testing"
	"time"
)

func TestPeerProgressStalled(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	type sample struct {
		at            time.Duration // since t0
		written, read int64
		remote, ours  int
		want          bool
	}
	tests := []struct {
		name    string
		samples []sample
	}{
		{name: "uploading steadily", samples: []sample{
			{0, 100, 10, 1, 65, false}, {10 * time.Second, 200, 20, 2, 65, false}, {30 * time.Second, 300, 30, 3, 65, false}}},
		{name: "silent upload to a peer lacking pieces", samples: []sample{
			{0, 100, 10, 37, 65, false}, {19 * time.Second, 100, 10, 37, 65, false}, {20 * time.Second, 100, 10, 37, 65, true}}},
		{name: "a request arrives in time", samples: []sample{
			{0, 100, 10, 37, 65, false}, {15 * time.Second, 100, 11, 37, 65, false}, {30 * time.Second, 100, 11, 37, 65, false}}},
		{name: "silent download from a peer with pieces we lack", samples: []sample{
			{0, 50, 900, 65, 12, false}, {25 * time.Second, 50, 900, 65, 12, true}}},
		{name: "both sides have the same pieces", samples: []sample{
			{0, 100, 10, 65, 65, false}, {60 * time.Second, 100, 10, 65, 65, false}}},
		{name: "first sample only starts the clock", samples: []sample{
			{60 * time.Second, 100, 10, 1, 65, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p peerProgress
			for i, s := range tt.samples {
				if got := p.stalled(t0.Add(s.at), s.written, s.read, s.remote, s.ours); got != s.want {
					t.Errorf("sample %d: stalled = %v, want %v", i, got, s.want)
				}
			}
		})
	}
}
