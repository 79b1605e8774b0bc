package scgi

import (
	"bufio"
	"io"
	"sync/atomic"
)

// body reads a request or response body from a buffered connection: exactly
// n bytes when n >= 0 (ending early is io.ErrUnexpectedEOF), else up to EOF.
// It does not own the reader: Close only stops further reads. Close may be
// called concurrently with Read; Reads must not be concurrent.
type body struct {
	r      *bufio.Reader
	n      int64 // bytes left, or -1 to read to EOF
	eof    bool  // EOF returned once: keep returning it
	closed atomic.Bool
}

func newBody(r *bufio.Reader, n int64) *body {
	return &body{r: r, n: n}
}

func (b *body) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errBodyClosed
	}
	if b.eof || b.n == 0 {
		b.eof = true
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.n > 0 && int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	if b.n > 0 {
		b.n -= int64(k)
		if err == io.EOF && b.n > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	if err == io.EOF {
		b.eof = true
	}
	return k, err
}

func (b *body) Close() error {
	b.closed.Store(true)
	return nil
}
