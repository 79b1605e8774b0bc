package poller

import (
	"encoding/json"
	"testing"
)

// TestTrackers checks the trackers column both ways it is written: whole
// (appendTrackers, without parsing into a list) and as a change (from
// parseTrackers), against the fields it stands for.
func TestTrackers(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		urls  []string
		seeds int64
		peers int64
	}{
		{name: "none", in: "", urls: []string{}},
		{name: "one", in: "1|12|3|http://a/announce|||", urls: []string{"http://a/announce"}, seeds: 12, peers: 3},
		{name: "first disabled counts for the scrape", in: "0|5|6|http://a/|||1|7|8|udp://b:80|||", urls: []string{"udp://b:80"}, seeds: 5, peers: 6},
		{name: "bar in a URL", in: "1|0|0|http://a/?x=1|2|||", urls: []string{"http://a/?x=1|2"}},
		{name: "malformed entry skipped", in: "junk|||1|1|2|http://c/|||", urls: []string{"http://c/"}, seeds: 1, peers: 2},
		{name: "scrape not a number", in: "1|-|x|http://d/|||", urls: []string{"http://d/"}},
	}
	type fields struct {
		TrackerURIs []string `json:"trackerURIs"`
		SeedsTotal  int64    `json:"seedsTotal"`
		PeersTotal  int64    `json:"peersTotal"`
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := fields{tt.urls, tt.seeds, tt.peers}
			var whole fields
			data := append(appendTrackers([]byte{'{'}, tt.in), '}')
			if err := json.Unmarshal(data, &whole); err != nil {
				t.Fatalf("%s: %v", data, err)
			}
			if whole.TrackerURIs == nil {
				whole.TrackerURIs = []string{}
			}
			ts := parseTrackers(tt.in)
			parsed := fields{ts.urls, ts.seedsTotal, ts.peersTotal}
			if parsed.TrackerURIs == nil {
				parsed.TrackerURIs = []string{}
			}
			for name, got := range map[string]fields{"appendTrackers": whole, "parseTrackers": parsed} {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Errorf("%s = %s, want %s", name, g, w)
				}
			}
		})
	}
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]int64{
		"": 0, "0": 0, "1700000000": 1700000000, " 42 ": 42, "-7": -7, "+8": 8, "-": 0,
		"12a": 0, "1e3": 0, "9223372036854775807": 9223372036854775807, "99999999999999999999": 0,
	} {
		if got := parseDecimal(in); got != want {
			t.Errorf("parseDecimal(%q) = %d, want %d", in, got, want)
		}
	}
}
