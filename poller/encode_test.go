package poller_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rtgate/rtgate/poller"
)

// jsonString is encoding/json's encoding of s, HTML escaping off: the
// reference appendString must match byte for byte.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendString(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"plain", "ubuntu-24.04-desktop-amd64.iso"},
		{"quote and backslash", `a "b" \c`},
		{"control characters", "tab\tnl\ncr\rbs\bff\fnul\x00us\x1f"},
		{"DEL passes", "x\x7fy"},
		{"html kept", "<a href='x'>&amp;</a>"},
		{"utf-8", "Ünïcödé 名前 🎵"},
		{"line separators", "a\u2028b\u2029c"},
		{"invalid utf-8", "bad\xffbyte\xe2\x82cut\xc0\xaf"},
		{"truncated at end", "end\xe2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(poller.AppendString(nil, tt.in))
			if want := jsonString(tt.in); got != want {
				t.Errorf("appendString(%q) = %s, want %s", tt.in, got, want)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "\x00\"\\", "\xff\xfe", "a\u2028", "名前\xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(poller.AppendString(nil, s)), jsonString(s); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendRatio(t *testing.T) {
	tests := []struct {
		perMille int64
		want     string
	}{
		{0, "0"}, {1, "0.001"}, {999, "0.999"}, {1000, "1"}, {1500, "1.5"},
		{123456, "123.456"}, {-1, "-0.001"}, {7, "0.007"}, {1 << 40, "1099511627.776"},
	}
	for _, tt := range tests {
		if got := string(poller.AppendRatio(nil, tt.perMille)); got != tt.want {
			t.Errorf("ratio %d = %s, want %s", tt.perMille, got, tt.want)
		}
	}
}
