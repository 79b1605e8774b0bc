package scgi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"
)

// parseAddr splits a Client address into a network and a dialable address,
// and returns the canonical spelling String prints.
func parseAddr(addr string) (network, address, canonical string, err error) {
	switch {
	case addr == "":
		return "", "", "", errors.New("empty address")
	case strings.HasPrefix(addr, "unix://"):
		path := strings.TrimPrefix(addr, "unix://")
		if !strings.HasPrefix(path, "/") {
			return "", "", "", fmt.Errorf("%q: unix:// takes an absolute path (unix:///abs/path); write unix:rel/path for a relative one", addr)
		}
		return "unix", path, "unix://" + path, nil
	case strings.HasPrefix(addr, "unix:"):
		path := strings.TrimPrefix(addr, "unix:")
		if path == "" {
			return "", "", "", fmt.Errorf("%q: empty socket path", addr)
		}
		if strings.HasPrefix(path, "/") {
			return "unix", path, "unix://" + path, nil
		}
		return "unix", path, "unix:" + path, nil
	case strings.HasPrefix(addr, "tcp://"):
		hostport := strings.TrimPrefix(addr, "tcp://")
		if err := checkHostPort(hostport); err != nil {
			return "", "", "", fmt.Errorf("%q: %w", addr, err)
		}
		return "tcp", hostport, "tcp://" + hostport, nil
	case strings.HasPrefix(addr, "/"):
		return "unix", addr, "unix://" + addr, nil
	case strings.Contains(addr, "://"):
		scheme, _, _ := strings.Cut(addr, "://")
		return "", "", "", fmt.Errorf("%q: unsupported scheme %q (want unix:// or tcp://)", addr, scheme)
	default:
		if err := checkHostPort(addr); err != nil {
			return "", "", "", fmt.Errorf("%q: %w (a relative unix socket path is written unix:%s)", addr, err, addr)
		}
		return "tcp", addr, "tcp://" + addr, nil
	}
}

func checkHostPort(hostport string) error {
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return errors.New("want host:port")
	}
	if port == "" {
		return errors.New("missing port")
	}
	if strings.ContainsAny(hostport, "/?#") {
		return errors.New("want host:port without a path")
	}
	return nil
}

// dial connects to c's address, retrying connect errors with jittered
// exponential backoff until c.attempts tries are spent or ctx is done.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var last error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, c.dialError(attempt-1, err, last)
		}
		conn, err := c.dialFunc(ctx, c.network, c.address)
		if err == nil {
			return conn, nil
		}
		if cerr := ctxEnded(ctx); cerr != nil {
			// The dial was cut short by ctx: its deadline shows as a dial
			// timeout a moment before ctx.Err says so. The cause worth
			// reporting is the previous attempt's, if there was one.
			if last == nil {
				last = err
			}
			return nil, c.dialError(attempt, cerr, last)
		}
		last = err
		if attempt >= c.attempts || !retryable(err) {
			return nil, &DialError{Addr: c.str, Attempts: attempt, Err: err}
		}
		wait := c.backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// The next attempt would come too late: stop with the real cause.
			return nil, &DialError{Addr: c.str, Attempts: attempt, Err: err}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, c.dialError(attempt, ctx.Err(), last)
		}
	}
}

// ctxEnded returns ctx's error, or DeadlineExceeded once its deadline has
// passed even if ctx has not said so yet.
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// dialError reports retries ended by the context, keeping the last dial
// error in the message and the chain.
func (c *Client) dialError(attempts int, ctxErr, last error) error {
	err := ctxErr
	if last != nil {
		var op *net.OpError
		if errors.As(last, &op) && op.Err != nil && last == error(op) {
			last = op.Err
		}
		err = fmt.Errorf("%w (last error: %w)", ctxErr, last)
	}
	return &DialError{Addr: c.str, Attempts: attempts, Err: err}
}

// backoff returns the wait after the given failed attempt: MinBackoff doubled
// per attempt, capped at MaxBackoff, of which the upper half is random.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.minBackoff
	for i := 1; i < attempt && d < c.maxBackoff; i++ {
		if d > c.maxBackoff/2 {
			d = c.maxBackoff
			break
		}
		d *= 2
	}
	d = min(d, c.maxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// retryable reports whether a dial error means nothing reached the server,
// so that trying again cannot run a call twice: the socket is missing or
// refusing, its backlog is full, or connecting timed out.
func retryable(err error) bool {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ENOENT),
		errors.Is(err, syscall.EAGAIN),
		errors.Is(err, syscall.ETIMEDOUT):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
