package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/rtgate/rtgate/protocol"
)

// WatchOptions tune Watch. A nil *WatchOptions means all defaults.
type WatchOptions struct {
	// MinBackoff and MaxBackoff bound the jittered wait between reconnects.
	// Zero means 100 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// OnReconnect, if set, is told of each failure that leads to a reconnect.
	OnReconnect func(err error, wait time.Duration)
}

// Watch delivers every message of topic to fn until ctx ends (it then
// returns nil) or fn returns an error (returned as is). It dials url,
// subscribes, and after any connection failure dials again with backoff and
// resumes from the last message fn was given, so fn sees each change once
// and in order, or a snapshot (Recovered false) when rtgate could not replay
// the gap. A topic that ended is subscribed again from scratch. A refused
// handshake (wrong token, Origin) or an unknown topic is final.
func Watch(ctx context.Context, url string, opts *Options, topic string, wo *WatchOptions, fn func(Message) error) error {
	if wo == nil {
		wo = &WatchOptions{}
	}
	minB, maxB := wo.MinBackoff, wo.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 10 * time.Second
	}
	var from *Position
	backoff := minB
	for {
		delivered, err := watchOnce(ctx, url, opts, topic, from, fn, &from)
		var fromFn errFn
		switch {
		case errors.As(err, &fromFn):
			return fromFn.err
		case ctx.Err() != nil:
			return nil
		case err == nil:
			continue
		case isFinal(err):
			return err
		}
		var ended *EndedError
		if errors.As(err, &ended) {
			from = nil // start over: a fresh snapshot
		}
		if delivered {
			backoff = minB
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		if wo.OnReconnect != nil {
			wo.OnReconnect(err, wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, maxB)
	}
}

// errFn marks an error returned by the caller's fn.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }
func (e errFn) Unwrap() error { return e.err }

// watchOnce runs one connection; *from tracks the resume position.
func watchOnce(ctx context.Context, url string, opts *Options, topic string, start *Position, fn func(Message) error, from **Position) (bool, error) {
	c, err := Dial(ctx, url, opts)
	if err != nil {
		return false, err
	}
	defer c.Close()
	sub, err := c.Subscribe(ctx, topic, start)
	if err != nil {
		return false, err
	}
	delivered := false
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return delivered, err
		}
		if err := fn(m); err != nil {
			return delivered, errFn{err}
		}
		delivered = true
		if m.Kind != KindEnded {
			pos := m.Position()
			*from = &pos
		}
	}
}

func isFinal(err error) bool {
	var hs *HandshakeError
	var rpc *Error
	switch {
	case errors.As(err, &hs):
		return hs.StatusCode == 401 || hs.StatusCode == 403
	case errors.As(err, &rpc):
		return rpc.Code == protocol.CodeUnknownTopic || rpc.Code == protocol.CodeInvalidParams || rpc.Code == protocol.CodeRefused
	}
	return false
}
