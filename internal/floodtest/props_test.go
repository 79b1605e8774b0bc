package floodtest_test

import (
	"slices"
	"testing"

	"github.com/rtgate/rtgate/internal/floodtest"
)

func TestStable(t *testing.T) {
	p := floodtest.TorrentProps{
		Hash: "AB", Name: "n", Status: []string{"complete", "seeding", "active"},
		DownRate: 5, UpRate: 6, ETA: 7.5, DateActive: -1, UpTotal: 9,
	}
	s := p.Stable()
	if s.DownRate != 0 || s.UpRate != 0 || s.ETA != 0 || s.DateActive != 0 {
		t.Errorf("Stable kept a time-varying field: %+v", s)
	}
	if want := []string{"complete", "seeding"}; !slices.Equal(s.Status, want) {
		t.Errorf("Stable status = %v, want %v", s.Status, want)
	}
	if s.UpTotal != 9 || s.Name != "n" {
		t.Errorf("Stable dropped a lasting field: %+v", s)
	}
	if p.Status[2] != "active" {
		t.Errorf("Stable changed its receiver's Status: %v", p.Status)
	}
}

func TestDiffTorrents(t *testing.T) {
	base := floodtest.TorrentProps{Hash: "AA", Name: "a", Status: []string{"stopped", "inactive"}, Tags: []string{}}
	renamed := base
	renamed.Name = "b"
	busy := base
	busy.Status, busy.UpRate, busy.Tags = []string{"stopped", "active"}, 100, nil
	tests := []struct {
		name string
		a, b map[string]floodtest.TorrentProps
		want []string
	}{
		{"equal", map[string]floodtest.TorrentProps{"AA": base}, map[string]floodtest.TorrentProps{"AA": base}, nil},
		{"only time-varying fields and empty vs nil", map[string]floodtest.TorrentProps{"AA": base}, map[string]floodtest.TorrentProps{"AA": busy}, nil},
		{"field", map[string]floodtest.TorrentProps{"AA": base}, map[string]floodtest.TorrentProps{"AA": renamed}, []string{`AA: name: "a" != "b"`}},
		{
			"membership",
			map[string]floodtest.TorrentProps{"AA": base},
			map[string]floodtest.TorrentProps{"BB": base},
			[]string{"AA: only in first", "BB: only in second"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := floodtest.DiffTorrents(tt.a, tt.b); !slices.Equal(got, tt.want) {
				t.Errorf("DiffTorrents = %q, want %q", got, tt.want)
			}
		})
	}
}
