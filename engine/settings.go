package engine

import (
	"os"
	"strconv"

	"golang.org/x/time/rate"

	"github.com/rtgate/rtgate/xmlrpc"
)

// settings are the global values rTorrent's clients read and write (Flood's
// settings page reads every one of them). The throttles, directory.default
// and trackers.numwant take effect; the rest are stored and answered back,
// as the anacrolix client cannot change them while it runs.
type settings struct {
	directoryDefault string
	downMaxRate      int64
	upMaxRate        int64
	dhtMode          string
	dhtPort          int64
	httpMaxOpen      int64
	localAddress     string
	maxOpenFiles     int64
	portOpen         int64
	portRandom       int64
	portRange        string // "" means the actual listen port
	hashOnCompletion int64
	memoryMax        int64
	pex              int64
	maxDownloads     int64
	maxDownloadsGlob int64
	maxUploads       int64
	maxUploadsGlob   int64
	maxPeersNormal   int64
	maxPeersSeed     int64
	minPeersNormal   int64
	minPeersSeed     int64
	numwant          int64
	xmlrpcSizeLimit  int64
}

// defaultSettings are rTorrent 0.9.8's defaults, as it answers them.
func defaultSettings(dataDir string) settings {
	return settings{
		directoryDefault: dataDir,
		dhtMode:          "auto",
		dhtPort:          6881,
		httpMaxOpen:      32,
		maxOpenFiles:     256,
		portOpen:         1,
		portRandom:       0,
		hashOnCompletion: 1,
		memoryMax:        3435973836,
		pex:              1,
		maxDownloads:     50,
		maxUploads:       50,
		maxPeersNormal:   200,
		maxPeersSeed:     -1,
		minPeersNormal:   100,
		minPeersSeed:     -1,
		numwant:          -1,
		xmlrpcSizeLimit:  16 << 20,
	}
}

// intSetting is a stored number: its getter answers it, its setter takes a
// number and answers it back (rTorrent's value variables do).
func intSetting(field func(*settings) *int64) (get, set cmdFunc) {
	get = func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		return xmlrpc.NewInt(*field(&c.e.settings)), nil
	}
	set = func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		n, err := valueArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		*field(&c.e.settings) = n
		return xmlrpc.NewInt(n), nil
	}
	return get, set
}

// settingCommands returns the global settings' getters and setters.
func settingCommands() []*command {
	var cmds []*command
	add := func(name string, fn cmdFunc) {
		cmds = append(cmds, &command{name: name, fn: fn})
	}
	addInt := func(name string, field func(*settings) *int64) {
		get, set := intSetting(field)
		add(name, get)
		add(name+".set", set)
	}
	// Stored numbers whose setters answer the new value.
	addInt("network.port_open", func(s *settings) *int64 { return &s.portOpen })
	addInt("network.port_random", func(s *settings) *int64 { return &s.portRandom })
	addInt("pieces.hash.on_completion", func(s *settings) *int64 { return &s.hashOnCompletion })
	addInt("protocol.pex", func(s *settings) *int64 { return &s.pex })
	addInt("throttle.max_downloads", func(s *settings) *int64 { return &s.maxDownloads })
	addInt("throttle.max_downloads.global", func(s *settings) *int64 { return &s.maxDownloadsGlob })
	addInt("throttle.max_uploads", func(s *settings) *int64 { return &s.maxUploads })
	addInt("throttle.max_uploads.global", func(s *settings) *int64 { return &s.maxUploadsGlob })
	addInt("throttle.max_peers.normal", func(s *settings) *int64 { return &s.maxPeersNormal })
	addInt("throttle.max_peers.seed", func(s *settings) *int64 { return &s.maxPeersSeed })
	addInt("throttle.min_peers.normal", func(s *settings) *int64 { return &s.minPeersNormal })
	addInt("throttle.min_peers.seed", func(s *settings) *int64 { return &s.minPeersSeed })
	addInt("trackers.numwant", func(s *settings) *int64 { return &s.numwant })
	addInt("dht.port", func(s *settings) *int64 { return &s.dhtPort })

	// Stored numbers whose setters answer 0, as rTorrent's do.
	for name, field := range map[string]func(*settings) *int64{
		"network.http.max_open":     func(s *settings) *int64 { return &s.httpMaxOpen },
		"network.max_open_files":    func(s *settings) *int64 { return &s.maxOpenFiles },
		"pieces.memory.max":         func(s *settings) *int64 { return &s.memoryMax },
		"network.xmlrpc.size_limit": func(s *settings) *int64 { return &s.xmlrpcSizeLimit },
	} {
		get, set := intSetting(field)
		add(name, get)
		add(name+".set", func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if _, err := set(c, t, args); err != nil {
				return xmlrpc.Value{}, err
			}
			return zero, nil
		})
	}

	add("directory.default", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		return xmlrpc.NewString(c.e.settings.directoryDefault), nil
	})
	add("directory.default.set", func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		s, err := stringArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		c.e.settings.directoryDefault = s
		return xmlrpc.NewString(s), nil
	})
	add("network.local_address", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		return xmlrpc.NewString(c.e.settings.localAddress), nil
	})
	add("network.local_address.set", func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		s, err := stringArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		if s == "" { // rTorrent resolves the name; the engine does no I/O in a call
			return xmlrpc.Value{}, fault(xmlrpc.FaultParse, "Could not set local address: Name or service not known.")
		}
		c.e.settings.localAddress = s
		return zero, nil
	})
	add("network.port_range", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		if r := c.e.settings.portRange; r != "" {
			return xmlrpc.NewString(r), nil
		}
		p := strconv.Itoa(c.e.cl.LocalPort())
		return xmlrpc.NewString(p + "-" + p), nil
	})
	add("network.port_range.set", func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		s, err := stringArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		c.e.settings.portRange = s
		return xmlrpc.NewString(s), nil
	})
	add("network.listen.port", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		return xmlrpc.NewInt(int64(c.e.cl.LocalPort())), nil
	})
	add("network.bind_address", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		return xmlrpc.NewString(c.e.opts.ListenHost), nil
	})
	add("dht.mode.set", func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		s, err := stringArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		switch s {
		case "disable", "off", "auto", "on", "passive":
		default:
			return xmlrpc.Value{}, fault(xmlrpc.FaultParse, "Could not find DHT mode.")
		}
		c.e.settings.dhtMode = s
		return zero, nil
	})
	add("dht.statistics", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		mode, active := "disable", zero
		if !c.e.opts.DisableDHT && len(c.e.cl.DhtServers()) > 0 {
			mode, active = c.e.settings.dhtMode, one
		}
		return xmlrpc.NewStruct(
			xmlrpc.Member{Name: "active", Value: active},
			xmlrpc.Member{Name: "dht", Value: xmlrpc.NewString(mode)},
			xmlrpc.Member{Name: "throttle", Value: emptyStr},
		), nil
	})
	add("session.path", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		if c.e.opts.SessionDir == "" {
			return emptyStr, nil
		}
		return xmlrpc.NewString(c.e.opts.SessionDir + string(os.PathSeparator)), nil
	})

	// Throttles: the maxima go to the anacrolix client's rate limiters.
	for _, dir := range []string{"up", "down"} {
		limit := func(e *Engine) (*int64, *rate.Limiter) {
			if dir == "up" {
				return &e.settings.upMaxRate, e.upLimit
			}
			return &e.settings.downMaxRate, e.downLimit
		}
		setRate := func(c *call, n int64) {
			p, l := limit(c.e)
			*p = n
			if n == 0 {
				l.SetLimit(rate.Inf)
			} else {
				l.SetLimit(rate.Limit(n))
			}
		}
		prefix := "throttle.global_" + dir + "."
		add(prefix+"max_rate", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			p, _ := limit(c.e)
			return xmlrpc.NewInt(*p), nil
		})
		add(prefix+"max_rate.set", func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			n, err := rateArg(args)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			setRate(c, n)
			return zero, nil
		})
		add(prefix+"max_rate.set_kb", func(c *call, _ target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			n, err := valueArg(args)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			n *= 1024
			if n < 1024 {
				n = 0
			}
			setRate(c, n)
			return zero, nil
		})
		add(prefix+"rate", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			if dir == "up" {
				return xmlrpc.NewInt(c.e.upRate), nil
			}
			return xmlrpc.NewInt(c.e.downRate), nil
		})
		add(prefix+"total", func(c *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			cs := c.e.cl.ConnStats()
			if dir == "up" {
				return xmlrpc.NewInt(cs.BytesWrittenData.Int64()), nil
			}
			return xmlrpc.NewInt(cs.BytesReadData.Int64()), nil
		})
	}
	return cmds
}
