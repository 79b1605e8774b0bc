package rtorrent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/xmlrpc"
)

// hangsDuringCheck are the commands that, sent while rTorrent 0.9.8 runs a
// download's hash check, hang it for good about half the time (measured:
// d.stop 2 of 4, d.close 1 of 4, d.pause 2 of 4, Flood's stop of
// d.stop+d.close 3 of 4; a hung 0.9.8 answers nothing more and only
// SIGKILL ends it). 0.16.17 aborts the check instead.
var hangsDuringCheck = map[string]bool{
	"d.stop": true, "d.close": true, "d.pause": true, "d.close.directly": true,
	"d.try_stop": true, "d.try_close": true,
}

// HangsOnStopDuringCheck reports whether the rTorrent of this version
// hangs on d.stop, d.close or d.pause during a hash check: 0.9.8 and the
// releases before 0.15 (0.16.17, measured, does not).
func HangsOnStopDuringCheck(version string) bool {
	r, ok := ParseRelease(version)
	return ok && !r.AtLeast(0, 15)
}

// ErrHashCheck is wrapped by HoldDuringCheck's error for a call it would
// not send while the check it waited for went on.
var ErrHashCheck = errors.New("the download is being hash-checked")

// HoldDuringCheck makes a call safe for rTorrent 0.9.8: if it (or an entry
// of its system.multicall) stops, closes or pauses a download that c says
// is being hash-checked (d.hashing not 0), it waits, asking every 50 ms,
// until the check is over, for at most wait (and ctx). It returns nil when
// the call may go, and otherwise an error wrapping ErrHashCheck, naming
// the download, that the caller answers instead of sending the call.
func HoldDuringCheck(ctx context.Context, c Caller, wait time.Duration, method string, params []xmlrpc.Value) error {
	hashes := stopTargets(method, params, nil)
	if len(hashes) == 0 {
		return nil
	}
	deadline := time.Now().Add(wait)
	for _, h := range hashes {
		for {
			v, err := c.Call(ctx, "d.hashing", xmlrpc.NewString(h))
			if err != nil || v.Int() == 0 {
				break // not checking, or gone: nothing to protect
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%w: %s is refused until rTorrent 0.9.8 has finished checking %s (it would hang for good); retry when d.hashing is 0", ErrHashCheck, method, h)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: %w", ErrHashCheck, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// stopTargets returns the downloads a call would stop, close or pause.
func stopTargets(method string, params []xmlrpc.Value, out []string) []string {
	switch {
	case method == "system.multicall" && len(params) == 1:
		for _, e := range params[0].Values() {
			name, _ := e.Member("methodName")
			args, _ := e.Member("params")
			out = stopTargets(name.String(), args.Values(), out)
		}
	case hangsDuringCheck[method] && len(params) > 0 && params[0].Kind() == xmlrpc.String:
		if h, ok := infohash.OfTarget(params[0].String()); ok {
			out = append(out, h)
		}
	}
	return out
}
