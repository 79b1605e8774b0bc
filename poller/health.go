package poller

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/rtgate/rtgate/internal/jsonenc"
)

// State is the poller's connection to its backend.
type State string

// The states of Health, in the order a poller usually goes through them.
const (
	StateConnecting   State = "connecting"   // Run started; no attempt has finished yet
	StateConnected    State = "connected"    // the last poll succeeded
	StateDisconnected State = "disconnected" // a poll or connection attempt failed; Error says why
	StateReconnecting State = "reconnecting" // waiting for attempt Attempt, due at RetryAt
)

// Health is the backend's health as the poller sees it, published on the
// "backend" topic.
type Health struct {
	State   State
	Backend string    // Options.Backend: what the poller polls, e.g. "rtorrent" or "embedded"
	Version string    // system.client_version of the backend last connected to
	PID     int64     // its system.pid, 0 if it does not offer one
	Since   time.Time // when State was entered
	// Error is why the backend was lost, in disconnected and reconnecting.
	// In connected, it is the last poll's failure (a fault, a malformed
	// reply: the state stays as the last good poll left it), empty once a
	// poll succeeds again.
	Error   string
	Attempt int       // in reconnecting: the number of the coming attempt (1, 2, …)
	RetryAt time.Time // in reconnecting: when that attempt starts
	// Fallback is Options.Fallback: why this backend is polled in place
	// of the one configured; empty when it is the one configured.
	Fallback string
}

// appendHealth appends h's JSON: {"state":…,"version":…,"pid":…,"since":ms}
// plus "backend", "fallback", "error", "attempt" and "retryAt" (ms) when
// set.
func appendHealth(dst []byte, h *Health) []byte {
	dst = append(dst, `{"state":`...)
	dst = jsonenc.AppendString(dst, string(h.State))
	if h.Backend != "" {
		dst = append(dst, `,"backend":`...)
		dst = jsonenc.AppendString(dst, h.Backend)
	}
	if h.Fallback != "" {
		dst = append(dst, `,"fallback":`...)
		dst = jsonenc.AppendString(dst, h.Fallback)
	}
	dst = append(dst, `,"version":`...)
	dst = jsonenc.AppendString(dst, h.Version)
	dst = append(dst, `,"pid":`...)
	dst = strconv.AppendInt(dst, h.PID, 10)
	dst = append(dst, `,"since":`...)
	dst = strconv.AppendInt(dst, ms(h.Since), 10)
	if h.Error != "" {
		dst = append(dst, `,"error":`...)
		dst = jsonenc.AppendString(dst, h.Error)
	}
	if h.Attempt > 0 {
		dst = append(dst, `,"attempt":`...)
		dst = strconv.AppendInt(dst, int64(h.Attempt), 10)
		dst = append(dst, `,"retryAt":`...)
		dst = strconv.AppendInt(dst, ms(h.RetryAt), 10)
	}
	return append(dst, '}')
}

// ms returns t in milliseconds since the epoch, 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// backoff returns how long to wait before reconnect attempt n (1, 2, …):
// lo doubled per attempt, capped at hi, then jittered down by up to a
// half ("equal jitter"), so that rtgates restarted together do not retry
// in step.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	d = time.Duration(float64(d) * (0.5 + rand.Float64()/2)) // in [d/2, d)
	return max(d, time.Millisecond)
}
