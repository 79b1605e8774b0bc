package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rtgate/rtgate/auth"
	"github.com/rtgate/rtgate/engine"
	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/topics"
)

// backend is what the rest of rtgate polls and calls.
type backend struct {
	kind    string // "rtorrent" or "embedded"
	caller  gateway.Caller
	raw     gateway.RawCaller // nil when calls cannot go upstream as bytes
	version string
	close   func() error
}

// openBackend picks the backend the configuration asks for: rTorrent, the
// embedded engine, or (auto) rTorrent if it answers now and the engine if
// not.
func (m *Main) openBackend(ctx context.Context) (*backend, error) {
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
	b, err := m.openRTorrent(ctx)
	if err == nil {
		return b, nil
	}
	m.Logger.Warn("rtorrent not reachable at start-up: using the embedded engine", "rtorrent", addr, "err", err)
	return m.openEngine()
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
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
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

// run serves until ctx ends: the backend is polled into the topics hub, and
// the front doors answer calls through the method policy.
func (m *Main) run(ctx context.Context) error {
	log := m.Logger
	cfg := m.Config
	token, err := m.token()
	if err != nil {
		return err
	}
	b, err := m.openBackend(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	policy, err := m.policy(ctx, b)
	if err != nil {
		return err
	}

	p := poller.New(b.caller, &poller.Options{
		Backend:   b.kind,
		Interval:  cfg.Poll.Interval,
		FullSweep: cfg.Poll.FullSweep,
		Logger:    log.With("part", "poller"),
	})
	hub := topics.NewHub(p.Factory(), nil)
	defer hub.Close()

	up := gateway.NewCoalescer(b.caller, &gateway.CoalesceOptions{
		Raw: b.raw,
		// A write through rtgate is published at once, not at the next
		// tick. Writes that name no download (settings, loads by URL)
		// show at the next tick, which notices added downloads.
		OnWrite: func(_ string, targets []string) {
			if len(targets) > 0 {
				p.RequestRefresh(targets...)
			}
		},
		// What the poller read this second is not asked again (Flood's
		// transfer summary, every 2 s per Flood).
		Fresh: p.Answer,
	})
	rpc := gateway.NewHandler(up, &gateway.HandlerOptions{
		Policy:   policy,
		XMLOnly:  cfg.Listen.XMLOnly,
		ErrorLog: log.With("part", "gateway"),
	})

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.Run(gctx) })

	wsh := ws.New(up, hub, &ws.Options{
		Token:          token,
		OriginPatterns: cfg.WebSocket.Origins,
		Policy:         policy,
		MaxConns:       cfg.WebSocket.MaxConnections,
		CallRate:       cfg.WebSocket.CallRate,
		ReadLimit:      cfg.WebSocket.ReadLimit,
		Compression:    cfg.WebSocket.Compression,
		Logger:         log.With("part", "websocket"),
	})
	defer wsh.Close()
	mux := http.NewServeMux()
	guard := auth.RequireToken(rpc, token)
	mux.Handle("/RPC2", guard)
	mux.Handle(ws.DefaultPath, wsh)
	mux.Handle(ws.DefaultCompatPath, wsh)
	var httpListeners []net.Listener
	if cfg.Listen.HTTP != "" {
		l, err := net.Listen("tcp", cfg.Listen.HTTP)
		if err != nil {
			return fmt.Errorf("listen.http: %w", err)
		}
		httpListeners = append(httpListeners, l)
	}
	if cfg.Listen.HTTPSocket != "" {
		l, err := listenUnix(cfg.Listen.HTTPSocket, 0o660)
		if err != nil {
			return fmt.Errorf("listen.http_socket: %w", err)
		}
		httpListeners = append(httpListeners, l)
	}
	for _, l := range httpListeners {
		if err := auth.CheckListener(l.Addr(), token); err != nil {
			closeAll(httpListeners)
			return fmt.Errorf("listen %s: %w: set auth.token_file so that clients must authenticate", l.Addr(), err)
		}
	}
	for _, l := range httpListeners {
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		log.Info("http listening", "addr", l.Addr().String(), "paths", "/RPC2 /ws /rtorrent-ws")
		g.Go(func() error {
			return serveUntil(gctx, func() error { return srv.Serve(l) }, func(ctx context.Context) error {
				// Hijacked WebSocket connections are not the server's.
				wsh.Shutdown(ctx)
				return srv.Shutdown(ctx)
			}, http.ErrServerClosed)
		})
	}
	if cfg.Listen.SCGI != "" {
		l, err := listenSCGI(cfg.Listen.SCGI, os.FileMode(cfg.Listen.SCGIMode))
		if err != nil {
			return fmt.Errorf("listen.scgi: %w", err)
		}
		if err := chownSocket(l, cfg.Listen.SCGIOwner, cfg.Listen.SCGIGroup); err != nil {
			l.Close()
			return fmt.Errorf("listen.scgi: %w", err)
		}
		srv := &scgi.Server{Handler: rpc, ErrorLog: log.With("part", "scgi")}
		log.Info("scgi listening", "addr", cfg.Listen.SCGI)
		g.Go(func() error {
			return serveUntil(gctx, func() error { return srv.Serve(l) }, srv.Shutdown, scgi.ErrServerClosed)
		})
	}

	if file := cfg.Auth.TokenFile; file != "" {
		g.Go(func() error {
			return watchTokenFile(gctx, file, token, log, func(tok string) {
				guard.SetToken(tok)
				wsh.SetToken(tok) // connections made with the old token are closed with 4001
			})
		})
	}

	log.Info("rtgate running", "backend", b.kind, "version", b.version)
	err = g.Wait()
	log.Info("stopped")
	if ctx.Err() != nil {
		return nil // asked to stop
	}
	return err
}

// policy builds the method policy. Unless the operator allowed the
// directory setters outright or named the roots, downloads may be placed
// below the backend's own directory.default, so that Flood can add and move
// torrents there and nowhere else.
func (m *Main) policy(ctx context.Context, b *backend) (*policy.Policy, error) {
	pc := policy.Config{Allow: m.Config.Policy.Allow, Deny: m.Config.Policy.Deny, Directories: m.Config.Policy.Directories}
	if len(pc.Directories) == 0 {
		open, err := policy.New(pc)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		if open.Allows("d.directory.set") || open.Allows("d.directory_base.set") {
			return open, nil
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		dir, err := policy.DirectoryDefault(dctx, b.caller) // the backend itself, not behind the policy
		cancel()
		if err != nil {
			m.Logger.Warn("the backend's directory.default is unknown: clients cannot choose download directories", "err", err)
			return open, nil
		}
		pc.Directories = []string{dir}
	}
	p, err := policy.New(pc)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	m.Logger.Info("clients may place downloads below", "directories", pc.Directories)
	return p, nil
}

// serveUntil runs serve until ctx ends, then shuts it down, giving
// in-flight requests a few seconds.
func serveUntil(ctx context.Context, serve func() error, shutdown func(context.Context) error, closed error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, closed) {
		return err
	}
	return nil
}

// listenSCGI opens the SCGI door: a Unix socket with mode, or loopback TCP
// (SCGI has no way to authenticate, so it never listens beyond loopback).
func listenSCGI(addr string, mode os.FileMode) (net.Listener, error) {
	if rest, ok := strings.CutPrefix(addr, "tcp://"); ok {
		if !isLoopback(rest) {
			return nil, fmt.Errorf("%s is not a loopback address: SCGI cannot authenticate its clients", addr)
		}
		return net.Listen("tcp", rest)
	}
	return listenUnix(addr, mode)
}

// listenUnix listens on a Unix socket path (or unix:///path) with mode,
// creating its directory.
func listenUnix(addr string, mode os.FileMode) (net.Listener, error) {
	path := strings.TrimPrefix(addr, "unix://")
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(addr, "unix:") && strings.Contains(path, ":") {
		return nil, fmt.Errorf("%q: want a socket path, unix:///path or tcp://127.0.0.1:port", addr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	// A socket left by an earlier run that nothing answers on is removed;
	// one that answers belongs to someone else.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is in use by another process", path)
		}
		os.Remove(path)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// chownSocket gives a Unix socket to owner and group (names or numeric
// ids; empty leaves each as it is), so that a web server or Flood running
// as another user can reach it.
func chownSocket(l net.Listener, owner, group string) error {
	ua, ok := l.Addr().(*net.UnixAddr)
	if !ok || (owner == "" && group == "") {
		return nil
	}
	uid, gid := -1, -1
	if owner != "" {
		u, err := user.Lookup(owner)
		if err != nil {
			if u, err = user.LookupId(owner); err != nil {
				return fmt.Errorf("owner %q: %w", owner, err)
			}
		}
		uid, _ = strconv.Atoi(u.Uid)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			if g, err = user.LookupGroupId(group); err != nil {
				return fmt.Errorf("group %q: %w", group, err)
			}
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return os.Chown(ua.Name, uid, gid)
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// isLoopback reports whether a host:port listens on loopback only.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
	_ gateway.RawCaller = (*scgi.Client)(nil)
)
