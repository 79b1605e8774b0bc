// Command rtgate gives rTorrent a real-time, safe API from outside.
//
// Usage:
//
//	rtgate [flags] [run]                  watch the backend and serve (default)
//	rtgate [flags] info                   print the rTorrent version and method count
//	rtgate [flags] call METHOD [ARG...]   call one method, print the result
//	rtgate [flags] watch [-url URL] TOPIC print a topic's live changes
//	rtgate [flags] health [-url URL]      exit 0 if a running rtgate is ready (/readyz)
//	rtgate version                        print rtgate's version
//
// RTGATE_* environment variables override the configuration file
// (RTGATE_CONFIG names it), and flags override both; see -h and
// docs/deploy.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := NewMain(os.Stdout, os.Stderr).Run(ctx, os.Args[1:])
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// -h asked for the usage, which was printed.
	case err != nil:
		fmt.Fprintln(os.Stderr, "rtgate:", err)
		os.Exit(2)
	}
}

// Main is the program, separated from process globals so tests can run it.
type Main struct {
	Stdout, Stderr io.Writer
	Config         Config
	Logger         *slog.Logger

	// wrapBackend, if set, wraps the backend's Caller before anything
	// uses it: tests inject faults with it.
	wrapBackend func(gateway.Caller) gateway.Caller
	// stats are what `run` counts.
	stats stats
}

// stats are the counters of a run.
type stats struct {
	// panics counts upstream calls that panicked and were answered with a
	// fault instead.
	panics atomic.Int64
	// reads is the doors' way upstream, whose Stats count how reads were
	// answered (from state, shared, sent upstream); nil until run wires it.
	reads atomic.Pointer[gateway.Coalescer]
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Stdout: stdout, Stderr: stderr, Config: DefaultConfig()}
}

// Run parses args (flags, then a subcommand and its arguments) and runs it.
func (m *Main) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rtgate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	configPath := fs.String("config", os.Getenv(envConfigFile), "YAML configuration `file` (default $"+envConfigFile+")")
	address := fs.String("rtorrent", "", "rTorrent SCGI `address`: unix:///path, tcp://host:port, /path or host:port")
	timeout := fs.Duration("timeout", 0, "bound on one rTorrent call (default 30s)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default info)")
	httpAddr := fs.String("http", "", "HTTP `host:port` for /RPC2 (default 127.0.0.1:5080; empty turns it off)")
	scgiAddr := fs.String("scgi", "", "SCGI `socket` for Flood, ruTorrent and rtxmlrpc: a path, unix:///path or tcp://127.0.0.1:port")
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: rtgate [flags] [run | info | call METHOD [ARG...] | watch TOPIC | health | version]\n\nRTGATE_* environment variables set the configuration keys (docs/deploy.md); flags win over them.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}

	if *configPath != "" {
		f, err := os.Open(*configPath)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		err = ParseConfig(f, &m.Config)
		f.Close()
		if err != nil {
			return fmt.Errorf("config %s: %w", *configPath, err)
		}
	}
	// RTGATE_* variables win over the file, flags over both.
	unknownEnv, err := applyEnv(&m.Config, os.Environ())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// Flags given on the command line win over the file.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "rtorrent":
			m.Config.RTorrent.Address = *address
		case "timeout":
			m.Config.RTorrent.Timeout = *timeout
		case "log-level":
			m.Config.Log.Level = *logLevel
		case "http":
			m.Config.Listen.HTTP = *httpAddr
		case "scgi":
			m.Config.Listen.SCGI = *scgiAddr
		}
	})
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	m.Logger = m.newLogger()
	if len(unknownEnv) > 0 {
		m.Logger.Warn("environment variables that name no configuration key (ignored; see docs/deploy.md)", "vars", strings.Join(unknownEnv, " "))
	}

	cmd, rest := "run", fs.Args()
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "run":
		return m.run(ctx)
	case "info":
		return m.info(ctx)
	case "call":
		return m.call(ctx, rest)
	case "watch":
		return m.watch(ctx, rest)
	case "health":
		return m.health(ctx, rest)
	case "version":
		fmt.Fprintln(m.Stdout, "rtgate", version)
		return nil
	}
	fs.Usage()
	return fmt.Errorf("unknown command %q", cmd)
}

func (m *Main) newLogger() *slog.Logger {
	level, _ := parseLevel(m.Config.Log.Level) // Validate checked it
	opts := &slog.HandlerOptions{Level: level}
	if m.Config.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

// errNoBackend explains what to configure when nothing is.
var errNoBackend = errors.New("no rTorrent address configured: pass -rtorrent unix:///path/to/rpc.sock or set rtorrent.address in the config file")

func (m *Main) client() (*rtorrent.Client, error) {
	if m.Config.RTorrent.Address == "" {
		return nil, errNoBackend
	}
	retries := m.Config.RTorrent.Retries
	if retries == 0 {
		retries = -1 // scgi: zero means its default, negative means none
	}
	return rtorrent.New(m.Config.RTorrent.Address, &rtorrent.Options{
		Timeout: m.Config.RTorrent.Timeout,
		SCGI:    &scgi.ClientOptions{Retries: retries},
	})
}

func (m *Main) info(ctx context.Context) error {
	c, err := m.client()
	if err != nil {
		return err
	}
	in, err := c.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "rtorrent %s at %s, %d methods\n", in.Version, c.Address(), len(in.Methods))
	return nil
}

// call runs one method. Arguments that parse as integers are sent as
// integers, "@file" sends the file's bytes as base64 (for load.raw), and
// everything else is a string; the target "" must be passed explicitly.
func (m *Main) call(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("call: no method given (try: rtgate call system.client_version)")
	}
	c, err := m.client()
	if err != nil {
		return err
	}
	params := make([]xmlrpc.Value, 0, len(args)-1)
	for _, a := range args[1:] {
		switch {
		case strings.HasPrefix(a, "@"):
			data, err := os.ReadFile(a[1:])
			if err != nil {
				return fmt.Errorf("call: %w", err)
			}
			params = append(params, xmlrpc.NewBase64(data))
		default:
			if n, err := strconv.ParseInt(a, 10, 64); err == nil {
				params = append(params, xmlrpc.NewInt(n))
			} else {
				params = append(params, xmlrpc.NewString(a))
			}
		}
	}
	v, err := c.Call(ctx, args[0], params...)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, v.String())
	return nil
}
