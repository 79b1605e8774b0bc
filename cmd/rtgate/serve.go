package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rtgate/rtgate/auth"
	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/topics"
	"github.com/rtgate/rtgate/ui"
	"github.com/rtgate/rtgate/xmlrpc"
)

// hashCheckHold is how long a stop, close or pause of a download rTorrent
// 0.9.8 is hash-checking waits for the check before it is refused.
const hashCheckHold = 10 * time.Second

// server is `rtgate run` once everything is open and nothing runs yet:
// the backend, the policy, every listener and the parts wired between
// them. open makes one, serve runs it until its context ends.
type server struct {
	log     *slog.Logger
	backend *backend
	poller  *poller.Poller
	hub     *topics.Hub
	ws      *ws.Handler
	guard   *auth.TokenGuard
	token   string
	// tokenFile is watched for a new token while serving; "" for none.
	tokenFile string

	http []httpDoor
	scgi *scgiDoor

	stats *stats
}

type httpDoor struct {
	l   net.Listener
	srv *http.Server
}

type scgiDoor struct {
	l    net.Listener
	addr string
	srv  *scgi.Server
}

// run serves until ctx ends: the backend is polled into the topics hub, and
// the front doors answer calls through the method policy.
func (m *Main) run(ctx context.Context) error {
	s, err := m.open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // asked to stop while opening (waiting for rTorrent)
		}
		return err
	}
	return s.serve(ctx)
}

// open opens, in order, everything rtgate serves with: the token, the
// backend, the policy, then every listener; then it wires the poller, the
// hub and the doors. No goroutine of rtgate's runs until serve. If any
// step fails, what the steps before it opened is closed again.
func (m *Main) open(ctx context.Context) (_ *server, err error) {
	cfg := m.Config
	s := &server{log: m.Logger, stats: &m.stats}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()

	if s.token, err = m.token(); err != nil {
		return nil, err
	}
	s.tokenFile = cfg.Auth.TokenFile
	if s.backend, err = m.openBackend(ctx); err != nil {
		return nil, err
	}
	b := s.backend
	undo = append(undo, func() { b.close() })
	pol, err := m.policy(ctx, s.backend)
	if err != nil {
		return nil, err
	}

	listen := func(what string, open func() (net.Listener, error)) (net.Listener, error) {
		l, err := open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		undo = append(undo, func() { l.Close() })
		return l, nil
	}
	var httpListeners []net.Listener
	if cfg.Listen.HTTP != "" {
		l, err := listen("listen.http", func() (net.Listener, error) { return net.Listen("tcp", cfg.Listen.HTTP) })
		if err != nil {
			return nil, err
		}
		httpListeners = append(httpListeners, l)
	}
	if cfg.Listen.HTTPSocket != "" {
		l, err := listen("listen.http_socket", func() (net.Listener, error) { return listenUnix(cfg.Listen.HTTPSocket, 0o660) })
		if err != nil {
			return nil, err
		}
		httpListeners = append(httpListeners, l)
	}
	for _, l := range httpListeners {
		if err := auth.CheckListener(l.Addr(), s.token); err != nil {
			return nil, fmt.Errorf("listen %s: %w: set auth.token_file so that clients must authenticate", l.Addr(), err)
		}
	}
	if cfg.Listen.SCGI != "" {
		l, err := listen("listen.scgi", func() (net.Listener, error) {
			return listenSCGI(cfg.Listen.SCGI, os.FileMode(cfg.Listen.SCGIMode))
		})
		if err != nil {
			return nil, err
		}
		if err := chownSocket(l, cfg.Listen.SCGIOwner, cfg.Listen.SCGIGroup); err != nil {
			return nil, fmt.Errorf("listen.scgi: %w", err)
		}
		s.scgi = &scgiDoor{l: l, addr: cfg.Listen.SCGI}
	}

	// Nothing below fails: wire the parts.
	upstream := rtorrent.Recover(s.backend.caller, s.onPanic)
	s.poller = poller.New(upstream, &poller.Options{
		Backend:   s.backend.kind,
		Fallback:  s.backend.fallback,
		Interval:  cfg.Poll.Interval,
		FullSweep: cfg.Poll.FullSweep,
		Timeout:   cfg.RTorrent.Timeout,
		Logger:    m.Logger.With("part", "poller"),

		NoEventHooks: !cfg.Poll.EventHooks,
	})
	s.hub = topics.NewHub(s.poller.Factory(), nil)
	var raw gateway.RawCaller
	if s.backend.raw != nil {
		raw = rtorrent.RecoverRaw(s.backend.raw, s.onPanic)
	}
	var fresh func(string, []xmlrpc.Value) (xmlrpc.Value, uint64, bool)
	if cfg.Poll.AnswerReads {
		fresh = s.poller.Answer
	}
	up := gateway.NewCoalescer(upstream, &gateway.CoalesceOptions{
		Raw:     raw,
		Timeout: cfg.RTorrent.Timeout,
		// A write through rtgate is published at once, not at the next
		// tick, and reads after it wait for what it changed to be read
		// again (read-your-writes).
		OnWrite: s.poller.NoteWrite,
		// Reads the poller holds the answer to are answered from its
		// state: Flood's and ruTorrent's polls, getters, settings.
		Fresh: fresh,
		// The version the poller last connected to: shims, and JSON
		// upstream as JSON to an rTorrent that speaks it.
		Version: s.backendVersion,
		// rTorrent 0.9.8 hangs for good on a stop during a hash check:
		// such a call waits for the check (or is refused, saying why).
		BeforeWrite: func(ctx context.Context, method string, params []xmlrpc.Value) error {
			if s.backend.kind != "rtorrent" || !rtorrent.HangsOnStopDuringCheck(s.backendVersion()) {
				return nil
			}
			if err := rtorrent.HoldDuringCheck(ctx, upstream, hashCheckHold, method, params); err != nil {
				return &xmlrpc.Fault{Code: xmlrpc.FaultInternal, Message: "rtgate: " + err.Error()}
			}
			return nil
		},
	})
	s.stats.reads.Store(up)
	rpc := gateway.NewHandler(up, &gateway.HandlerOptions{
		Policy:   pol,
		XMLOnly:  cfg.Listen.XMLOnly,
		ErrorLog: m.Logger.With("part", "gateway"),
	})
	s.ws = ws.New(up, s.hub, &ws.Options{
		Token:          s.token,
		OriginPatterns: cfg.WebSocket.Origins,
		Policy:         pol,
		Version:        s.backendVersion,
		MaxConns:       cfg.WebSocket.MaxConnections,
		CallRate:       cfg.WebSocket.CallRate,
		ReadLimit:      cfg.WebSocket.ReadLimit,
		Compression:    cfg.WebSocket.Compression,
		Logger:         m.Logger.With("part", "websocket"),
	})
	mux := http.NewServeMux()
	s.guard = auth.RequireToken(rpc, s.token)
	mux.Handle("/RPC2", s.guard)
	mux.Handle(ws.DefaultPath, s.ws)
	mux.Handle(ws.DefaultCompatPath, s.ws)
	// Outside the token guard: see health.go for what they reveal.
	mux.Handle(healthzPath, healthHandler())
	mux.Handle(readyzPath, readyHandler(s.poller))
	mux.Handle("/", ui.Handler()) // the page and /rtgate.js; any other path 404
	for _, l := range httpListeners {
		s.http = append(s.http, httpDoor{l: l, srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
		}})
	}
	if s.scgi != nil {
		s.scgi.srv = &scgi.Server{Handler: rpc, ErrorLog: m.Logger.With("part", "scgi")}
	}
	return s, nil
}

// serve runs every part of s until ctx ends or one of them fails, then
// stops them all and closes the backend.
func (s *server) serve(ctx context.Context) error {
	defer s.backend.close()
	defer s.hub.Close()
	defer s.ws.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.poller.Run(gctx) })
	for _, d := range s.http {
		s.log.Info("http listening", "addr", d.l.Addr().String(), "paths", "/ /RPC2 /ws /rtorrent-ws /healthz /readyz")
		g.Go(func() error {
			return serveUntil(gctx, func() error { return d.srv.Serve(d.l) }, func(ctx context.Context) error {
				// Hijacked WebSocket connections are not the server's.
				s.ws.Shutdown(ctx)
				return d.srv.Shutdown(ctx)
			}, http.ErrServerClosed)
		})
	}
	if d := s.scgi; d != nil {
		s.log.Info("scgi listening", "addr", d.addr)
		g.Go(func() error {
			return serveUntil(gctx, func() error { return d.srv.Serve(d.l) }, d.srv.Shutdown, scgi.ErrServerClosed)
		})
	}
	if file := s.tokenFile; file != "" {
		g.Go(func() error {
			return watchTokenFile(gctx, file, s.token, s.log, func(tok string) {
				s.guard.SetToken(tok)
				s.ws.SetToken(tok) // connections made with the old token are closed with 4001
			})
		})
	}

	s.log.Info("rtgate running", "backend", s.backend.kind, "version", s.backend.version)
	err := g.Wait()
	s.log.Info("stopped")
	if ctx.Err() != nil {
		return nil // asked to stop
	}
	return err
}

// backendVersion is the version of the backend the poller last connected
// to, "" before the first connection.
func (s *server) backendVersion() string { return s.poller.Health().Version }

// onPanic logs a recovered panic of an upstream call with its stack, and
// counts it.
func (s *server) onPanic(p *rtorrent.PanicError) {
	s.stats.panics.Add(1)
	s.log.Error("upstream call panicked; answered with a fault", "method", p.Method, "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))
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
		if b.version == "" {
			m.Logger.Warn("the backend did not answer at start: clients cannot choose download directories until rtgate restarts (or set policy.directories)")
			return open, nil
		}
		dctx, cancel := context.WithTimeout(ctx, m.Config.RTorrent.Timeout)
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
