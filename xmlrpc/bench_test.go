package xmlrpc_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	kolo "github.com/kolo/xmlrpc"

	"github.com/rtgate/rtgate/xmlrpc"
)

// The benchmarks decode a d.multicall2 reply the size of a 5,000-download
// rTorrent, in exactly the layout rTorrent 0.9.8 writes (see
// testdata/rtorrent-0.9.8/flood-multicall.scgi): CRLF line ends, one
// <value> per line, strings as <string>, integers as <i8>.

const (
	benchRows   = 5000
	benchFields = 30
)

// multicallBody builds the reply deterministically and counts its String
// values.
func multicallBody(rows int) (body []byte, strs int) {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n<param><value><array><data>\r\n")
	str := func(s string) {
		strs++
		b.WriteString("<value><string>")
		b.WriteString(s)
		b.WriteString("</string></value>\r\n")
	}
	i8 := func(n int64) {
		b.WriteString("<value><i8>")
		b.WriteString(strconv.FormatInt(n, 10))
		b.WriteString("</i8></value>\r\n")
	}
	flag := func(p float64) {
		if rng.Float64() < p {
			i8(1)
		} else {
			i8(0)
		}
	}
	words := []string{"Ubuntu", "debian", "Live", "Album", "Concert", "Season", "Ðocumentary", "Ōkami", "Über", "Сборник", "日本語", "Remastered", "1080p", "x264", "FLAC", "Collection", "Vol.", "Linux", "ISO", "Soundtrack"}
	dirs := []string{"/downloads/complete", "/downloads/incoming", "/srv/torrents/movies", "/srv/torrents/music", "/home/seed/rtorrent/download"}
	messages := []string{"Tracker: [Couldn't connect to server]", "Tracker: [Timeout was reached]", "Tracker: [Failure reason \"unregistered torrent\"]"}
	tags := []string{"movies", "music", "linux", "tv"}
	for range rows {
		b.WriteString("<value><array><data>\r\n")
		// d.hash
		str(fmt.Sprintf("%016X%016X%08X", rng.Uint64(), rng.Uint64(), rng.Uint32()))
		// d.name: words with spaces, unicode, sometimes an ampersand.
		var name strings.Builder
		for j := range 2 + rng.IntN(6) {
			if j > 0 {
				name.WriteByte(' ')
			}
			name.WriteString(words[rng.IntN(len(words))])
		}
		if rng.IntN(10) == 0 {
			name.WriteString(" &amp; Friends")
		}
		fmt.Fprintf(&name, " [%d].mkv", rng.IntN(100000))
		str(name.String())
		// d.message: mostly empty.
		if rng.IntN(10) == 0 {
			str(messages[rng.IntN(len(messages))])
		} else {
			str("")
		}
		flag(0.7) // d.state
		str("")   // d.custom2
		flag(0.3) // d.is_active
		flag(0.6) // d.complete
		flag(0.2) // d.is_private
		str("")   // d.connection_seed
		i8(0)     // false= (d.down.sequential on 0.9.8)
		flag(0.7) // d.is_open
		i8(0)     // d.hashing
		i8(int64(rng.IntN(4)))
		size := rng.Int64N(1e12)
		i8(rng.Int64N(2e6))                      // d.up.rate
		i8(rng.Int64N(5e12))                     // d.up.total
		i8(rng.Int64N(5e6))                      // d.down.rate
		i8(size)                                 // d.down.total
		i8(rng.Int64N(5000))                     // d.ratio
		i8(size - rng.Int64N(size/10+1))         // d.bytes_done
		i8(size)                                 // d.size_bytes
		str(dirs[rng.IntN(len(dirs))])           // d.directory
		str(strconv.Itoa(1.6e9 + rng.IntN(2e8))) // d.custom=addtime
		if rng.IntN(3) == 0 {                    // d.custom=flood.selected_size
			str(strconv.FormatInt(size, 10))
		} else {
			str("")
		}
		i8(1.5e9 + rng.Int64N(3e8)) // d.creation_date
		i8(1.6e9 + rng.Int64N(2e8)) // d.timestamp.finished
		i8(0)                       // false= (d.timestamp.last_active)
		if rng.IntN(4) == 0 {       // d.custom1: tags
			str(tags[rng.IntN(len(tags))])
		} else {
			str("")
		}
		str("t.is_enabled=t.url=cat={|||}") // the nested call, as 0.9.8 echoes it
		i8(rng.Int64N(200))                 // d.peers_complete
		i8(rng.Int64N(500))                 // d.peers_accounted
		b.WriteString("</data></array></value>\r\n")
	}
	b.WriteString("</data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n")
	return b.Bytes(), strs
}

func BenchmarkDecodeMulticall(b *testing.B) {
	body, strs := multicallBody(benchRows)
	r := bytes.NewReader(body)
	dec := xmlrpc.NewDecoder(r, nil)
	v, err := dec.DecodeResponse()
	if err != nil {
		b.Fatal(err)
	}
	if v.Len() != benchRows || v.Index(0).Len() != benchFields {
		b.Fatalf("decoded %d rows of %d fields", v.Len(), v.Index(0).Len())
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		r.Reset(body)
		dec.Reset(r)
		if _, err := dec.DecodeResponse(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	allocs := float64(after.Mallocs-before.Mallocs) / float64(b.N)
	b.ReportMetric(allocs/float64(strs), "allocs/string")
}

func BenchmarkDecodeMulticallKolo(b *testing.B) {
	body, _ := multicallBody(benchRows)
	var v any
	if err := kolo.Response(body).Unmarshal(&v); err != nil {
		b.Fatal(err)
	}
	if rows, ok := v.([]any); !ok || len(rows) != benchRows {
		b.Fatalf("kolo decoded %T", v)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := kolo.Response(body).Unmarshal(&v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMulticall(b *testing.B) {
	body, _ := multicallBody(benchRows)
	v, err := xmlrpc.DecodeResponse(bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	out, err := xmlrpc.Encoder{}.AppendResponse(nil, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if out, err = (xmlrpc.Encoder{}).AppendResponse(out[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}
