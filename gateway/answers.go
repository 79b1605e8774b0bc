package gateway

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Answers from state (CoalesceOptions.Fresh) come with the version of the
// state they were made from; the encoded bytes of one call's answer are
// the same for every client asking while the version holds, so they are
// encoded once: a Flood poll of 10,000 downloads is 11 MB of XML.

// answerCache holds the encodings of the answers of one state version.
// Encodings of a new version are made one at a time (encoding holds
// enc): the clients asking at once wait for the first one's bytes instead
// of each encoding 11 MB of their own.
type answerCache struct {
	enc   sync.Mutex
	mu    sync.Mutex
	ver   uint64
	bytes int
	m     map[string][]byte
}

// Bounds of the cache: past them it starts over.
const (
	maxCachedAnswers     = 64
	maxCachedAnswerBytes = 256 << 20
)

// get returns the encoding of key at version ver.
func (a *answerCache) get(ver uint64, key string) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ver != ver {
		return nil, false
	}
	b, ok := a.m[key]
	return b, ok
}

// put records the encoding of key at version ver; an older version's are
// dropped.
func (a *answerCache) put(ver uint64, key string, b []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ver < a.ver {
		return
	}
	if ver != a.ver || a.m == nil || len(a.m) >= maxCachedAnswers || a.bytes+len(b) > maxCachedAnswerBytes {
		a.ver, a.m, a.bytes = ver, map[string][]byte{}, 0
	}
	a.m[key] = b
	a.bytes += len(b)
}

// freshXML returns the XML reply of a call answered from state, in
// rTorrent's own layout, encoded once per version.
func (c *Coalescer) freshXML(key string, v xmlrpc.Value, ver uint64) ([]byte, error) {
	if ver != 0 {
		if b, ok := c.answers.get(ver, "x"+key); ok {
			return b, nil
		}
		c.answers.enc.Lock()
		defer c.answers.enc.Unlock()
		if b, ok := c.answers.get(ver, "x"+key); ok {
			return b, nil
		}
	}
	b, err := xmlrpc.RTorrentLayout{}.AppendResponse(nil, v)
	if err != nil {
		return nil, err
	}
	if ver != 0 {
		c.answers.put(ver, "x"+key, b)
	}
	return b, nil
}

// freshJSON returns the JSON of a result answered from state, encoded once
// per version.
func (c *Coalescer) freshJSON(key string, v xmlrpc.Value, ver uint64) []byte {
	if ver != 0 {
		if b, ok := c.answers.get(ver, "j"+key); ok {
			return b
		}
		c.answers.enc.Lock()
		defer c.answers.enc.Unlock()
		if b, ok := c.answers.get(ver, "j"+key); ok {
			return b
		}
	}
	b := jsonrpc.AppendValue(nil, v)
	if ver != 0 {
		c.answers.put(ver, "j"+key, b)
	}
	return b
}

// fresh asks the Fresh hook.
func (c *Coalescer) fresh(method string, params []xmlrpc.Value) (xmlrpc.Value, uint64, bool) {
	if c.opts.Fresh == nil {
		return xmlrpc.Value{}, 0, false
	}
	return c.opts.Fresh(method, params)
}

// Counts are how a Coalescer answered the reads of one class of method.
type Counts struct {
	// Fresh reads were answered from state (CoalesceOptions.Fresh),
	// without rTorrent.
	Fresh int64
	// Coalesced reads shared another read's upstream call.
	Coalesced int64
	// Upstream reads each made an upstream call; Writes are calls that
	// are not read-only, all of which go upstream.
	Upstream, Writes int64
}

// The method classes Stats counts by.
const (
	ClassList      = "list"      // d.multicall2, d.multicall, d.multicall.filtered
	ClassMulticall = "multicall" // system.multicall
	ClassDownload  = "download"  // other d.* commands
	ClassDetails   = "details"   // f.*, p.*, t.* commands
	ClassGlobal    = "global"    // everything else
	numClasses     = 5
)

var classNames = [numClasses]string{ClassList, ClassMulticall, ClassDownload, ClassDetails, ClassGlobal}

// classOf returns the index in classNames of method's class.
func classOf(method string) int {
	switch {
	case method == "d.multicall2" || method == "d.multicall" || method == "d.multicall.filtered":
		return 0
	case method == "system.multicall":
		return 1
	case strings.HasPrefix(method, "d."):
		return 2
	case strings.HasPrefix(method, "f."), strings.HasPrefix(method, "p."), strings.HasPrefix(method, "t."):
		return 3
	}
	return 4
}

// counters are a Coalescer's Counts, by class.
type counters [numClasses]struct {
	fresh, coalesced, upstream, writes atomic.Int64
}

// Stats returns how the Coalescer has answered calls so far, by method
// class (the Class* names): from state, shared, or each sent upstream.
func (c *Coalescer) Stats() map[string]Counts {
	out := make(map[string]Counts, numClasses)
	for i, name := range classNames {
		k := &c.counts[i]
		out[name] = Counts{Fresh: k.fresh.Load(), Coalesced: k.coalesced.Load(), Upstream: k.upstream.Load(), Writes: k.writes.Load()}
	}
	return out
}
