package main

import (
	"strings"
	"testing"
)

// FuzzParseConfig: any input either parses or fails with an error; it never
// panics, and a document that parsed still passes or fails Validate cleanly.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"",
		"rtorrent:\n  address: unix:///tmp/rpc.sock\n  timeout: 5s\n  retries: 2\nlog:\n  level: debug\n  format: json\n",
		"rtorrent:\n  adress: x\n",
		"rtorrent: [1, 2]\n",
		"log: {level: warn}\n---\nlog: {level: error}\n",
		"&a [*a]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		cfg := DefaultConfig()
		if err := ParseConfig(strings.NewReader(doc), &cfg); err != nil {
			return
		}
		_ = cfg.Validate()
	})
}
