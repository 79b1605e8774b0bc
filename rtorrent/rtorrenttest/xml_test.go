package rtorrenttest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// A deliberately small XML-RPC encoder and decoder for the self-tests, so
// that they depend on nothing in the project but the harness.

// methodCall encodes a call; params are string (<string>), []byte
// (<base64>) or int (<i8>).
func methodCall(method string, params ...any) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><methodCall><methodName>`)
	xml.EscapeText(&b, []byte(method))
	b.WriteString(`</methodName><params>`)
	for _, p := range params {
		b.WriteString(`<param><value>`)
		switch v := p.(type) {
		case string:
			b.WriteString(`<string>`)
			xml.EscapeText(&b, []byte(v))
			b.WriteString(`</string>`)
		case []byte:
			fmt.Fprintf(&b, `<base64>%s</base64>`, base64.StdEncoding.EncodeToString(v))
		case int:
			fmt.Fprintf(&b, `<i8>%d</i8>`, v)
		default:
			panic(fmt.Sprintf("methodCall: unsupported %T", p))
		}
		b.WriteString(`</value></param>`)
	}
	b.WriteString(`</params></methodCall>`)
	return b.Bytes()
}

// xvalue is an XML-RPC value as rTorrent 0.9.8 sends them.
type xvalue struct {
	Text   string  `xml:",chardata"`
	String *string `xml:"string"`
	I8     *int64  `xml:"i8"`
	I4     *int64  `xml:"i4"`
	Array  *xarray `xml:"array"`
	Struct []struct {
		Name  string `xml:"name"`
		Value xvalue `xml:"value"`
	} `xml:"struct>member"`
}

type xarray struct {
	Values []xvalue `xml:"data>value"`
}

// native turns v into string, int64, []any or map[string]any.
func (v xvalue) native() any {
	switch {
	case v.String != nil:
		return *v.String
	case v.I8 != nil:
		return *v.I8
	case v.I4 != nil:
		return *v.I4
	case v.Array != nil:
		out := make([]any, len(v.Array.Values))
		for k, e := range v.Array.Values {
			out[k] = e.native()
		}
		return out
	case v.Struct != nil:
		out := make(map[string]any, len(v.Struct))
		for _, m := range v.Struct {
			out[m.Name] = m.Value.native()
		}
		return out
	}
	return v.Text
}

// decodeReply strips the SCGI headers from a RawCall reply and decodes the
// single result, turning a fault into an error.
func decodeReply(raw []byte) (any, error) {
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok || !bytes.HasPrefix(head, []byte("Status: 200 OK")) {
		return nil, fmt.Errorf("bad scgi reply %q", raw)
	}
	var resp struct {
		Params []xvalue `xml:"params>param>value"`
		Fault  *xvalue  `xml:"fault>value"`
	}
	if err := xml.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	if resp.Fault != nil {
		return nil, fmt.Errorf("fault: %v", resp.Fault.native())
	}
	if len(resp.Params) != 1 {
		return nil, errors.New("decode reply: want one param")
	}
	return resp.Params[0].native(), nil
}

// call makes one XML-RPC call and fails the test on any error or fault.
func call(t testing.TB, inst *rtorrenttest.Instance, method string, params ...any) any {
	t.Helper()
	v, err := tryCall(inst, method, params...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return v
}

func tryCall(inst *rtorrenttest.Instance, method string, params ...any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := inst.RawCall(ctx, methodCall(method, params...))
	if err != nil {
		return nil, err
	}
	return decodeReply(raw)
}

// download is one row of d.multicall2 over "main" with the fields of
// downloadFields.
type download struct {
	Hash     string
	Complete bool
	Hashing  bool
}

var downloadFields = []any{"", "main", "d.hash=", "d.complete=", "d.hashing="}

func downloads(t testing.TB, inst *rtorrenttest.Instance) map[string]download {
	t.Helper()
	rows, ok := call(t, inst, "d.multicall2", downloadFields...).([]any)
	if !ok {
		t.Fatalf("d.multicall2: not an array")
	}
	out := make(map[string]download, len(rows))
	for _, r := range rows {
		row := r.([]any)
		d := download{Hash: row[0].(string), Complete: row[1].(int64) == 1, Hashing: row[2].(int64) != 0}
		out[d.Hash] = d
	}
	return out
}

// waitComplete polls until rTorrent lists hash as complete and no longer
// hashing, and returns how long that took. Loading is asynchronous in
// rTorrent 0.9.8: load.raw* answers before the download exists.
func waitComplete(t testing.TB, inst *rtorrenttest.Instance, hash string) time.Duration {
	t.Helper()
	start := time.Now()
	waitFor(t, hash+" to be complete", func() bool {
		d, ok := downloads(t, inst)[hash]
		return ok && d.Complete && !d.Hashing
	})
	return time.Since(start)
}

// waitFor polls cond every 5 ms for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}
