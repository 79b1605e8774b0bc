package rtorrenttest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// A Proxy is an SCGI proxy in front of an Instance that records every
// request that reaches rTorrent through it: what a test puts between
// rTorrent and its client (rtgate) sees exactly what rTorrent is asked.
// Its methods are safe for concurrent use; it closes when the test ends.
type Proxy struct {
	// Socket is the proxy's unix socket; Addr gives it as an address.
	Socket string

	l        net.Listener
	upstream string
	wg       sync.WaitGroup

	mu       sync.Mutex
	requests []ProxyRequest
	conns    map[net.Conn]struct{}
}

// ProxyRequest is one request the proxy passed on.
type ProxyRequest struct {
	// Method is the XML-RPC methodName or the JSON-RPC "method" of the
	// body ("" when it has none, or for a JSON batch).
	Method string
	// Body is the request body as it was sent.
	Body []byte
}

// NewProxy starts a proxy in front of the instance.
func (i *Instance) NewProxy(t testing.TB) *Proxy {
	t.Helper()
	sock := filepath.Join(shortTempDir(t), "proxy.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("rtorrenttest: proxy: %v", err)
	}
	p := &Proxy{Socket: sock, l: l, upstream: i.Socket, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address, as rtgate and rtorrent.New take it.
func (p *Proxy) Addr() string { return "unix://" + p.Socket }

// Requests returns every request passed on so far, in order.
func (p *Proxy) Requests() []ProxyRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxyRequest(nil), p.requests...)
}

// Count returns how many requests passed on so far have this body.
func (p *Proxy) Count(body []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.requests {
		if bytes.Equal(r.Body, body) {
			n++
		}
	}
	return n
}

// CountMethod returns how many requests passed on so far call method.
func (p *Proxy) CountMethod(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.requests {
		if r.Method == method {
			n++
		}
	}
	return n
}

func (p *Proxy) close() {
	p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer func() {
				p.mu.Lock()
				delete(p.conns, c)
				p.mu.Unlock()
				c.Close()
			}()
			p.pass(c)
		}()
	}
}

// pass reads one SCGI request from c, records it, sends it to rTorrent
// and copies the reply back.
func (p *Proxy) pass(c net.Conn) {
	br := bufio.NewReader(c)
	head, body, err := readSCGI(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.requests = append(p.requests, ProxyRequest{Method: methodOf(body), Body: body})
	p.mu.Unlock()
	up, err := net.Dial("unix", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, up)
		p.mu.Unlock()
	}()
	if _, err := up.Write(append(head, body...)); err != nil {
		return
	}
	io.Copy(c, up)
}

// readSCGI reads a netstring header block and the body it announces,
// returning the header block as read (netstring included) and the body.
func readSCGI(r *bufio.Reader) (head, body []byte, err error) {
	lenText, err := r.ReadString(':')
	if err != nil {
		return nil, nil, err
	}
	n, err := strconv.Atoi(lenText[:len(lenText)-1])
	if err != nil || n < 0 || n > 1<<20 {
		return nil, nil, fmt.Errorf("rtorrenttest: proxy: bad netstring length %q", lenText)
	}
	block := make([]byte, n+1)
	if _, err := io.ReadFull(r, block); err != nil {
		return nil, nil, err
	}
	if block[n] != ',' {
		return nil, nil, errors.New("rtorrenttest: proxy: netstring without its comma")
	}
	fields := bytes.Split(block[:n], []byte{0})
	length := -1
	for i := 0; i+1 < len(fields); i += 2 {
		if string(fields[i]) == "CONTENT_LENGTH" {
			length, _ = strconv.Atoi(string(fields[i+1]))
		}
	}
	if length < 0 || length > 64<<20 {
		return nil, nil, errors.New("rtorrenttest: proxy: no CONTENT_LENGTH")
	}
	body = make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, nil, err
	}
	return append([]byte(lenText), block...), body, nil
}

var (
	xmlMethod  = regexp.MustCompile(`<methodName>\s*([^<\s]*)\s*</methodName>`)
	jsonMethod = regexp.MustCompile(`^\s*\{.*?"method"\s*:\s*"([^"]*)"`)
)

func methodOf(body []byte) string {
	if m := xmlMethod.FindSubmatch(body); m != nil {
		return string(m[1])
	}
	if m := jsonMethod.FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}
