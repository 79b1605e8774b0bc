package rtorrent_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

func TestParseRelease(t *testing.T) {
	for _, tt := range []struct {
		in   string
		ok   bool
		json bool
	}{
		{"0.9.8", true, false}, {"0.16.17", true, true}, {"0.15.0", true, true}, {"0.15", true, true},
		{"0.14.9", true, false}, {"1.0.0", true, true}, {"", false, false}, {"x.y", false, false}, {"0.16.17-1", false, false},
	} {
		_, ok := rtorrent.ParseRelease(tt.in)
		if ok != tt.ok || rtorrent.SpeaksJSON(tt.in) != tt.json {
			t.Errorf("%q: ok %v, SpeaksJSON %v", tt.in, ok, rtorrent.SpeaksJSON(tt.in))
		}
	}
}

func TestShimNames(t *testing.T) {
	entry := func(m string, p ...xmlrpc.Value) xmlrpc.Value {
		return xmlrpc.NewStruct(xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(m)}, xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(p...)})
	}
	empty := xmlrpc.NewString("")
	for _, tt := range []struct {
		name, version, method, want string
		params, wantParams          []xmlrpc.Value
		changed                     bool
	}{
		{name: "false= anywhere", version: "0.9.8", method: "false=", want: "false", changed: true},
		{name: "false= unknown version", version: "", method: "false=", want: "false", changed: true},
		{name: "max_open on 0.16", version: "0.16.17", method: "network.http.max_open", want: "network.http.max_total_connections", changed: true},
		{name: "max_open on 0.9.8 stays", version: "0.9.8", method: "network.http.max_open", want: "network.http.max_open"},
		{name: "max_total on 0.9.8", version: "0.9.8", method: "network.http.max_total_connections.set", want: "network.http.max_open.set", changed: true},
		{name: "schedule2 on 0.16", version: "0.16.17", method: "schedule2", want: "schedule", changed: true},
		{name: "unknown version renames nothing else", version: "", method: "network.http.max_open", want: "network.http.max_open"},
		{name: "multicall entries", version: "0.16.17", method: "system.multicall",
			params:     []xmlrpc.Value{xmlrpc.NewArray(entry("false=", empty), entry("network.http.max_open", empty), entry("d.name", xmlrpc.NewString("H")))},
			want:       "system.multicall",
			wantParams: []xmlrpc.Value{xmlrpc.NewArray(entry("false", empty), entry("network.http.max_total_connections", empty), entry("d.name", xmlrpc.NewString("H")))},
			changed:    true},
		{name: "methodExist", version: "0.16.17", method: "system.methodExist", params: []xmlrpc.Value{xmlrpc.NewString("network.http.max_open")},
			want: "system.methodExist", wantParams: []xmlrpc.Value{xmlrpc.NewString("network.http.max_total_connections")}, changed: true},
		{name: "others untouched", version: "0.16.17", method: "d.multicall2", params: []xmlrpc.Value{empty, xmlrpc.NewString("main")},
			want: "d.multicall2", wantParams: []xmlrpc.Value{empty, xmlrpc.NewString("main")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			orig := xmlrpc.NewArray(tt.params...)
			m, p, changed := rtorrent.Shim(tt.version, tt.method, tt.params)
			if m != tt.want || changed != tt.changed {
				t.Errorf("Shim = %s, %v; want %s, %v", m, changed, tt.want, tt.changed)
			}
			if tt.wantParams != nil && !xmlrpc.NewArray(p...).Equal(xmlrpc.NewArray(tt.wantParams...)) {
				t.Errorf("params = %v, want %v", p, tt.wantParams)
			}
			if !xmlrpc.NewArray(tt.params...).Equal(orig) {
				t.Error("Shim modified its params")
			}
		})
	}
	if got := rtorrent.ShimmedMethods("0.16.17", []string{"network.http.max_total_connections", "schedule", "d.name"}); !slices.Equal(got, []string{"network.http.max_open", "schedule2"}) {
		t.Errorf("ShimmedMethods(0.16.17) = %v", got)
	}
	if got := rtorrent.ShimmedMethods("", []string{"network.http.max_open"}); got != nil {
		t.Errorf("ShimmedMethods of an unknown version = %v", got)
	}
}

// TestShimsOnRtorrent: a shimmed call asks the backend what the name it
// stands for answers, on both versions: Flood's settings multicall with
// its false= placeholder and 0.9.8's network.http.max_open, and 0.16's
// network.http.max_total_connections.
func TestShimsOnRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := rt.Client(t)
		v := rt.Version.Name
		shimmed := func(method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
			m, p, _ := rtorrent.Shim(v, method, params)
			return c.Call(t.Context(), m, p...)
		}
		empty := xmlrpc.NewString("")
		own, err := c.Call(t.Context(), map[bool]string{true: "network.http.max_open", false: "network.http.max_total_connections"}[rt.Version.Legacy()], empty)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"network.http.max_open", "network.http.max_total_connections"} {
			got, err := shimmed(name, empty)
			if err != nil || !got.Equal(own) {
				t.Errorf("%s through the shim = %v, %v; want %v", name, got, err, own)
			}
		}
		res, err := rtorrent.Multicall(t.Context(), shimCaller{c, v}, []rtorrent.MethodCall{
			{Method: "false=", Params: []xmlrpc.Value{empty}}, {Method: "network.http.max_open", Params: []xmlrpc.Value{empty}},
		})
		if err != nil || res[0].Fault != nil || res[0].Value.Int() != 0 || res[1].Fault != nil || !res[1].Value.Equal(own) {
			t.Errorf("Flood's settings entries through the shim: %+v, %v", res, err)
		}
		// Without the shim, rTorrent faults the placeholder on both versions.
		res, err = rtorrent.Multicall(t.Context(), c, []rtorrent.MethodCall{{Method: "false=", Params: []xmlrpc.Value{empty}}})
		var f *xmlrpc.Fault
		if err != nil || !errors.As(res[0].Err("false="), &f) || f.Code != xmlrpc.FaultNoMethod {
			t.Errorf("false= as a method without the shim: %+v, %v; want fault -506", res, err)
		}
	})
}

// shimCaller applies rtorrent.Shim to every call.
type shimCaller struct {
	c       rtorrent.Caller
	version string
}

func (s shimCaller) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	m, p, _ := rtorrent.Shim(s.version, method, params)
	return s.c.Call(ctx, m, p...)
}
