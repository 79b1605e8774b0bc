package rtorrenttest

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
)

// RawCall sends xmlBody (a complete <methodCall> document) to the instance
// over SCGI and returns rTorrent's whole reply, SCGI headers ("Status: 200
// OK\r\n...\r\n\r\n") included. It frames the request itself so that tests
// need nothing from the project's scgi or xmlrpc packages. An XML-RPC fault
// is a successful reply, not an error. RawCall is safe for concurrent use;
// ctx bounds the whole exchange. It uses only Socket, so
// (&Instance{Socket: path}).RawCall also talks to a socket a test serves
// itself.
func (i *Instance) RawCall(ctx context.Context, xmlBody []byte) ([]byte, error) {
	return rawCall(ctx, i.Socket, xmlBody)
}

func rawCall(ctx context.Context, socket string, body []byte) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("dial scgi: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Write(frame(body)); err != nil {
		return nil, fmt.Errorf("write scgi request: %w", ctxErr(ctx, err))
	}
	reply, err := io.ReadAll(conn)
	if err != nil {
		return nil, fmt.Errorf("read scgi reply: %w", ctxErr(ctx, err))
	}
	if len(reply) == 0 {
		return nil, fmt.Errorf("read scgi reply: %w", io.ErrUnexpectedEOF)
	}
	return reply, nil
}

// frame wraps body in an SCGI request. rTorrent insists that
// CONTENT_LENGTH is the first header.
func frame(body []byte) []byte {
	h := make([]byte, 0, 64)
	h = append(h, "CONTENT_LENGTH\x00"...)
	h = strconv.AppendInt(h, int64(len(body)), 10)
	h = append(h, "\x00SCGI\x001\x00CONTENT_TYPE\x00text/xml\x00"...)
	req := make([]byte, 0, len(h)+len(body)+8)
	req = strconv.AppendInt(req, int64(len(h)), 10)
	req = append(req, ':')
	req = append(req, h...)
	req = append(req, ',')
	return append(req, body...)
}

// ctxErr prefers the context's error to the "use of closed connection"
// that cancelling causes.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}
