package ws

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
)

// wsBufferSize is the size of each connection's read and write buffers.
// net/http hands a hijacked connection over with 4 KiB of each, 8 KiB that
// every idle WebSocket would keep for nothing: most frames rtgate reads
// and writes are a few hundred bytes, and bigger ones go to and from the
// socket without the buffer's help.
const wsBufferSize = 1 << 10

// smallBuffers is an http.ResponseWriter whose Hijack hands the connection
// over with wsBufferSize buffers instead of net/http's.
type smallBuffers struct {
	http.ResponseWriter
}

// Unwrap lets http.ResponseController find the writer's other methods.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("gateway: http.ResponseWriter does not implement http.Hijacker")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// What the client sent after its handshake request and net/http read
	// ahead must come first; the websocket library takes it from the
	// reader's buffer.
	n := brw.Reader.Buffered()
	ahead, _ := brw.Reader.Peek(n)
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), conn), max(wsBufferSize, n))
	if n > 0 {
		if _, err := r.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(conn, wsBufferSize)), nil
}
