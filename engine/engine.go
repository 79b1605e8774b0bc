package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/storage"
	"golang.org/x/time/rate"

	"github.com/rtgate/rtgate/xmlrpc"
)

// Options configure an Engine. The zero value is a working engine that
// keeps nothing across restarts.
type Options struct {
	// DataDir is directory.default, where downloads put their content
	// unless told otherwise (d.directory.set, load commands). Zero means
	// the working directory. It is made absolute.
	DataDir string
	// SessionDir is session.path: where the engine keeps every download
	// (its .torrent or magnet, state, custom fields, directory, totals)
	// and the piece completion store, so that Close and New on the same
	// directory resume without re-downloading. Zero means no persistence.
	// Two engines cannot share one; New fails with ErrSessionLocked.
	SessionDir string
	// ListenPort is the BitTorrent port (TCP, and UDP for DHT). Zero picks
	// a free one; network.listen.port tells which.
	ListenPort int
	// ListenHost is the address to listen on. Zero means all interfaces.
	ListenHost string
	// DisableDHT turns the DHT off. Then, as in rTorrent, a torrent
	// without trackers is refused.
	DisableDHT bool
	// Logger receives the engine's own messages and anacrolix's warnings.
	// Nil discards them.
	Logger *slog.Logger
}

// ClientVersion is what system.client_version answers: the rTorrent
// version whose RPC dialect the engine speaks, so that clients which parse
// it (ruTorrent checks for 0.9.x) take the engine for what it emulates.
// EngineVersion tells the engine apart.
const ClientVersion = "0.9.8"

// LibraryVersion is system.library_version, libtorrent's version in the
// rTorrent the engine emulates.
const LibraryVersion = "0.13.8"

// EngineVersion is what the engine-only method engine.version answers.
const EngineVersion = "rtgate engine (anacrolix/torrent v1.59.1)"

// An Engine is an in-process BitTorrent client that answers rTorrent's
// XML-RPC methods. Its Call has the signature of *rtorrent.Client's, so
// it can stand in wherever rtgate talks to rTorrent.
//
// An Engine is safe for concurrent use. Calls are answered one at a time,
// as rTorrent answers them (a poll of 1,000 downloads holds the engine for
// a few milliseconds); transfers, announces and hash checks run
// concurrently in the engine's own goroutines, which Close stops.
type Engine struct {
	opts         Options
	log          *slog.Logger
	anacrolixLog *slog.Logger
	cl           *torrent.Client
	completion   storage.PieceCompletion // shared by all downloads; closed by Close
	commands     map[string]*command
	methodList   xmlrpc.Value
	upLimit      *rate.Limiter
	downLimit    *rate.Limiter
	pid          int64

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	hashWake chan struct{}

	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	closed    bool
	downloads map[string]*download // by uppercase hash
	order     []*download          // the main view
	nextSeq   int64
	hashQueue []*download
	dirty     map[*download]struct{}
	settings  settings
	upRate    int64 // global, published by the sampler
	downRate  int64
	peerRates map[*torrent.PeerConn]peerRate
}

// New starts an engine: it opens the session, starts the anacrolix client
// listening for peers, and resumes the downloads the session holds.
func New(opts Options) (*Engine, error) {
	e := &Engine{
		opts:      opts,
		log:       opts.Logger,
		downloads: make(map[string]*download),
		dirty:     make(map[*download]struct{}),
		hashWake:  make(chan struct{}, 1),
		pid:       int64(os.Getpid()),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.anacrolixLog = slog.New(minLevel{e.log.Handler(), slog.LevelWarn}).With("component", "anacrolix")

	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = "."
	}
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("engine: data directory: %w", err)
	}
	e.settings = defaultSettings(dataDir)

	unclean := false
	if opts.SessionDir != "" {
		if err := os.MkdirAll(opts.SessionDir, 0o755); err != nil {
			return nil, fmt.Errorf("engine: session directory: %w", err)
		}
		pc, err := storage.NewBoltPieceCompletion(opts.SessionDir)
		if err != nil {
			if strings.Contains(err.Error(), "timeout") {
				return nil, fmt.Errorf("%w: %s", ErrSessionLocked, opts.SessionDir)
			}
			return nil, fmt.Errorf("engine: piece completion store: %w", err)
		}
		e.completion = pc
		unclean = !e.takeCleanMarker()
	} else {
		e.completion = storage.NewMapPieceCompletion()
	}

	e.upLimit = rate.NewLimiter(rate.Inf, limiterBurst)
	e.downLimit = rate.NewLimiter(rate.Inf, limiterBurst)
	cl, err := torrent.NewClient(e.clientConfig(dataDir))
	if err != nil {
		e.completion.Close()
		return nil, fmt.Errorf("engine: start client: %w", err)
	}
	e.cl = cl
	e.commands = commandTable()
	names := methodNames(e.commands)
	list := make([]xmlrpc.Value, len(names))
	for i, n := range names {
		list[i] = xmlrpc.NewString(n)
	}
	e.methodList = xmlrpc.NewArray(list...)
	e.ctx, e.cancel = context.WithCancel(context.Background())

	e.mu.Lock()
	defer e.mu.Unlock()
	if opts.SessionDir != "" {
		if err := e.loadSession(unclean); err != nil {
			e.cancel()
			cl.Close()
			e.completion.Close()
			return nil, err
		}
	}
	e.wg.Add(2)
	go e.hashLoop()
	go e.sampleLoop()
	for _, d := range e.order {
		e.resumeDownload(d)
	}
	e.saveDirty()
	return e, nil
}

// limiterBurst is the burst of the global rate limiters: several 16 KiB
// chunks, so a low limit still lets whole chunks through.
const limiterBurst = 256 << 10

// clientConfig is the anacrolix configuration, with the settings its
// v1.59.1 needs to work at all (see doc.go).
func (e *Engine) clientConfig(dataDir string) *torrent.ClientConfig {
	cfg := torrent.NewDefaultClientConfig()
	cfg.DataDir = dataDir
	// Every download gets its own storage (storageFor); this one is never
	// used, but without it anacrolix opens a completion database in DataDir.
	cfg.DefaultStorage = storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir:   dataDir,
		PieceCompletion: e.completion,
		UsePartFiles:    optFalse,
		Logger:          e.anacrolixLog,
	})
	cfg.ListenPort = e.opts.ListenPort
	host := e.opts.ListenHost
	cfg.ListenHost = func(string) string { return host }
	if ip := net.ParseIP(host); ip != nil {
		// anacrolix listens on every network; a literal address has one.
		cfg.DisableIPv6 = ip.To4() != nil
		cfg.DisableIPv4 = ip.To4() == nil
	}
	cfg.NoDHT = e.opts.DisableDHT
	cfg.DhtStartingNodes = dhtStartingNodes
	cfg.DisableUTP = true                         // slow or broken on loopback in v1.59.1
	cfg.MaxAllocPeerRequestDataPerConn = 17 << 20 // the default (1 MiB) deadlocks uploads
	cfg.DisableTrackers = true                    // announces are the engine's own
	cfg.Seed = true
	cfg.NoDefaultPortForwarding = true
	cfg.DisableWebtorrent = true
	cfg.UploadRateLimiter = e.upLimit
	cfg.DownloadRateLimiter = e.downLimit
	cfg.Slogger = e.anacrolixLog
	return cfg
}

// Close stops the engine: it saves every download's state, stops the
// anacrolix client (announcing "stopped" to trackers for up to a few
// seconds), waits for every goroutine the engine started, and closes the
// session. Later calls return ErrClosed. Close is idempotent; it returns
// the first error it met.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.close() })
	return e.closeErr
}

func (e *Engine) close() error {
	e.mu.Lock()
	e.closed = true
	for _, d := range e.order {
		if d.run != nil {
			e.captureCompletion(d)
			if d.run.cancel != nil {
				d.run.final = e.totalsOf(d)
			}
		}
		e.markDirty(d)
	}
	errs := []error{e.saveDirtyErr()}
	for _, d := range e.order {
		if r := d.run; r != nil {
			if r.cancel != nil {
				r.cancel()
			}
			// Before the client drops the torrent (see running.verifyDone).
			r.stopVerify()
		}
	}
	e.mu.Unlock()

	e.cancel()
	errs = append(errs, e.cl.Close()...)
	e.wg.Wait()
	errs = append(errs, e.completion.Close())
	if e.opts.SessionDir != "" {
		errs = append(errs, e.putCleanMarker())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("engine: close: %w", err)
	}
	return nil
}

// Call invokes an rTorrent XML-RPC method with params and returns its
// result, as *rtorrent.Client's Call does: a fault comes back as an
// *xmlrpc.Fault (match it with errors.As) carrying rTorrent's code and
// message. The error is ErrClosed after Close, or ctx's error.
func (e *Engine) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	if err := ctx.Err(); err != nil {
		return xmlrpc.Value{}, fmt.Errorf("engine: %s: %w", method, err)
	}
	cmd := e.commands[method]
	if cmd == nil {
		return xmlrpc.Value{}, fmt.Errorf("engine: %s: %w", method, errNoMethod(method))
	}
	if method == "system.multicall" {
		v, err := e.systemMulticall(ctx, params)
		if err != nil {
			return xmlrpc.Value{}, fmt.Errorf("engine: %s: %w", method, err)
		}
		return v, nil
	}
	v, err := e.callOne(ctx, cmd, params)
	if err != nil {
		return xmlrpc.Value{}, fmt.Errorf("engine: %s: %w", method, err)
	}
	return v, nil
}

// callOne runs one top-level method with the engine's lock held.
func (e *Engine) callOne(ctx context.Context, cmd *command, params []xmlrpc.Value) (xmlrpc.Value, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return xmlrpc.Value{}, ErrClosed
	}
	c := &call{e: e, ctx: ctx}
	var v xmlrpc.Value
	var err error
	if cmd.raw {
		v, err = cmd.fn(c, target{}, params)
	} else {
		var t target
		var args []xmlrpc.Value
		t, args, err = c.resolveTarget(params)
		if cmd.object && len(args) > 1 {
			args = []xmlrpc.Value{xmlrpc.NewArray(args...)}
		}
		if err == nil {
			v, err = c.invoke(cmd, t, args)
		}
	}
	e.saveDirty()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return xmlrpc.Value{}, ctxErr
		}
		return xmlrpc.Value{}, asFault(err)
	}
	return result(v), nil
}

// result turns a command's nothing (an empty command string) into the 0
// rTorrent answers for it.
func result(v xmlrpc.Value) xmlrpc.Value {
	if v.IsNil() {
		return zero
	}
	return v
}

// lookup returns the download with the given hash (any case), or nil.
func (e *Engine) lookup(hash string) *download {
	if d := e.downloads[hash]; d != nil {
		return d
	}
	return e.downloads[strings.ToUpper(hash)]
}

// now is the clock the engine stamps downloads with, in Unix seconds.
func (e *Engine) now() int64 { return time.Now().Unix() }

// markDirty notes that d's session state needs writing.
func (e *Engine) markDirty(d *download) {
	if !d.gone {
		e.dirty[d] = struct{}{}
	}
}

// ListenPort returns the port the engine takes peer connections on.
func (e *Engine) ListenPort() int { return e.cl.LocalPort() }

// minLevel is a slog handler that drops records below a level, whatever
// its wrapped handler would take: anacrolix logs a lot at info.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// Handle demotes anacrolix's DHT bootstrap failures to warnings: they are
// what a machine without internet (a test box, a LAN-only seedbox) sees
// at every start, not an error of rtgate's.
func (h minLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && strings.Contains(r.Message, "bootstrapping") {
		r.Level = slog.LevelWarn
	}
	return h.Handler.Handle(ctx, r)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
