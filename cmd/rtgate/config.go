package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is rtgate's configuration file. Only this package knows YAML; the
// packages it wires together take plain Go values.
type Config struct {
	// Backend is auto, rtorrent or embedded. auto uses rTorrent when
	// rtorrent.address is set and answers at start-up, and the embedded
	// engine otherwise.
	Backend   string          `yaml:"backend"`
	RTorrent  RTorrentConfig  `yaml:"rtorrent"`
	Engine    EngineConfig    `yaml:"engine"`
	Poll      PollConfig      `yaml:"poll"`
	Listen    ListenConfig    `yaml:"listen"`
	Auth      AuthConfig      `yaml:"auth"`
	WebSocket WebSocketConfig `yaml:"websocket"`
	Policy    PolicyConfig    `yaml:"policy"`
	Log       LogConfig       `yaml:"log"`
}

// EngineConfig sets up the embedded BitTorrent engine.
type EngineConfig struct {
	// DataDir is where downloads are stored. Empty means
	// $XDG_DATA_HOME/rtgate/downloads (~/.local/share/rtgate/downloads).
	DataDir string `yaml:"data_dir"`
	// SessionDir keeps the engine's torrents and their state across
	// restarts. Empty means $XDG_DATA_HOME/rtgate/session.
	SessionDir string `yaml:"session_dir"`
	// Port is the BitTorrent port (TCP, and UDP for DHT). Zero picks a free
	// one at each start; set one to forward it through a NAT.
	Port int `yaml:"port"`
	// DisableDHT turns the DHT off; then, as in rTorrent, torrents without
	// trackers are refused.
	DisableDHT bool `yaml:"disable_dht"`
}

// PollConfig tunes the poller.
type PollConfig struct {
	// Interval between ticks, which poll only the downloads that can
	// change on their own. Zero means 1 s.
	Interval time.Duration `yaml:"interval"`
	// FullSweep is the time between reads of every field of every
	// download, which catch changes other clients made. Zero means 30 s.
	FullSweep time.Duration `yaml:"full_sweep"`
	// AnswerReads answers the legacy doors' reads from the poller's
	// state when it holds them (docs/freshness.md): Flood's and
	// ruTorrent's polls, getters, settings. False sends every read to
	// rTorrent (coalesced). Default true.
	AnswerReads bool `yaml:"answer_reads"`
	// EventHooks installs rtgate's event handlers in rTorrent over RPC
	// (no execute; removed when rtgate stops), which report every
	// download event at the next tick and make lists answered from state
	// exact. False leaves rTorrent's handlers alone: lists then go to
	// rTorrent. Default true.
	EventHooks bool `yaml:"event_hooks"`
}

// ListenConfig says where the front doors listen. An empty address turns
// that door off.
type ListenConfig struct {
	// HTTP serves POST /RPC2 (XML-RPC and JSON-RPC) and the WebSocket
	// API (/ws, /rtorrent-ws): host:port. Off loopback, auth is required.
	HTTP string `yaml:"http"`
	// HTTPSocket serves the same on a Unix socket (for a reverse proxy on
	// the same host, or local clients). Empty means none.
	HTTPSocket string `yaml:"http_socket"`
	// SCGI serves rTorrent's own protocol to Flood, ruTorrent and
	// rtxmlrpc: a Unix socket path (or unix:///path), or tcp://host:port.
	// The default is $XDG_DATA_HOME/rtgate/rpc.sock
	// (~/.local/share/rtgate/rpc.sock).
	SCGI string `yaml:"scgi"`
	// SCGIMode is the Unix socket's permission bits, in octal. Zero means
	// 0660: the owner and its group, as rTorrent's own socket usually is.
	SCGIMode FileMode `yaml:"scgi_mode"`
	// SCGIOwner and SCGIGroup, user and group names or ids, are given the
	// Unix socket (e.g. the web server's group). Empty keeps rtgate's.
	SCGIOwner string `yaml:"scgi_owner"`
	SCGIGroup string `yaml:"scgi_group"`
	// XMLOnly answers JSON-RPC requests on /RPC2 and SCGI as rTorrent 0.9.8
	// does (a parse fault), so that Flood stays in XML-RPC mode. The
	// default serves both; JSON is smaller and faster for Flood.
	XMLOnly bool `yaml:"xml_only"`
}

// WebSocketConfig tunes the WebSocket door; zero values are the gateway's
// defaults (docs/protocol.md).
type WebSocketConfig struct {
	// Origins are the browser origins allowed besides the request's own
	// host, e.g. "ui.example.com" or "*.example.com".
	Origins []string `yaml:"origins"`
	// MaxConnections bounds connections served at once (default 10,000).
	MaxConnections int `yaml:"max_connections"`
	// CallRate is each connection's sustained calls per second (default 50).
	CallRate float64 `yaml:"call_rate"`
	// ReadLimit is the largest frame a client may send (default 4 MiB).
	ReadLimit int64 `yaml:"read_limit"`
	// Compression negotiates permessage-deflate without context takeover.
	Compression bool `yaml:"compression"`
}

// AuthConfig holds the token that clients off loopback must present.
type AuthConfig struct {
	// Token is the secret itself; prefer TokenFile.
	Token string `yaml:"token"`
	// TokenFile is read at start; its content, trimmed, is the token.
	TokenFile string `yaml:"token_file"`
}

// PolicyConfig layers the operator's choices on the default method policy:
// command-name patterns where * matches anything. Deny wins over Allow,
// and both over the defaults.
type PolicyConfig struct {
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
	// Directories are the roots below which clients may place downloads
	// (d.directory.set and d.directory_base.set, which Flood sends with
	// every add and move). Empty means the backend's own
	// directory.default, asked at start.
	Directories []string `yaml:"directories"`
}

// FileMode is a permission mode written in octal in YAML ("0660" or 0660).
type FileMode uint32

// UnmarshalYAML reads the mode as octal digits, whatever YAML thinks of them.
func (m *FileMode) UnmarshalYAML(n *yaml.Node) error {
	v, err := strconv.ParseUint(strings.TrimPrefix(n.Value, "0o"), 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("line %d: %q is not an octal permission mode like 0660", n.Line, n.Value)
	}
	*m = FileMode(v)
	return nil
}

// RTorrentConfig says where rTorrent listens and how to talk to it.
type RTorrentConfig struct {
	// Address is unix:///path/to/rpc.sock, tcp://host:port, a bare
	// absolute path or a bare host:port. Empty means none is configured.
	Address string `yaml:"address"`
	// Timeout bounds one call. Zero means 30 s.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many more times a refused connection is tried, with
	// backoff, before a call fails. A busy rTorrent drops accepts.
	Retries int `yaml:"retries"`
	// Wait is how long rtgate, with backend auto, waits at start-up for
	// rTorrent to answer before it falls back to the embedded engine,
	// asking again with backoff: in a stack rtgate often starts before
	// rTorrent's socket exists. Zero falls back at the first failure;
	// the default is 30 s.
	Wait time.Duration `yaml:"wait"`
}

// LogConfig sets up logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// DefaultConfig returns the configuration used when no file says otherwise.
func DefaultConfig() Config {
	return Config{
		Backend:  "auto",
		RTorrent: RTorrentConfig{Timeout: 30 * time.Second, Retries: 4, Wait: 30 * time.Second},
		Poll:     PollConfig{Interval: time.Second, FullSweep: 30 * time.Second, AnswerReads: true, EventHooks: true},
		Listen:   ListenConfig{HTTP: "127.0.0.1:5080", SCGI: filepath.Join(dataHome(), "rtgate", "rpc.sock"), SCGIMode: 0o660},
		Log:      LogConfig{Level: "info", Format: "text"},
	}
}

// ParseConfig reads YAML from r over the defaults in cfg. Keys that rtgate
// does not know are errors that name the key, its line and the keys that
// would have been accepted there: a typo must not silently fall back to a
// default.
func ParseConfig(r io.Reader, cfg *Config) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file keeps the defaults
		}
		return err
	}
	if err := checkKeys(&doc, reflect.TypeOf(*cfg), ""); err != nil {
		return err
	}
	return doc.Decode(cfg)
}

// checkKeys walks a YAML node against the yaml tags of type t.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			if err := checkKeys(c, t, path); err != nil {
				return err
			}
		}
		return nil
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return nil // scalars and type mismatches are left to Decode's errors
	}
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		ft, ok := fields[key.Value]
		if !ok {
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			known := slices.Sorted(func(yield func(string) bool) {
				for k := range fields {
					if !yield(k) {
						return
					}
				}
			})
			return fmt.Errorf("line %d: unknown key %q %s (known keys: %s)",
				key.Line, key.Value, where, strings.Join(known, ", "))
		}
		child := key.Value
		if path != "" {
			child = path + "." + key.Value
		}
		if err := checkKeys(val, ft, child); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	switch c.Backend {
	case "auto", "embedded":
	case "rtorrent":
		if c.RTorrent.Address == "" {
			return errors.New("backend: rtorrent needs rtorrent.address")
		}
	default:
		return fmt.Errorf("backend: %q is not auto, rtorrent or embedded", c.Backend)
	}
	for _, d := range c.Policy.Directories {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("policy.directories: %q is not an absolute path", d)
		}
	}
	if c.Engine.Port < 0 || c.Engine.Port > 65535 {
		return fmt.Errorf("engine.port: %d is not a port", c.Engine.Port)
	}
	if c.RTorrent.Timeout < 0 {
		return fmt.Errorf("rtorrent.timeout: %v is negative", c.RTorrent.Timeout)
	}
	if c.RTorrent.Retries < 0 {
		return fmt.Errorf("rtorrent.retries: %d is negative", c.RTorrent.Retries)
	}
	if c.RTorrent.Wait < 0 {
		return fmt.Errorf("rtorrent.wait: %v is negative", c.RTorrent.Wait)
	}
	if c.Poll.Interval < 0 {
		return fmt.Errorf("poll.interval: %v is negative", c.Poll.Interval)
	}
	if c.Auth.Token != "" && c.Auth.TokenFile != "" {
		return errors.New("auth: set token or token_file, not both")
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		return err
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log.level: %q is not debug, info, warn or error", s)
	}
	return l, nil
}
