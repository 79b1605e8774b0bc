package gateway

import (
	"context"
	"errors"
	"io"
	"sync"
)

// sharedReply is one upstream reply body read once and streamed to every
// client of a coalesced call, each at its own pace: the pump appends what
// rTorrent sends, readers follow behind. The bytes are held until the last
// reader is done with the flight, never copied per client.
type sharedReply struct {
	want int64 // the reply's Content-Length, or -1: the stream ends there

	mu   sync.Mutex
	buf  []byte // bytes before len(buf) never change
	done bool
	err  error         // why the stream ended early; nil at a clean end
	wake chan struct{} // closed and replaced whenever buf grows or the stream ends

	// onEnd, if set, is called with the stream's error (nil at a clean end)
	// once the last byte has arrived, before any reader can see the end.
	onEnd func(err error)
}

// maxPrealloc bounds the buffer reserved up front from a reply's
// Content-Length: rTorrent's replies are at most network.xmlrpc.size_limit,
// 32 MiB at most on 0.9.8.
const maxPrealloc = 64 << 20

func newSharedReply(contentLength int64) *sharedReply {
	n := int64(32 << 10)
	if contentLength > 0 {
		n = min(contentLength, maxPrealloc)
	}
	return &sharedReply{want: contentLength, buf: make([]byte, 0, n), wake: make(chan struct{})}
}

// pump reads r to its end into the reply. It is the only writer.
func (s *sharedReply) pump(r io.Reader) {
	for {
		s.mu.Lock()
		if cap(s.buf)-len(s.buf) < 16<<10 {
			grown := make([]byte, len(s.buf), max(2*cap(s.buf), len(s.buf)+64<<10))
			copy(grown, s.buf)
			s.buf = grown
		}
		// Readers look no further than len(buf): the spare capacity is
		// the pump's alone.
		spare := s.buf[len(s.buf):cap(s.buf)]
		s.mu.Unlock()

		n, err := r.Read(spare)
		if errors.Is(err, io.EOF) || s.want >= 0 && int64(len(s.buf)+n) >= s.want && err == nil {
			// The last byte is in: the call is over even if rTorrent has
			// not closed the connection yet.
			err = io.EOF
		}
		if err != nil && s.onEnd != nil {
			end := err
			if end == io.EOF {
				end = nil
			}
			s.onEnd(end)
		}

		s.mu.Lock()
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			s.done = true
			if err != io.EOF {
				s.err = err
			}
		}
		close(s.wake)
		s.wake = make(chan struct{})
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// next returns the bytes after off that have arrived, waiting for some if
// there are none yet; at the end it returns io.EOF or the stream's error.
func (s *sharedReply) next(ctx context.Context, off int) ([]byte, error) {
	for {
		s.mu.Lock()
		if off < len(s.buf) {
			b := s.buf[off:len(s.buf):len(s.buf)]
			s.mu.Unlock()
			return b, nil
		}
		if s.done {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return nil, err
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// replyReader is one client's view of a sharedReply. Close lets go of the
// flight.
type replyReader struct {
	s       *sharedReply
	ctx     context.Context
	off     int
	release func() // called once, by Close
	once    sync.Once
}

func (r *replyReader) Read(p []byte) (int, error) {
	b, err := r.s.next(r.ctx, r.off)
	if err != nil {
		return 0, err
	}
	n := copy(p, b)
	r.off += n
	return n, nil
}

// WriteTo writes the shared bytes straight from the reply's buffer, so
// io.Copy copies nothing.
func (r *replyReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b, err := r.s.next(r.ctx, r.off)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, err := w.Write(b)
		r.off += n
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

func (r *replyReader) Close() error {
	r.once.Do(r.release)
	return nil
}
