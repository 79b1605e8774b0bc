package scgi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Errors returned by ReadRequest, ReadResponse, Client and Server. Match them
// with errors.Is: the returned errors wrap them with a precise reason.
var (
	// ErrMalformed reports a request that breaks SCGI framing: a bad netstring,
	// a header block without its trailing ',', an odd number of fields, a
	// missing or invalid CONTENT_LENGTH, a duplicate header, or a request cut
	// short. A Server answers it with "Status: 400 Bad Request".
	ErrMalformed = errors.New("scgi: malformed request")

	// ErrHeaderTooLarge reports a request header block longer than
	// Limits.MaxHeaderBytes, or a response header block longer than 64 KiB.
	// A Server answers it with "Status: 413 Request Entity Too Large".
	ErrHeaderTooLarge = errors.New("scgi: header block too large")

	// ErrBodyTooLarge reports a CONTENT_LENGTH above Limits.MaxBodyBytes.
	// A Server answers it with "Status: 413 Request Entity Too Large".
	ErrBodyTooLarge = errors.New("scgi: body too large")

	// ErrMalformedResponse reports a response whose CGI header block cannot be
	// parsed: a line without ':', a bad Status or Content-Length, a header
	// block cut short.
	ErrMalformedResponse = errors.New("scgi: malformed response")

	// ErrServerClosed is returned by Server.Serve after Close or Shutdown.
	ErrServerClosed = errors.New("scgi: server closed")
)

// errBodyClosed is returned by reads from a request or response body after
// its Close.
var errBodyClosed = errors.New("scgi: read on closed body")

// DialError reports that a Client could not connect to its address after
// Attempts tries. Err is the last dial error, or the context's error (which
// then wraps the last dial error too) when the context ended the retries.
type DialError struct {
	Addr     string // the address as Client.String prints it
	Attempts int    // connection attempts made
	Err      error
}

func (e *DialError) Error() string {
	attempts := "attempts"
	if e.Attempts == 1 {
		attempts = "attempt"
	}
	err := e.Err
	// net.OpError repeats "dial unix /path:"; the address is already said.
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil && err == error(op) {
		err = op.Err
	}
	return fmt.Sprintf("dial scgi %s: %d %s: %v", e.Addr, e.Attempts, attempts, err)
}

func (e *DialError) Unwrap() error { return e.Err }

func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}

func malformedResponse(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformedResponse, reason)
}

// ctxErr returns the context's error when err was caused by the context
// ending (the connection was poisoned by its AfterFunc, or its deadline,
// copied from the context, passed); otherwise nil.
func ctxErr(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			return context.DeadlineExceeded
		}
	}
	return nil
}

// quote quotes s for an error message, cut to a readable length: messages
// about a request are sent back to its client.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
