package floodtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

const (
	// maxSCGIHeaders bounds the netstring of SCGI headers the tap accepts.
	maxSCGIHeaders = 64 << 10
	// maxSCGIBody bounds a request body; Flood's own HTTP body limit is
	// 50 MB of JSON, so a base64 .torrent in an XML call fits.
	maxSCGIBody = 128 << 20
	// relayTimeout bounds one relayed call, so that a stuck endpoint cannot
	// hold the tap's Close forever.
	relayTimeout = 2 * time.Minute
)

// Call is one SCGI request Flood sent, as the tap saw it.
type Call struct {
	// ContentType is the request's CONTENT_TYPE header: "text/xml" in XML
	// mode, "application/json" in JSON mode.
	ContentType string
	// Method is the called method: methodName (XML-RPC) or method
	// (JSON-RPC). It is empty for a JSON-RPC batch, which is how Flood
	// sends a system.multicall in JSON mode.
	Method string
	// Batch lists the methods inside a system.multicall (XML-RPC) or a
	// JSON-RPC batch, in order.
	Batch []string
	// Err is set when the tap could not parse or relay the call.
	Err error
}

// Calls returns the SCGI requests Flood has sent so far, oldest first,
// when Options.Tap is set, and nil otherwise. A call is recorded once its
// reply has been relayed back to Flood.
func (f *Flood) Calls() []Call {
	if f.tap == nil {
		return nil
	}
	return f.tap.calls()
}

// tap is an SCGI relay on a Unix socket. SCGI carries one request per
// connection, so it reads a whole request, passes it on over a fresh
// connection to the endpoint, half-closes that as Flood does, and copies
// the reply back until the endpoint closes.
type tap struct {
	path            string
	network, target string
	ln              net.Listener
	ctx             context.Context // cancelled by close, ends relays
	cancel          context.CancelFunc
	wg              sync.WaitGroup // the accept loop and every relay

	mu  sync.Mutex
	log []Call
}

func startTap(path, network, target string) (*tap, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tp := &tap{path: path, network: network, target: target, ln: ln, ctx: ctx, cancel: cancel}
	tp.wg.Add(1)
	go tp.accept()
	return tp, nil
}

func (tp *tap) accept() {
	defer tp.wg.Done()
	for {
		conn, err := tp.ln.Accept()
		if err != nil {
			return // closed
		}
		tp.wg.Add(1)
		go tp.relay(conn)
	}
}

// relay handles one connection from Flood.
func (tp *tap) relay(conn net.Conn) {
	defer tp.wg.Done()
	defer conn.Close()
	ctx, cancel := context.WithTimeout(tp.ctx, relayTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	call, raw, err := readSCGIRequest(bufio.NewReader(conn))
	if err != nil {
		call.Err = err
		tp.record(call)
		return
	}
	var d net.Dialer
	up, err := d.DialContext(ctx, tp.network, tp.target)
	if err != nil {
		call.Err = err
		tp.record(call)
		return
	}
	defer up.Close()
	stopUp := context.AfterFunc(ctx, func() { up.SetDeadline(time.Unix(1, 0)) })
	defer stopUp()
	if _, err := up.Write(raw); err != nil {
		call.Err = err
		tp.record(call)
		return
	}
	if cw, ok := up.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	if _, err := io.Copy(conn, up); err != nil {
		call.Err = err
	}
	tp.record(call)
}

func (tp *tap) record(c Call) {
	tp.mu.Lock()
	tp.log = append(tp.log, c)
	tp.mu.Unlock()
}

func (tp *tap) calls() []Call {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]Call(nil), tp.log...)
}

// close stops accepting, ends the relays under way and waits for them.
func (tp *tap) close() {
	tp.ln.Close()
	tp.cancel()
	tp.wg.Wait()
	_ = os.Remove(tp.path)
}

// readSCGIRequest reads one SCGI request, "<len>:<headers>,<body>", and
// returns what it calls along with the raw bytes to pass on.
func readSCGIRequest(r *bufio.Reader) (Call, []byte, error) {
	var call Call
	// ReadSlice bounds the length prefix by the reader's buffer.
	slice, err := r.ReadSlice(':')
	if err != nil {
		return call, nil, fmt.Errorf("scgi: read header length: %w", err)
	}
	prefix := string(slice)
	n, err := strconv.Atoi(prefix[:len(prefix)-1])
	if err != nil || n < 0 || n > maxSCGIHeaders {
		return call, nil, fmt.Errorf("scgi: bad header length %q", prefix)
	}
	headers := make([]byte, n+1) // and the ","
	if _, err := io.ReadFull(r, headers); err != nil {
		return call, nil, fmt.Errorf("scgi: read headers: %w", err)
	}
	if headers[n] != ',' {
		return call, nil, errors.New("scgi: headers not followed by ','")
	}
	fields := bytes.Split(headers[:n], []byte{0})
	length := -1
	for i := 0; i+1 < len(fields); i += 2 {
		switch string(fields[i]) {
		case "CONTENT_LENGTH":
			length, err = strconv.Atoi(string(fields[i+1]))
			if err != nil {
				return call, nil, fmt.Errorf("scgi: bad CONTENT_LENGTH %q", fields[i+1])
			}
		case "CONTENT_TYPE":
			call.ContentType = string(fields[i+1])
		}
	}
	if length < 0 || length > maxSCGIBody {
		return call, nil, fmt.Errorf("scgi: bad or missing CONTENT_LENGTH %d", length)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return call, nil, fmt.Errorf("scgi: read body: %w", err)
	}
	if call.ContentType == "application/json" {
		call.Method, call.Batch, err = jsonMethods(body)
	} else {
		call.Method, call.Batch, err = xmlMethods(body)
	}
	call.Err = err
	raw := make([]byte, 0, len(prefix)+len(headers)+len(body))
	raw = append(append(append(raw, prefix...), headers...), body...)
	return call, raw, nil
}

// xmlMethods returns the methodName of an XML-RPC call and, for
// system.multicall, the methodName member of each entry, which Flood
// writes as <member><name>methodName</name><value><string>d.stop</string></value></member>.
func xmlMethods(body []byte) (string, []string, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var path []string // names of the elements open
	var method, memberName string
	var batch []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return method, batch, nil
		}
		if err != nil {
			return method, batch, fmt.Errorf("xml: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			path = append(path, tok.Name.Local)
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			n := len(path)
			switch {
			case n == 2 && path[1] == "methodName":
				method = string(tok)
			case n >= 2 && path[n-1] == "name" && path[n-2] == "member":
				memberName = string(tok)
			case method == "system.multicall" && memberName == "methodName" && inMemberValue(path):
				batch = append(batch, string(tok))
			}
		}
	}
}

// inMemberValue reports whether path ends in member/value or
// member/value/string: the text of a struct member's string value.
func inMemberValue(path []string) bool {
	n := len(path)
	if n >= 1 && path[n-1] == "string" {
		path, n = path[:n-1], n-1
	}
	return n >= 2 && path[n-1] == "value" && path[n-2] == "member"
}

// jsonMethods returns the method of a JSON-RPC request, or the methods of
// a batch.
func jsonMethods(body []byte) (string, []string, error) {
	type request struct {
		Method string `json:"method"`
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var reqs []request
		if err := json.Unmarshal(body, &reqs); err != nil {
			return "", nil, fmt.Errorf("json: %w", err)
		}
		batch := make([]string, len(reqs))
		for i, r := range reqs {
			batch[i] = r.Method
		}
		return "", batch, nil
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return "", nil, fmt.Errorf("json: %w", err)
	}
	return req.Method, nil, nil
}
