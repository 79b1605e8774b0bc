package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rtgate/rtgate/engine"
	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent"
)

// backend is what the rest of rtgate polls and calls.
type backend struct {
	kind    string // "rtorrent" or "embedded"
	caller  gateway.Caller
	raw     gateway.RawCaller // nil when calls cannot go upstream as bytes
	version string            // empty when the backend did not answer at start
	close   func() error
	// fallback says why this is the embedded engine although
	// rtorrent.address is set; empty otherwise.
	fallback string
}

// openBackend picks the backend the configuration asks for: rTorrent, the
// embedded engine, or (auto) rTorrent if it answers within rtorrent.wait
// and the engine if not.
func (m *Main) openBackend(ctx context.Context) (*backend, error) {
	b, err := m.pickBackend(ctx)
	if err == nil && m.wrapBackend != nil {
		b.caller = m.wrapBackend(b.caller)
	}
	return b, err
}

func (m *Main) pickBackend(ctx context.Context) (*backend, error) {
	addr := m.Config.RTorrent.Address
	switch m.Config.Backend {
	case "embedded":
		return m.openEngine()
	case "rtorrent":
		b, err := m.openRTorrent(ctx)
		if err != nil && b != nil {
			// Configured explicitly: keep it; the poller retries.
			m.Logger.Warn("rtorrent not reachable yet; the poller keeps trying", "rtorrent", addr, "err", err)
			return b, nil
		}
		return b, err
	}
	if addr == "" {
		m.Logger.Info("no rtorrent.address configured: using the embedded engine")
		return m.openEngine()
	}
	wait := m.Config.RTorrent.Wait
	b, err := m.waitRTorrent(ctx, wait)
	if err == nil || b == nil || ctx.Err() != nil {
		return b, err // answered; or an address that cannot work; or asked to stop
	}
	m.Logger.Warn("rtorrent not reachable at start-up: using the embedded engine", "rtorrent", addr, "waited", wait, "err", err,
		"hint", "rtgate stays on the engine until restarted; backend: rtorrent waits for rtorrent instead")
	e, err := m.openEngine()
	if err != nil {
		return nil, err
	}
	e.fallback = fmt.Sprintf("rtorrent.address did not answer within %v at start-up", wait)
	return e, nil
}

// waitRTorrent opens the rTorrent backend and asks it for its version
// until it answers or wait has passed, waiting between attempts 100 ms
// doubled each time up to 5 s. The last attempt may end up to one
// rtorrent.timeout after wait. The error is the last attempt's, with the
// backend (nil when the address cannot work at all).
func (m *Main) waitRTorrent(ctx context.Context, wait time.Duration) (*backend, error) {
	deadline := time.Now().Add(wait)
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		b, err := m.openRTorrent(ctx)
		left := time.Until(deadline)
		if err == nil || b == nil || left <= 0 {
			return b, err
		}
		if attempt == 1 {
			m.Logger.Info("waiting for rtorrent to answer", "rtorrent", m.Config.RTorrent.Address, "up_to", wait, "err", err)
		}
		t := time.NewTimer(min(delay, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return b, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// openRTorrent returns the rTorrent backend, and whether it answered.
func (m *Main) openRTorrent(ctx context.Context) (*backend, error) {
	c, err := m.client()
	if err != nil {
		return nil, err
	}
	// The raw path shares the client's SCGI client: one dialer, one retry
	// policy.
	b := &backend{kind: "rtorrent", caller: c, raw: c, close: func() error { return nil }}
	ictx, cancel := context.WithTimeout(ctx, m.Config.RTorrent.Timeout)
	defer cancel()
	in, err := c.Info(ictx)
	if err != nil {
		return b, err
	}
	b.version = in.Version
	return b, nil
}

// openEngine starts the embedded engine.
func (m *Main) openEngine() (*backend, error) {
	ec := m.Config.Engine
	if ec.DataDir == "" {
		ec.DataDir = filepath.Join(dataHome(), "rtgate", "downloads")
	}
	if ec.SessionDir == "" {
		ec.SessionDir = filepath.Join(dataHome(), "rtgate", "session")
	}
	for _, dir := range []string{ec.DataDir, ec.SessionDir} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	e, err := engine.New(engine.Options{
		DataDir:    ec.DataDir,
		SessionDir: ec.SessionDir,
		ListenPort: ec.Port,
		DisableDHT: ec.DisableDHT,
		Logger:     m.Logger.With("part", "engine"),
	})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	m.Logger.Info("embedded engine started", "data_dir", ec.DataDir, "session_dir", ec.SessionDir)
	return &backend{kind: "embedded", caller: e, version: engine.ClientVersion, close: e.Close}, nil
}

// dataHome is $XDG_DATA_HOME, or ~/.local/share.
func dataHome() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share")
	}
	return "."
}

// token returns the configured auth token, or "" for none.
func (m *Main) token() (string, error) {
	if m.Config.Auth.TokenFile == "" {
		return m.Config.Auth.Token, nil
	}
	return readTokenFile(m.Config.Auth.TokenFile)
}

// Compile-time checks that the backends fit the parts that use them.
var (
	_ poller.Caller     = (*engine.Engine)(nil)
	_ gateway.Caller    = (*engine.Engine)(nil)
	_ poller.Caller     = (*rtorrent.Client)(nil)
	_ gateway.Caller    = (*rtorrent.Client)(nil)
	_ gateway.RawCaller = (*rtorrent.Client)(nil)
)
