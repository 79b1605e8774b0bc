package scgi_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/scgi"
)

func floodCall(b *testing.B) []byte {
	call, err := os.ReadFile("../testdata/rtorrent-0.9.8/flood-multicall.call.xml")
	if err != nil {
		b.Fatal(err)
	}
	return call
}

func BenchmarkAppendRequest(b *testing.B) {
	call := floodCall(b)
	headers := []scgi.Header{{Name: "CONTENT_TYPE", Value: "text/xml"}}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = scgi.AppendRequest(buf[:0], headers, call)
	}
}

func BenchmarkReadRequest(b *testing.B) {
	wire := scgi.AppendRequest(nil, []scgi.Header{{Name: "CONTENT_TYPE", Value: "text/xml"}}, floodCall(b))
	r := bytes.NewReader(wire)
	br := bufio.NewReader(r)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(wire)
		br.Reset(r)
		if _, _, err := scgi.ReadRequest(br, scgi.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadResponse(b *testing.B) {
	raw := string(fixtures(b)["listMethods.scgi"])
	r := strings.NewReader(raw)
	br := bufio.NewReader(r)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(raw)
		br.Reset(r)
		resp, err := scgi.ReadResponse(br)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

// BenchmarkRoundTrip measures a Client call to a Server over a unix socket.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			addr := startServer(b, &scgi.Server{Handler: echo}, "unix")
			c, err := scgi.NewClient(addr, nil)
			if err != nil {
				b.Fatal(err)
			}
			body := bytes.Repeat([]byte("x"), size.n)
			b.SetBytes(int64(2 * size.n))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Do(context.Background(), "text/xml", body)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
