package ws

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/internal/jsonenc"
	"github.com/rtgate/rtgate/topics"
)

// wsOut is one item of a connection's write queue: a frame to write, or an
// operation on the subscriber for the writer to run and answer.
type wsOut struct {
	frame []byte
	op    *wsOp
	// done, if set, is called once the frame is written or dropped: the
	// answer to a frame of calls, which holds one of the connection's
	// MaxInflight slots until then.
	done func()
}

// wsOutOverhead is what a queued item costs beyond its frame's bytes.
const wsOutOverhead = 64

// enqueue hands an item to the writer. An item without done counts against
// WriteQueueBytes (the answers to calls are bounded by MaxInflight
// instead); one that overflows it closes the connection with 4008, as does
// a client that sends requests and never reads their answers. It reports
// whether the item was queued; one that was not has had its done called.
func (c *wsConn) enqueue(it wsOut) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		if it.done != nil {
			it.done()
		}
		return false
	}
	if it.done == nil {
		size := len(it.frame) + wsOutOverhead
		if c.outBytes > 0 && c.outBytes+size > c.h.queueBytes {
			c.mu.Unlock()
			c.closeWith(StatusSlow, "answers not read")
			return false
		}
		c.outBytes += size
	}
	c.out = append(c.out, it)
	wake := c.wake
	c.wake = nil
	c.mu.Unlock()
	if wake != nil {
		wake()
	}
	return true
}

// writeLoop is the connection's writer: the only goroutine that writes data
// to the peer. It writes queued answers first, then topic messages as the
// Subscriber's Next returns them (whose queue is the bounded one for topic
// messages), until the connection closes; then it sends the close frame.
func (c *wsConn) writeLoop() {
	defer close(c.writerDone)
	c.topics = map[string]*wsTopic{}
	if c.compat {
		c.subscribeEvents()
	}
	var wctx context.Context
	var wcancel context.CancelFunc
	for {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			break
		}
		if len(c.out) > 0 {
			it := c.out[0]
			c.out[0] = wsOut{}
			c.out = c.out[1:]
			if len(c.out) == 0 {
				c.out = nil // an idle connection holds no queue
			}
			if it.done == nil {
				c.outBytes -= len(it.frame) + wsOutOverhead
			}
			c.mu.Unlock()
			ok := c.writeOut(it)
			if it.done != nil {
				it.done()
			}
			if !ok {
				break
			}
			continue
		}
		// Wait for a topic message; enqueue and closeWith end the wait by
		// canceling wctx. The context is kept until then, so a busy
		// connection does not make one per message.
		if wctx == nil || wctx.Err() != nil {
			wctx, wcancel = context.WithCancel(context.Background())
		}
		c.wake = wcancel
		c.mu.Unlock()
		m, err := c.sub.Next(wctx)
		if err != nil {
			if wctx.Err() != nil && c.sub.Err() == nil {
				continue // woken
			}
			c.subscriberClosed(err)
			break
		}
		if !c.writeMessage(m) {
			break
		}
	}
	if wcancel != nil {
		wcancel()
	}
	c.finish()
}

// writeOut writes a queued answer, or runs a queued operation.
func (c *wsConn) writeOut(it wsOut) bool {
	if it.op != nil {
		return c.runOp(it.op)
	}
	return c.write(it.frame)
}

// subscriberClosed closes the connection after the hub closed its
// subscriber: 4008 for a slow one, 1001 when the hub is closing.
func (c *wsConn) subscriberClosed(err error) {
	var ce *topics.CloseError
	if !errors.As(err, &ce) {
		c.closeWith(websocket.StatusInternalError, "subscriber failed")
		return
	}
	switch ce.Reason {
	case topics.ReasonSlow:
		c.closeWith(StatusSlow, "slow consumer")
	case topics.ReasonHubClosed:
		c.closeWith(websocket.StatusGoingAway, "rtgate is shutting down")
	default:
		c.closeWith(websocket.StatusInternalError, "subscriber closed")
	}
}

// writeTimeout is how long writing n bytes may take.
func (c *wsConn) writeTimeout(n int) time.Duration {
	return c.h.writeTimeout + time.Duration(n>>20)*c.h.writeTimeout
}

// The writer writes with no context deadline (a deadline costs a timer and
// a context per message, and 10,000 subscribers make that 10,000 per
// change). It arms the connection's stall timer instead, which drops the
// connection if a write is still under way when it fires.

// startWrite records that a write of n bytes begins.
func (c *wsConn) startWrite(n int) {
	d := c.writeTimeout(n)
	c.writeDeadline.Store(time.Now().Add(d).UnixNano())
	c.stall.Reset(d)
}

// endWrite records that the write has returned.
func (c *wsConn) endWrite() {
	c.writeDeadline.Store(0)
	c.stall.Stop()
}

// stalled runs when a write may have outlived its deadline: if one has,
// the peer has stopped reading, and the connection is dropped at once (no
// close frame can pass a write stuck in the middle of a frame).
func (c *wsConn) stalled() {
	deadline := c.writeDeadline.Load()
	if deadline == 0 {
		return
	}
	if wait := time.Until(time.Unix(0, deadline)); wait > 0 {
		c.stall.Reset(wait) // a later write's deadline
		return
	}
	c.closeWith(StatusStalled, "write timed out")
	c.ws.CloseNow()
}

// isWriting reports whether a write is under way.
func (c *wsConn) isWriting() bool { return c.writeDeadline.Load() != 0 }

// write writes one text message. A failure closes the connection.
func (c *wsConn) write(p []byte) bool {
	c.startWrite(len(p))
	err := c.ws.Write(context.Background(), websocket.MessageText, p)
	c.endWrite()
	return c.wrote(err)
}

// writeParts writes *head, body and tail as one text message; head is a
// buffer from getFrameBuffer, which it may grow. A big body is not copied:
// it goes out in a frame of its own, between frames for head and tail (a
// fragmented message, which every client reassembles).
func (c *wsConn) writeParts(head *[]byte, body []byte, tail string) bool {
	if len(body) <= wsStreamThreshold {
		*head = append(append(*head, body...), tail...)
		return c.write(*head)
	}
	c.startWrite(len(*head) + len(body) + len(tail))
	w, err := c.ws.Writer(context.Background(), websocket.MessageText)
	if err == nil {
		if _, err = w.Write(*head); err == nil {
			if _, err = w.Write(body); err == nil {
				if _, err = w.Write([]byte(tail)); err == nil {
					err = w.Close()
				}
			}
		}
	}
	c.endWrite()
	return c.wrote(err)
}

// wrote closes the connection after a failed write (4009 already, if the
// write stalled).
func (c *wsConn) wrote(err error) bool {
	if err == nil {
		return true
	}
	c.closeWith(websocket.StatusAbnormalClosure, "write failed")
	return false
}

// finish ends the connection with the code closeWith recorded. Before 4008
// a client of the rtgate dialect is told, in an rtgate.close notification,
// where each of its topics stands, so that it can resume even if it did
// not keep count.
func (c *wsConn) finish() {
	c.mu.Lock()
	code, reason := c.code, c.reason
	c.mu.Unlock()
	if code == StatusSlow && !c.compat {
		c.sub.Close()
		var ce *topics.CloseError
		if errors.As(c.sub.Err(), &ce) {
			ctx, cancel := context.WithTimeout(context.Background(), wsCloseWriteTimeout)
			c.ws.Write(ctx, websocket.MessageText, appendCloseNotice(nil, code, reason, ce))
			cancel()
		}
	}
	if sendable(code) {
		c.ws.Close(code, reason)
	} else {
		c.ws.CloseNow()
	}
}

// sendable reports whether code may be sent in a close frame.
func sendable(code websocket.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// appendCloseNotice appends the rtgate.close notification:
//
//	{"jsonrpc":"2.0","method":"rtgate.close","params":{"code":4008,"reason":"slow consumer",
//	 "topic":"torrents","positions":{"torrents":{"epoch":"…","seq":41}}}}
func appendCloseNotice(dst []byte, code websocket.StatusCode, reason string, ce *topics.CloseError) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","method":"rtgate.close","params":{"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"reason":`...)
	dst = jsonenc.AppendString(dst, reason)
	if ce.Topic != "" {
		dst = append(dst, `,"topic":`...)
		dst = jsonenc.AppendString(dst, ce.Topic)
	}
	dst = append(dst, `,"positions":{`...)
	names := slices.Sorted(maps.Keys(ce.Positions))
	for i, name := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		p := ce.Positions[name]
		dst = jsonenc.AppendString(dst, name)
		dst = append(dst, `:{"epoch":`...)
		dst = jsonenc.AppendString(dst, p.Epoch)
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, p.Seq, 10)
		dst = append(dst, '}')
	}
	return append(dst, "}}}"...)
}

// framePool holds buffers for assembling frames, so that an idle
// connection keeps none.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getFrameBuffer() *[]byte { return framePool.Get().(*[]byte) }

func putFrameBuffer(b *[]byte) {
	if cap(*b) <= wsMaxPooledFrameBuffer {
		*b = (*b)[:0]
		framePool.Put(b)
	}
}
