package jsonenc_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/rtgate/rtgate/internal/jsonenc"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "abc", want: `"abc"`},
		{name: "quote and backslash", in: `a"b\c`, want: `"a\"b\\c"`},
		{name: "named controls", in: "\n\r\t\b\f", want: `"\n\r\t\b\f"`},
		{name: "other controls", in: "\x00\x1f", want: `"\u0000\u001f"`},
		{name: "invalid utf-8", in: "a\xffb", want: `"a\ufffdb"`},
		{name: "line separators", in: "\u2028\u2029", want: `"\u2028\u2029"`},
		{name: "multibyte", in: "é日本", want: `"é日本"`},
		// Checked against encoding/json only:
		{name: "empty", in: ""},
		{name: "file name", in: "ubuntu-24.04-desktop-amd64.iso"},
		{name: "control characters", in: "tab\tnl\ncr\rbs\bff\fnul\x00us\x1f"},
		{name: "DEL passes", in: "x\x7fy"},
		{name: "html kept", in: "<a href='x'>&amp;</a>"},
		{name: "utf-8", in: "Ünïcödé 名前 🎵"},
		{name: "invalid utf-8 runs", in: "bad\xffbyte\xe2\x82cut\xc0\xaf"},
		{name: "truncated at end", in: "end\xe2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(jsonenc.AppendString(nil, tt.in))
			if tt.want != "" && got != tt.want {
				t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if want, _ := marshalNoHTML(tt.in); got != want {
				t.Errorf("AppendString(%q) = %s, encoding/json writes %s", tt.in, got, want)
			}
		})
	}
}

// FuzzAppendString checks the output against encoding/json: it decodes to
// the input (with invalid UTF-8 replaced) and equals what encoding/json
// writes with HTML escaping off.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "\x00\n\"\\", "a\xffb", "\u2028", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := jsonenc.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: not JSON: %v", s, out, err)
		}
		if want := string([]rune(s)); utf8.ValidString(s) && back != want {
			t.Fatalf("AppendString(%q) decodes to %q", s, back)
		}
		want, _ := marshalNoHTML(s)
		if string(out) != want {
			t.Fatalf("AppendString(%q) = %s, encoding/json writes %s", s, out, want)
		}
	})
}
