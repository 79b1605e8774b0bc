package engine

import (
	"strconv"

	"github.com/rtgate/rtgate/xmlrpc"
)

// downloadCommands returns the d.* commands (target "HASH").
func downloadCommands() []*command {
	var cmds []*command
	add := func(name string, fn cmdFunc) {
		cmds = append(cmds, &command{name: name, kind: targetDownload, fn: fn})
	}
	str := func(name string, f func(*download) string) {
		add(name, func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return xmlrpc.NewString(f(t.d)), nil
		})
	}
	num := func(name string, f func(*download) int64) {
		add(name, func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return xmlrpc.NewInt(f(t.d)), nil
		})
	}
	flag := func(name string, f func(*download) bool) {
		add(name, func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return boolValue(f(t.d)), nil
		})
	}
	// live reads a number from the call's snapshot of the download.
	live := func(name string, f func(*snapshot) int64) {
		add(name, func(c *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return xmlrpc.NewInt(f(c.snapOf(t.d))), nil
		})
	}

	str("d.hash", func(d *download) string { return d.hash })
	str("d.name", (*download).name)
	str("d.base_filename", (*download).name)
	str("d.base_path", func(d *download) string { return d.basePath })
	str("d.directory", (*download).directory)
	str("d.directory_base", (*download).directory)
	str("d.message", func(d *download) string { return d.message })
	str("d.tied_to_file", func(d *download) string { return d.tiedToFile })
	str("d.connection_seed", func(d *download) string { return d.connectionSeed })
	str("d.connection_leech", func(*download) string { return "leech" })
	str("d.throttle_name", func(*download) string { return "" })
	str("d.priority_str", func(d *download) string { return priorityNames[d.priority&3] })
	num("d.state", func(d *download) int64 { return d.state })
	num("d.hashing", func(d *download) int64 { return d.hashing })
	num("d.priority", func(d *download) int64 { return d.priority })
	num("d.size_bytes", func(d *download) int64 { return d.size })
	num("d.size_chunks", func(d *download) int64 { return int64(d.numPieces) })
	num("d.chunk_size", func(d *download) int64 { return d.pieceLen })
	num("d.size_files", func(d *download) int64 { return int64(len(d.files)) })
	num("d.creation_date", func(d *download) int64 {
		if d.meta == nil {
			return 0
		}
		return d.meta.CreationDate
	})
	num("d.load_date", func(d *download) int64 { return d.loadDate })
	num("d.timestamp.started", func(d *download) int64 { return d.tsStarted })
	num("d.timestamp.finished", func(d *download) int64 { return d.tsFinished })
	num("d.timestamp.last_active", func(d *download) int64 { return d.lastActive })
	num("d.up.rate", func(d *download) int64 { return d.upRate })
	num("d.down.rate", func(d *download) int64 { return d.downRate })
	num("d.peers_not_connected", func(*download) int64 { return 0 })
	flag("d.is_open", func(d *download) bool { return d.open })
	flag("d.is_active", (*download).isActive)
	flag("d.is_hash_checking", func(d *download) bool { return d.hashing != 0 })
	flag("d.is_hash_checked", func(d *download) bool { return d.checked })
	flag("d.is_multi_file", (*download).isMulti)
	flag("d.is_private", func(d *download) bool { return d.info != nil && d.info.Private != nil && *d.info.Private })
	flag("d.is_pex_active", func(*download) bool { return false })
	flag("d.is_meta", func(d *download) bool { return d.info == nil })
	live("d.bytes_done", func(s *snapshot) int64 { return s.bytesDone })
	live("d.completed_bytes", func(s *snapshot) int64 { return s.bytesDone })
	live("d.left_bytes", func(s *snapshot) int64 { return max(s.d.size-s.bytesDone, 0) })
	live("d.completed_chunks", func(s *snapshot) int64 { return s.chunksDone })
	live("d.chunks_hashed", func(s *snapshot) int64 { return s.chunksDone })
	live("d.up.total", func(s *snapshot) int64 { return s.upTotal })
	live("d.down.total", func(s *snapshot) int64 { return s.downTotal })
	live("d.peers_connected", func(s *snapshot) int64 { return s.peersConn })
	live("d.peers_complete", func(s *snapshot) int64 { return s.seeds })
	live("d.peers_accounted", func(s *snapshot) int64 { return s.peersConn - s.seeds })
	live("d.complete", func(s *snapshot) int64 { return b2i(s.complete()) })
	live("d.incomplete", func(s *snapshot) int64 { return b2i(!s.complete()) })
	live("d.ratio", func(s *snapshot) int64 {
		if s.bytesDone <= 0 {
			return 0
		}
		return s.upTotal * 1000 / s.bytesDone
	})
	str("d.connection_current", func(d *download) string { return "leech" })

	add("d.custom", func(_ *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		key, err := stringArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		return xmlrpc.NewString(t.d.custom[key]), nil
	})
	add("d.custom.set", func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		if len(args) == 0 {
			return xmlrpc.Value{}, errMissingKey
		}
		if args[0].Kind() != xmlrpc.String {
			return xmlrpc.Value{}, errWrongType
		}
		if len(args) < 2 {
			return xmlrpc.Value{}, errMissingValue
		}
		if args[1].Kind() != xmlrpc.String {
			return xmlrpc.Value{}, errWrongType
		}
		if t.d.custom == nil {
			t.d.custom = make(map[string]string)
		}
		t.d.custom[args[0].String()] = args[1].String()
		c.e.markDirty(t.d)
		return zero, nil
	})
	for i := range 5 {
		n := strconv.Itoa(i + 1)
		str("d.custom"+n, func(d *download) string { return d.customN[i] })
		add("d.custom"+n+".set", func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			s, err := stringArg(args)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			t.d.customN[i] = s
			c.e.markDirty(t.d)
			return xmlrpc.NewString(s), nil
		})
	}
	setString := func(name string, field func(*download) *string) {
		add(name, func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			s, err := stringArg(args)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			*field(t.d) = s
			c.e.markDirty(t.d)
			return zero, nil
		})
	}
	setString("d.tied_to_file.set", func(d *download) *string { return &d.tiedToFile })
	setString("d.connection_seed.set", func(d *download) *string { return &d.connectionSeed })
	setString("d.message.set", func(d *download) *string { return &d.message })

	add("d.priority.set", func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		n, err := valueArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		t.d.priority = (n%4 + 4) % 4 // rTorrent keeps the low two bits
		c.e.markDirty(t.d)
		return zero, nil
	})
	add("d.directory.set", func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		s, err := stringArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		t.d.dirBase, t.d.dirIsBase = s, false
		c.e.markDirty(t.d)
		return zero, nil
	})
	add("d.directory_base.set", func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		s, err := stringArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		t.d.dirBase, t.d.dirIsBase = s, true
		c.e.markDirty(t.d)
		return zero, nil
	})

	// State changes. Each answers 0, as rTorrent's do, even when it
	// changes nothing.
	action := func(name string, f func(e *Engine, d *download)) {
		add(name, func(c *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			f(c.e, t.d)
			c.forget(t.d)
			return zero, nil
		})
	}
	action("d.start", (*Engine).start)
	action("d.stop", (*Engine).stop)
	action("d.open", (*Engine).openDownload)
	action("d.close", (*Engine).closeDownload)
	action("d.pause", (*Engine).pause)
	action("d.resume", (*Engine).resume)
	action("d.check_hash", (*Engine).checkHash)
	action("d.erase", (*Engine).erase)
	action("d.update_priorities", (*Engine).applyFilePriorities)
	for _, name := range []string{"d.save_full_session", "d.save_resume"} {
		add(name, func(c *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			c.e.markDirty(t.d)
			return one, nil
		})
	}
	return cmds
}

var priorityNames = [4]string{"off", "low", "normal", "high"}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// The state machine of rTorrent 0.9.8, as measured: d.start of a started
// download does nothing (not even reopen a closed one or resume a paused
// one), d.stop keeps the download open, d.close keeps its state, d.resume
// opens a closed download and resumes a started one.

func (e *Engine) start(d *download) {
	if d.state == 1 {
		return
	}
	d.state, d.active = 1, true
	d.tsStarted = e.now()
	if !d.open {
		e.setOpen(d)
	}
	e.markDirty(d)
	if !d.checked && d.info != nil {
		e.queueHash(d, 1)
		return
	}
	e.sync(d)
}

func (e *Engine) stop(d *download) {
	d.state, d.active = 0, false
	e.markDirty(d)
	e.sync(d)
}

func (e *Engine) openDownload(d *download) {
	if !d.open {
		e.setOpen(d)
		e.markDirty(d)
	}
	e.sync(d)
}

// setOpen marks d open and fixes d.base_path, which then keeps its value
// until the next open, as rTorrent's does.
func (e *Engine) setOpen(d *download) {
	d.open = true
	d.basePath = d.contentPath()
}

func (e *Engine) closeDownload(d *download) {
	d.open, d.active, d.hashing = false, false, 0
	e.markDirty(d)
	e.sync(d)
}

func (e *Engine) pause(d *download) {
	d.active = false
	e.markDirty(d)
	e.sync(d)
}

func (e *Engine) resume(d *download) {
	if !d.open {
		e.setOpen(d)
	}
	if d.state == 1 {
		d.active = true
	}
	e.markDirty(d)
	e.sync(d)
}

// checkHash re-checks d's data, opening it first if it is closed.
func (e *Engine) checkHash(d *download) {
	if d.info == nil || d.hashing != 0 {
		return
	}
	if !d.open {
		e.setOpen(d)
	}
	e.markDirty(d)
	e.queueHash(d, 3)
}

// erase removes d from the engine and its session; its data stays.
func (e *Engine) erase(d *download) {
	d.gone = true
	e.sync(d)
	delete(e.downloads, d.hash)
	delete(e.dirty, d)
	if i := indexOf(e.order, d); i >= 0 {
		e.order = append(e.order[:i], e.order[i+1:]...)
	}
	e.removeSession(d)
}

func indexOf(ds []*download, d *download) int {
	for i, x := range ds {
		if x == d {
			return i
		}
	}
	return -1
}
