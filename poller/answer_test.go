package poller_test

import (
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestAnswer: Flood's transfer summary is answered from the last poll,
// exactly as rTorrent answers it; anything else, or a poll gone stale,
// is not answered.
func TestAnswer(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		f := startPoller(t, b, &poller.Options{Interval: 50 * time.Millisecond, FullSweep: -1})
		waitFor(t, "a poll after connecting", func() bool {
			_, ok := f.p.Answer("throttle.global_down.rate", []xmlrpc.Value{xmlrpc.NewString("")})
			return ok
		})

		entry := func(method string, params ...xmlrpc.Value) xmlrpc.Value {
			return xmlrpc.NewStruct(
				xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(method)},
				xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(params...)})
		}
		empty := xmlrpc.NewString("")
		summary := []xmlrpc.Value{xmlrpc.NewArray(
			entry("throttle.global_down.rate", empty), entry("throttle.global_down.total", empty),
			entry("throttle.global_up.rate", empty), entry("throttle.global_up.total", empty))}

		got, ok := f.p.Answer("system.multicall", summary)
		if !ok {
			t.Fatal("Flood's transfer summary not answered")
		}
		want, err := b.c.Call(t.Context(), "system.multicall", summary...)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("answered %v, rTorrent answers %v", got, want)
		}

		tests := []struct {
			name   string
			method string
			params []xmlrpc.Value
		}{
			{name: "a max rate a client can set", method: "throttle.global_down.max_rate", params: []xmlrpc.Value{empty}},
			{name: "another method", method: "system.client_version"},
			{name: "a target", method: "throttle.global_up.rate", params: []xmlrpc.Value{xmlrpc.NewString("X")}},
			{name: "too many params", method: "throttle.global_up.rate", params: []xmlrpc.Value{empty, empty}},
			{name: "a multicall with one other entry", method: "system.multicall", params: []xmlrpc.Value{xmlrpc.NewArray(
				entry("throttle.global_up.rate", empty), entry("d.multicall2", empty, xmlrpc.NewString("main")))}},
			{name: "an empty multicall", method: "system.multicall", params: []xmlrpc.Value{xmlrpc.NewArray()}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if v, ok := f.p.Answer(tt.method, tt.params); ok {
					t.Errorf("answered %v", v)
				}
			})
		}

		// rTorrent gone: the answers stop as soon as a poll fails.
		b.rt.Stop()
		waitFor(t, "answers stop once polls fail", func() bool {
			_, ok := f.p.Answer("throttle.global_down.rate", []xmlrpc.Value{empty})
			return !ok
		})
	})
}
