package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// doorModes are the two ways a door reaches rTorrent: decoded calls
// re-encoded in Flood's dialect, or the request's bytes forwarded and the
// reply streamed back unread.
var doorModes = []struct {
	name string
	raw  bool
}{
	{"call", false},
	{"raw", true},
}

func (b *backend) door(t testing.TB, raw bool, co *gateway.CoalesceOptions, ho *gateway.HandlerOptions) *door {
	t.Helper()
	if co == nil {
		co = &gateway.CoalesceOptions{}
	}
	if raw {
		co.Raw = b.raw
	}
	return startDoor(t, b.client, co, ho)
}

// TestXMLRPCRoundTrip drives a real rTorrent through both doors, both
// transports: version, load.raw with base64, d.multicall2, d.stop, d.start,
// d.erase.
func TestXMLRPCRoundTrip(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		for _, mode := range doorModes {
			t.Run(mode.name, func(t *testing.T) {
				b := startBackend(t, nil)
				d := b.door(t, mode.raw, nil, nil)
				for _, tp := range transports {
					t.Run(tp.name, func(t *testing.T) {
						call := func(method string, params ...xmlrpc.Value) xmlrpc.Value {
							t.Helper()
							r := tp.send(d, t, "text/xml", encodeCall(t, method, params...))
							if r.status != http.StatusOK || !strings.HasPrefix(r.ctype, "text/xml") {
								t.Fatalf("%s: status %d, Content-Type %q", method, r.status, r.ctype)
							}
							v, fault := decodeReply(t, r)
							if fault != nil {
								t.Fatalf("%s: %v", method, fault)
							}
							return v
						}
						if v := call("system.client_version"); v.String() != ver(t) {
							t.Errorf("version %v", v)
						}
						tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "round-trip-"+tp.name, 100<<10, nil)
						if v := call("load.raw", str(""), xmlrpc.NewBase64(tr.Bytes), str("d.custom.set=origin,rtgate")); v.Int() != 0 {
							t.Errorf("load.raw = %v", v)
						}
						var row []xmlrpc.Value
						waitFor(t, func() bool {
							for _, r := range call("d.multicall2", strs("", "main", "d.hash=", "d.name=", "d.custom=origin", "d.state=")...).Values() {
								if r.Index(0).String() == tr.Hash {
									row = r.Values()
									return true
								}
							}
							return false
						})
						if row[1].String() != tr.Name || row[2].String() != "rtgate" || row[3].Int() != 0 {
							t.Errorf("row %v", row)
						}
						call("d.start", str(tr.Hash))
						// rTorrent 0.9.8 hangs for good if d.stop arrives while
						// the hash check d.start began is running: wait it out
						// (finished, not merely not started yet).
						rtorrenttest.WaitHashed(t, b.client, tr.Hash)
						if v := call("d.state", str(tr.Hash)); v.Int() != 1 {
							t.Errorf("after d.start, d.state = %v", v)
						}
						call("d.stop", str(tr.Hash))
						if v := call("d.state", str(tr.Hash)); v.Int() != 0 {
							t.Errorf("after d.stop, d.state = %v", v)
						}
						call("d.erase", str(tr.Hash))
						waitFor(t, func() bool {
							r := tp.send(d, t, "text/xml", encodeCall(t, "d.name", str(tr.Hash)))
							_, fault := decodeReply(t, r)
							return fault != nil
						})
					})
				}
			})
		}
	})
}

// TestXMLRPCRawIsByteForByte checks that the raw door answers exactly what
// rTorrent answers, headers aside.
func TestXMLRPCRawIsByteForByte(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		d := b.door(t, true, nil, nil)
		for i := range 3 {
			loadTorrent(t, b.client, rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("bytes-%d", i), 10<<10))
		}
		for _, call := range [][]byte{
			encodeCall(t, "d.multicall2", floodPollParams()...),
			encodeCall(t, "system.listMethods"),
			encodeCall(t, "d.name", str(hash)), // a fault
		} {
			direct, err := b.rt.RawCall(context.Background(), call)
			if err != nil {
				t.Fatal(err)
			}
			_, want, _ := bytes.Cut(direct, []byte("\r\n\r\n"))
			for _, tp := range transports {
				if r := tp.send(d, t, "text/xml", call); !bytes.Equal(r.body, want) {
					t.Errorf("%s: reply differs from rTorrent's:\n got %.300q\nwant %.300q", tp.name, r.body, want)
				}
			}
		}
	})
}

// TestXMLRPCFaultsPassThrough checks that rTorrent's faults reach the
// client unchanged: code and message.
func TestXMLRPCFaultsPassThrough(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, &rtorrenttest.Options{SizeLimit: 4096})
		big := strings.Repeat("x", 8000)
		unknown := b.rt.Version.UnknownHash()
		tests := []struct {
			name   string
			call   []byte
			code   int64
			prefix string
		}{
			{"no such download", encodeCall(t, "d.name", str(hash)), unknown.Code, unknown.Message},
			{"no such view", encodeCall(t, "d.multicall2", strs("", "nope", "d.hash=")...), -503, "Could not find view."},
			// 0.9.8 applies network.xmlrpc.size_limit to requests (its replies
			// are not limited; see TestXMLRPCSizeLimitFault for -509).
			{"request over size_limit", encodeCall(t, "cat", str(""), str(big)), -503, "Call XML not a proper XML-RPC call.  XML-RPC request too large.  Max allowed is 4096 bytes"},
		}
		for _, mode := range doorModes {
			d := b.door(t, mode.raw, nil, nil)
			for _, tt := range tests {
				for _, tp := range transports {
					t.Run(mode.name+"/"+tt.name+"/"+tp.name, func(t *testing.T) {
						r := tp.send(d, t, "text/xml", tt.call)
						_, fault := decodeReply(t, r)
						if r.status != http.StatusOK || fault == nil || fault.Code != tt.code || !strings.HasPrefix(fault.Message, tt.prefix) {
							t.Errorf("status %d, fault %v; want %d %q", r.status, fault, tt.code, tt.prefix)
						}
					})
				}
			}
		}
	})
}

// TestXMLRPCSizeLimitFault checks that the size-limit fault (-509) of an
// rTorrent whose replies are limited reaches the client unchanged. rTorrent
// 0.9.8 limits only requests, so a stub answers what a limited one sends.
func TestXMLRPCSizeLimitFault(t *testing.T) {
	const msg = "XML-RPC response too large"
	faultBody := xmlrpc.AppendFault(nil, &xmlrpc.Fault{Code: -509, Message: msg})
	caller := callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
		return xmlrpc.Value{}, fmt.Errorf("rtorrent: %s: %w", method, &xmlrpc.Fault{Code: -509, Message: msg})
	})
	raw := rawFunc(func(ctx context.Context, contentType string, body []byte) (*scgi.Response, error) {
		return &scgi.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{"Content-Type": {"text/xml"}},
			ContentLength: int64(len(faultBody)), Body: io.NopCloser(bytes.NewReader(faultBody))}, nil
	})
	for _, mode := range doorModes {
		co := &gateway.CoalesceOptions{}
		if mode.raw {
			co.Raw = raw
		}
		d := startDoor(t, caller, co, nil)
		for _, tp := range transports {
			r := tp.send(d, t, "text/xml", encodeCall(t, "d.multicall2", floodPollParams()...))
			if _, fault := decodeReply(t, r); fault == nil || fault.Code != -509 || fault.Message != msg {
				t.Errorf("%s/%s: fault %v", mode.name, tp.name, fault)
			}
		}
	}
}

// TestXMLRPCMalformed checks each malformed or refused request gets its
// documented answer, over both transports, and that none reaches rTorrent.
func TestXMLRPCMalformed(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		var n counter
		co := &gateway.CoalesceOptions{Raw: n.raw(b.raw)}
		d := startDoor(t, n.caller(b.client), co, &gateway.HandlerOptions{MaxBodyBytes: 4096})

		tests := []struct {
			name        string
			contentType string
			body        string
			status      int
			want        string // substring of the reply body
		}{
			{"bad XML", "text/xml", `<?xml version="1.0"?><methodCall><methodName>d.name</methodName><params>`, 200,
				"<i4>-503</i4></value></member><member><name>faultString</name><value><string>rtgate: malformed request: xmlrpc: malformed document"},
			{"not XML", "text/xml", "hello", 200, "rtgate: malformed request"},
			{"not a methodCall", "text/xml", `<?xml version="1.0"?><methodResponse><params><param><value>1</value></param></params></methodResponse>`, 200, "rtgate: malformed request"},
			{"empty methodName", "text/xml", `<methodCall><methodName></methodName></methodCall>`, 200, "rtgate: malformed request: empty methodName"},
			{"DOCTYPE", "text/xml", `<!DOCTYPE x [<!ENTITY a "execute.throw">]><methodCall><methodName>&a;</methodName></methodCall>`, 200, "rtgate: malformed request"},
			{"trailing data", "text/xml", `<methodCall><methodName>d.name</methodName></methodCall><methodCall><methodName>execute.throw</methodName></methodCall>`, 200, "rtgate: malformed request"},
			{"refused", "text/xml", string(encodeCall(t, "execute.throw", strs("", "sh", "-c", "id")...)), 200,
				`<i4>-507</i4></value></member><member><name>faultString</name><value><string>rtgate: method "execute.throw" refused by policy</string>`},
			{"refused inside", "text/xml", string(encodeCall(t, "d.multicall2", strs("", "main", "d.hash=", "d.name=", "execute.throw=sh,-c,id")...)), 200,
				`rtgate: method "execute.throw" refused by policy (inside d.multicall2 field 3)`},
			// What rTorrent's XML parser reads as execute.throw, rtgate's
			// decoder reads the same way (checked against 0.9.8).
			{"name split by a comment", "text/xml", `<methodCall><methodName>exe<!---->cute.throw</methodName></methodCall>`, 200,
				`rtgate: method "execute.throw" refused by policy`},
			{"name in CDATA", "text/xml", `<methodCall><methodName>execute<![CDATA[.throw]]></methodName></methodCall>`, 200,
				`rtgate: method "execute.throw" refused by policy`},
			{"name as character references", "text/xml", `<methodCall><methodName>&#101;xecute.thro&#x77;</methodName></methodCall>`, 200,
				`rtgate: method "execute.throw" refused by policy`},
			{"field split by a comment", "text/xml", `<methodCall><methodName>d.multicall2</methodName><params><param><value><string></string></value></param>` +
				`<param><value><string>main</string></value></param><param><value><string>exe<!---->cute.throw=sh</string></value></param></params></methodCall>`, 200,
				`rtgate: method "execute.throw" refused by policy (inside d.multicall2 field 1)`},
			{"oversized", "text/xml", string(encodeCall(t, "cat", str(""), str(strings.Repeat("x", 5000)))), 413, "exceeds the limit of 4096"},
			{"bad JSON", "application/json", `{"jsonrpc":"2.0",`, 200, `{"error":{"code":-32700,"message":"parse error`},
		}
		for _, tt := range tests {
			for _, tp := range transports {
				t.Run(tt.name+"/"+tp.name, func(t *testing.T) {
					r := tp.send(d, t, tt.contentType, []byte(tt.body))
					got := strings.NewReplacer("&quot;", `"`, "&#34;", `"`).Replace(string(r.body))
					if r.status != tt.status || !strings.Contains(got, tt.want) {
						t.Errorf("status %d, reply %q; want %d and %q", r.status, r.body, tt.status, tt.want)
					}
				})
			}
		}

		t.Run("wrong method/http", func(t *testing.T) {
			resp, err := http.Get(d.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || !strings.Contains(string(body), "method GET not allowed") {
				t.Errorf("GET: %d %q %q", resp.StatusCode, resp.Header.Get("Allow"), body)
			}
		})
		t.Run("wrong method/scgi", func(t *testing.T) {
			sc, err := scgi.NewClient(d.socket, &scgi.ClientOptions{Headers: []scgi.Header{{Name: "REQUEST_METHOD", Value: "GET"}}})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := sc.Do(context.Background(), "text/xml", nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 405 || !strings.Contains(string(body), "method GET not allowed") {
				t.Errorf("GET: %d %q", resp.StatusCode, body)
			}
		})
		t.Run("truncated body/http", func(t *testing.T) {
			got := exchange(t, "tcp", strings.TrimPrefix(d.url[:strings.LastIndex(d.url, "/")], "http://"),
				"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<?xml version=")
			if !strings.HasPrefix(got, "HTTP/1.1 400 ") || !strings.Contains(got, "rtgate: reading request body") {
				t.Errorf("reply %q", got)
			}
		})
		t.Run("truncated body/scgi", func(t *testing.T) {
			header := "CONTENT_LENGTH\x00100\x00SCGI\x001\x00"
			got := exchange(t, "unix", d.socket, netstring(header)+"<?xml version=")
			if !strings.HasPrefix(got, "Status: 400 ") || !strings.Contains(got, "rtgate: reading request body") {
				t.Errorf("reply %q", got)
			}
		})
		t.Run("broken SCGI framing", func(t *testing.T) {
			got := exchange(t, "unix", d.socket, "12:CONTENT_LENGTH,")
			if !strings.HasPrefix(got, "Status: 400 ") {
				t.Errorf("reply %q", got)
			}
		})

		if got := n.calls.Load(); got != 0 {
			t.Errorf("%d calls reached rTorrent, want none", got)
		}
	})
}

// netstring frames an SCGI header block.
func netstring(block string) string { return fmt.Sprintf("%d:%s,", len(block), block) }

// exchange writes raw bytes to a door, half-closes, and returns all it
// reads until the door closes.
func exchange(t testing.TB, network, addr, raw string) string {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
	out, _ := io.ReadAll(c)
	return string(out)
}

// TestXMLRPCContentTypes checks that the XML door, like rTorrent, does not
// care what Content-Type an XML-RPC call claims (curl -d sends a form type).
func TestXMLRPCContentTypes(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		d := b.door(t, true, nil, nil)
		for _, ct := range []string{"text/xml", "text/xml; charset=utf-8", "application/xml", "application/x-www-form-urlencoded", ""} {
			for _, tp := range transports {
				r := tp.send(d, t, ct, encodeCall(t, "system.client_version"))
				if v, fault := decodeReply(t, r); fault != nil || v.String() != ver(t) {
					t.Errorf("%q over %s: %v %v", ct, tp.name, v, fault)
				}
			}
		}
	})
}

// TestUpstreamDown checks the answer when rTorrent is gone: 502 with a
// fault saying so, in both doors.
func TestUpstreamDown(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		rt.Stop()
		noRetry := &scgi.ClientOptions{Retries: -1}
		client, err := rtorrent.New(rt.Addr(), &rtorrent.Options{SCGI: noRetry})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := scgi.NewClient(rt.Addr(), noRetry)
		if err != nil {
			t.Fatal(err)
		}
		b := &backend{rt: rt, client: client, raw: raw}
		for _, mode := range doorModes {
			d := b.door(t, mode.raw, &gateway.CoalesceOptions{}, nil)
			for _, tp := range transports {
				r := tp.send(d, t, "text/xml", encodeCall(t, "system.client_version"))
				_, fault := decodeReply(t, r)
				if r.status != http.StatusBadGateway || fault == nil || fault.Code != -500 || !strings.Contains(fault.Message, "rtgate: ") {
					t.Errorf("%s/%s: status %d, fault %v", mode.name, tp.name, r.status, fault)
				}
				r = tp.send(d, t, "application/json", []byte(`{"jsonrpc":"2.0","id":1,"method":"system.client_version","params":[]}`))
				if r.status != http.StatusBadGateway || !strings.HasPrefix(string(r.body), `{"error":{"code":-32000,"message":"rtgate: `) {
					t.Errorf("%s/%s JSON: status %d, %s", mode.name, tp.name, r.status, r.body)
				}
			}
		}
	})
}

// TestBadClientsDoNotStopGoodOnes keeps slow, stalled and garbage-sending
// clients connected to both transports while good clients make calls.
func TestBadClientsDoNotStopGoodOnes(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		d := b.door(t, true, nil, nil)
		httpAddr := strings.TrimPrefix(d.url[:strings.LastIndex(d.url, "/")], "http://")

		// Stalled clients: half a header, half a body, and silence.
		var stalled []net.Conn
		for _, s := range []struct{ network, addr, raw string }{
			{"unix", d.socket, "70:CONTENT_LENGTH\x00"},
			{"unix", d.socket, netstring("CONTENT_LENGTH\x001000\x00SCGI\x001\x00") + "<?xml"},
			{"tcp", httpAddr, "POST /RPC2 HTTP/1.1\r\nHost: x\r\n"},
			{"tcp", httpAddr, "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<?xml"},
		} {
			c, err := net.Dial(s.network, s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, s.raw)
			stalled = append(stalled, c)
		}

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		// Garbage, as fast as it goes.
		for _, tp := range transports {
			wg.Go(func() {
				for ctx.Err() == nil {
					r := tp.send(d, t, "text/xml", []byte("<methodCall><methodName>"))
					if _, fault := decodeReply(t, r); fault == nil || fault.Code != -503 {
						t.Errorf("garbage: %v", fault)
						return
					}
				}
			})
		}
		// Good clients.
		start := time.Now()
		var good sync.WaitGroup
		for _, tp := range transports {
			for range 4 {
				good.Go(func() {
					for range 20 {
						r := tp.send(d, t, "text/xml", encodeCall(t, "system.client_version"))
						if v, fault := decodeReply(t, r); fault != nil || v.String() != ver(t) {
							t.Errorf("good client: %v %v", v, fault)
							return
						}
					}
				})
			}
		}
		good.Wait()
		cancel()
		wg.Wait()
		if elapsed := time.Since(start); elapsed > 20*time.Second {
			t.Errorf("good clients took %v", elapsed)
		}
		for _, c := range stalled {
			c.Close()
		}
	})
}

// TestPythonXMLRPC talks to the HTTP door with Python's xmlrpc.client, the
// library most rTorrent scripts use.
func TestPythonXMLRPC(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		python, err := exec.LookPath("python3")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("python3 not found")
			}
			t.Skip("python3 not found")
		}
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrentBytes(t, "python", 1000)
		loadTorrent(t, b.client, tr)
		for _, mode := range doorModes {
			t.Run(mode.name, func(t *testing.T) {
				d := b.door(t, mode.raw, nil, nil)
				const script = `
import sys, xmlrpc.client
s = xmlrpc.client.ServerProxy(sys.argv[1])
print("version", s.system.client_version())
for row in s.d.multicall2("", "main", "d.hash=", "d.name="):
    print("row", row[0], row[1])
try:
    s.execute.throw("", "touch", "/tmp/rtgate-pwned")
    print("not refused")
except xmlrpc.client.Fault as f:
    print("fault", f.faultCode, f.faultString)
`
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				out, err := exec.CommandContext(ctx, python, "-c", script, d.url).CombinedOutput()
				if err != nil {
					t.Fatalf("python: %v\n%s", err, out)
				}
				want := "version " + ver(t) + "\nrow " + tr.Hash + " python\n" +
					`fault -507 rtgate: method "execute.throw" refused by policy` + "\n"
				if string(out) != want {
					t.Errorf("python printed\n%s\nwant\n%s", out, want)
				}
			})
		}
	})
}

// TestSCGIFloodFraming sends a request as Flood frames it (CONTENT_LENGTH,
// CONTENT_TYPE, SCGI, then a half-close) and reads to EOF as Flood does.
func TestSCGIFloodFraming(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		d := b.door(t, true, nil, nil)
		body := string(encodeCall(t, "system.client_version"))
		header := fmt.Sprintf("CONTENT_LENGTH\x00%d\x00CONTENT_TYPE\x00text/xml\x00SCGI\x001\x00", len(body))
		got := exchange(t, "unix", d.socket, netstring(header)+body)
		resp, err := scgi.ReadResponse(bufio.NewReader(strings.NewReader(got)))
		if err != nil {
			t.Fatal(err)
		}
		v, err := xmlrpc.DecodeResponse(resp.Body)
		if err != nil || v.String() != ver(t) || resp.StatusCode != 200 {
			t.Errorf("reply %q: %v %v", got, v, err)
		}
	})
}

// TestRequestSizeLimits: a 3 MiB request passes to 0.16.17 (16 MiB
// limit) and is answered; 0.9.8 closes the connection on a request over
// 2 MiB, and the door answers 502 saying so.
func TestRequestSizeLimits(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		d := b.door(t, true, nil, nil)
		big := strings.Repeat("x", 3<<20)
		r := d.doSCGI(t, "text/xml", encodeCall(t, "cat", str(""), str(big)))
		if b.rt.Version.Legacy() {
			if r.status != http.StatusBadGateway || !strings.Contains(string(r.body), "closes the connection on requests over 2 MiB") {
				t.Errorf("3 MiB to 0.9.8: status %d, %.300q", r.status, r.body)
			}
			return
		}
		v, fault := decodeReply(t, r)
		if r.status != 200 || fault != nil || v.String() != big {
			t.Errorf("3 MiB to 0.16.17: status %d, fault %v, %d bytes back", r.status, fault, len(v.String()))
		}
	})
}
