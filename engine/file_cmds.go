package engine

import (
	"path/filepath"

	"github.com/rtgate/rtgate/xmlrpc"
)

// fileCommands returns the f.* commands (target "HASH:f<index>").
func fileCommands() []*command {
	var cmds []*command
	add := func(name string, fn func(c *call, d *download, f *fileEntry, i int) xmlrpc.Value) {
		cmds = append(cmds, &command{name: name, kind: targetFile, fn: func(c *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return fn(c, t.d, &t.d.files[t.index], t.index), nil
		}})
	}
	num := func(name string, fn func(f *fileEntry) int64) {
		add(name, func(_ *call, _ *download, f *fileEntry, _ int) xmlrpc.Value { return xmlrpc.NewInt(fn(f)) })
	}
	add("f.path", func(_ *call, _ *download, f *fileEntry, _ int) xmlrpc.Value { return xmlrpc.NewString(f.path) })
	add("f.path_components", func(_ *call, _ *download, f *fileEntry, _ int) xmlrpc.Value {
		vs := make([]xmlrpc.Value, len(f.components))
		for i, c := range f.components {
			vs[i] = xmlrpc.NewString(c)
		}
		return xmlrpc.NewArray(vs...)
	})
	add("f.frozen_path", func(_ *call, d *download, f *fileEntry, _ int) xmlrpc.Value {
		if !d.open || d.basePath == "" {
			return emptyStr
		}
		if d.isMulti() {
			return xmlrpc.NewString(filepath.Join(d.basePath, filepath.FromSlash(f.path)))
		}
		return xmlrpc.NewString(d.basePath)
	})
	num("f.path_depth", func(f *fileEntry) int64 { return int64(len(f.components)) })
	num("f.size_bytes", func(f *fileEntry) int64 { return f.length })
	num("f.size_chunks", func(f *fileEntry) int64 { return int64(f.endPiece - f.firstPiece) })
	num("f.offset", func(f *fileEntry) int64 { return f.offset })
	num("f.range_first", func(f *fileEntry) int64 { return int64(f.firstPiece) })
	num("f.range_second", func(f *fileEntry) int64 { return int64(f.endPiece) })
	num("f.last_touched", func(*fileEntry) int64 { return 0 })
	add("f.is_open", func(_ *call, d *download, _ *fileEntry, _ int) xmlrpc.Value { return boolValue(d.run != nil) })
	add("f.completed_chunks", func(c *call, d *download, f *fileEntry, _ int) xmlrpc.Value {
		return xmlrpc.NewInt(c.snapOf(d).pieces().countRange(f.firstPiece, f.endPiece))
	})
	add("f.priority", func(_ *call, d *download, _ *fileEntry, i int) xmlrpc.Value { return xmlrpc.NewInt(d.filePrio[i]) })
	cmds = append(cmds, &command{name: "f.priority.set", kind: targetFile, fn: func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
		n, err := valueArg(args)
		if err != nil {
			return xmlrpc.Value{}, err
		}
		if n < 0 || n > 2 {
			return xmlrpc.Value{}, errInvalidValue
		}
		t.d.filePrio[t.index] = n
		c.e.markDirty(t.d)
		return zero, nil
	}})
	return cmds
}

// peerCommands returns the p.* commands (target "HASH:p<peer id>").
func peerCommands() []*command {
	var cmds []*command
	add := func(name string, fn func(p *peerInfo) xmlrpc.Value) {
		cmds = append(cmds, &command{name: name, kind: targetPeer, fn: func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return fn(t.peer), nil
		}})
	}
	add("p.id", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewString(p.id) })
	add("p.address", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewString(p.address) })
	add("p.port", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewInt(p.port) })
	add("p.client_version", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewString(p.client) })
	add("p.completed_percent", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewInt(p.completed) })
	add("p.down_rate", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewInt(p.downRate) })
	add("p.down_total", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewInt(p.downTotal) })
	add("p.up_rate", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewInt(p.upRate) })
	add("p.up_total", func(p *peerInfo) xmlrpc.Value { return xmlrpc.NewInt(p.upTotal) })
	add("p.peer_rate", func(*peerInfo) xmlrpc.Value { return zero })
	add("p.peer_total", func(*peerInfo) xmlrpc.Value { return zero })
	add("p.is_encrypted", func(p *peerInfo) xmlrpc.Value { return boolValue(p.encrypted) })
	add("p.is_obfuscated", func(p *peerInfo) xmlrpc.Value { return boolValue(p.obfuscated) })
	add("p.is_incoming", func(p *peerInfo) xmlrpc.Value { return boolValue(p.incoming) })
	add("p.is_snubbed", func(*peerInfo) xmlrpc.Value { return zero })
	add("p.is_preferred", func(*peerInfo) xmlrpc.Value { return zero })
	add("p.is_unwanted", func(*peerInfo) xmlrpc.Value { return zero })
	add("p.banned", func(*peerInfo) xmlrpc.Value { return zero })
	cmds = append(cmds, &command{name: "p.disconnect", kind: targetPeer, fn: func(c *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
		if t.peer.conn != nil {
			_ = t.peer.conn.Close()
		}
		c.forget(t.d)
		return zero, nil
	}})
	return cmds
}
