package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/internal/jsonenc"
	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/topics"
)

// This file is the topic side of the WebSocket door: rtgate.subscribe,
// rtgate.unsubscribe and rtgate.topics, run by the writer so that no
// Subscribe or Unsubscribe races its Next (an answer always precedes the
// topic's first message, and no message follows an unsubscribe's answer);
// the rtgate.message notifications; and the rtorrent-ws event push.

// wsTopic is the writer's state of one subscription.
type wsTopic struct {
	// resuming: subscribed with a position and nothing delivered yet, so a
	// snapshot means the resume could not be honoured.
	resuming bool
}

// The operations a client asks of its subscriber.
const (
	opSubscribe = iota + 1
	opUnsubscribe
	opTopics
)

// wsOp is one rtgate.* request, parsed by the reader, run by the writer.
type wsOp struct {
	kind  int
	id    json.RawMessage // nil for a notification
	topic string
	from  *topics.Position
}

// wsTopicFamilies are the topic names the poller serves (poller/doc.go),
// listed by rtgate.topics as "available".
var wsTopicFamilies = []string{
	"backend", "events", "torrent.<HASH>", "torrent.<HASH>.files",
	"torrent.<HASH>.peers", "torrent.<HASH>.trackers", "torrents", "transfer",
}

// parseOp parses a request for one of rtgate's own methods. head is the
// request already checked to be a JSON-RPC 2.0 request object.
func parseOp(head wsHead) (*wsOp, *jsonrpc.Error) {
	op := &wsOp{id: head.id}
	switch head.method {
	case "rtgate.subscribe":
		op.kind = opSubscribe
	case "rtgate.unsubscribe":
		op.kind = opUnsubscribe
	case "rtgate.topics":
		op.kind = opTopics
		return op, nil
	default:
		return nil, &jsonrpc.Error{Code: protocol.CodeMethodNotFound, Message: "method not found: " + head.method}
	}
	var p struct {
		Topic *string          `json:"topic"`
		Epoch *string          `json:"epoch"`
		Seq   *json.RawMessage `json:"seq"`
	}
	params := head.params
	if len(params) > 0 && params[0] == '[' {
		// One object by position, as JSON-RPC libraries that always send
		// arrays do.
		var list []json.RawMessage
		if json.Unmarshal(params, &list) == nil && len(list) == 1 {
			params = list[0]
		}
	}
	if len(params) == 0 || params[0] != '{' || json.Unmarshal(params, &p) != nil {
		return nil, &jsonrpc.Error{Code: protocol.CodeInvalidParams, Message: `invalid parameters: ` + head.method + ` takes named params: {"topic":"…"}`}
	}
	if p.Topic == nil || *p.Topic == "" {
		return nil, &jsonrpc.Error{Code: protocol.CodeInvalidParams, Message: `invalid parameters: "topic" must be a non-empty string`}
	}
	op.topic = *p.Topic
	if op.kind == opSubscribe && (p.Epoch != nil || p.Seq != nil) {
		if p.Epoch == nil || *p.Epoch == "" {
			return nil, &jsonrpc.Error{Code: protocol.CodeInvalidParams, Message: `invalid parameters: a resume needs "epoch" (a string) and "seq"`}
		}
		from := &topics.Position{Epoch: *p.Epoch}
		if p.Seq != nil {
			seq, err := strconv.ParseUint(string(*p.Seq), 10, 64)
			if err != nil {
				return nil, &jsonrpc.Error{Code: protocol.CodeInvalidParams, Message: `invalid parameters: "seq" must be a non-negative integer`}
			}
			from.Seq = seq
		}
		op.from = from
	}
	return op, nil
}

// runOp runs an operation on the subscriber and writes its answer.
func (c *wsConn) runOp(op *wsOp) bool {
	var result []byte
	var e *jsonrpc.Error
	switch op.kind {
	case opSubscribe:
		result, e = c.subscribe(op)
	case opUnsubscribe:
		switch err := c.sub.Unsubscribe(op.topic); {
		case err == nil:
			delete(c.topics, op.topic)
			result = appendTopicResult(nil, op.topic)
		case errors.Is(err, topics.ErrNotSubscribed):
			delete(c.topics, op.topic)
			e = &jsonrpc.Error{Code: protocol.CodeNotSubscribed, Message: "rtgate: not subscribed to " + strconv.Quote(op.topic)}
		default:
			e = &jsonrpc.Error{Code: protocol.CodeServerError, Message: "rtgate: " + err.Error()}
		}
	case opTopics:
		result = c.appendTopicList(nil)
	}
	if op.id == nil {
		return true
	}
	buf := getFrameBuffer()
	var b []byte
	if e != nil {
		b = jsonrpc.AppendError((*buf)[:0], op.id, e)
	} else {
		b = jsonrpc.AppendRawResult((*buf)[:0], op.id, result)
	}
	ok := c.write(b)
	*buf = b
	putFrameBuffer(buf)
	return ok
}

func (c *wsConn) subscribe(op *wsOp) ([]byte, *jsonrpc.Error) {
	if _, ok := c.topics[op.topic]; !ok && len(c.topics) >= c.h.maxTopics {
		return nil, &jsonrpc.Error{Code: protocol.CodeLimited, Message: "rtgate: over the connection's limit of " + strconv.Itoa(c.h.maxTopics) + " topics"}
	}
	switch err := c.sub.Subscribe(op.topic, op.from); {
	case err == nil:
		c.topics[op.topic] = &wsTopic{resuming: op.from != nil}
		return appendTopicResult(nil, op.topic), nil
	case errors.Is(err, topics.ErrAlreadySubscribed):
		return nil, &jsonrpc.Error{Code: protocol.CodeSubscribed, Message: "rtgate: already subscribed to " + strconv.Quote(op.topic)}
	case errors.Is(err, topics.ErrUnknownTopic), errors.Is(err, topics.ErrInvalidTopic):
		return nil, &jsonrpc.Error{Code: protocol.CodeUnknownTopic, Message: "rtgate: unknown topic " + strconv.Quote(op.topic)}
	default:
		return nil, &jsonrpc.Error{Code: protocol.CodeServerError, Message: "rtgate: " + err.Error()}
	}
}

func appendTopicResult(dst []byte, topic string) []byte {
	dst = append(dst, `{"topic":`...)
	dst = jsonenc.AppendString(dst, topic)
	return append(dst, '}')
}

// appendTopicList appends rtgate.topics's result: the connection's topics,
// the hub's active ones and the families the poller serves.
func (c *wsConn) appendTopicList(dst []byte) []byte {
	list := func(dst []byte, key string, names []string) []byte {
		dst = append(dst, key...)
		dst = append(dst, '[')
		for i, n := range names {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, n)
		}
		return append(dst, ']')
	}
	dst = list(append(dst, '{'), `"subscribed":`, slices.Sorted(maps.Keys(c.topics)))
	dst = list(append(dst, ','), `"active":`, c.h.hub.Topics())
	dst = list(append(dst, ','), `"available":`, wsTopicFamilies)
	return append(dst, '}')
}

// writeMessage writes a message of the subscriber, in the connection's
// dialect.
func (c *wsConn) writeMessage(m topics.Message) bool {
	if c.compat {
		return c.writeEvent(m)
	}
	t := c.topics[m.Topic]
	if t == nil {
		return true // cannot happen: the writer itself unsubscribes
	}
	resuming := t.resuming
	t.resuming = false

	buf := getFrameBuffer()
	head := append((*buf)[:0], `{"jsonrpc":"2.0","method":"rtgate.message","params":{"topic":`...)
	head = jsonenc.AppendString(head, m.Topic)
	head = append(head, `,"kind":"`...)
	head = append(head, m.Kind.String()...)
	head = append(head, '"')
	var data []byte
	if m.Kind == topics.Ended {
		delete(c.topics, m.Topic)
		msg := "ended"
		if m.Err != nil {
			msg = m.Err.Error()
		}
		head = append(head, `,"error":`...)
		head = jsonenc.AppendString(head, msg)
	} else {
		head = append(head, `,"epoch":`...)
		head = jsonenc.AppendString(head, m.Epoch)
		head = append(head, `,"seq":`...)
		head = strconv.AppendUint(head, m.Seq, 10)
		switch {
		case m.Kind == topics.Snapshot && resuming:
			head = append(head, `,"recovered":false`...)
		case m.Recovered:
			head = append(head, `,"recovered":true`...)
		}
		if len(m.Data) > 0 {
			head = append(head, `,"data":`...)
			data = m.Data
		}
	}
	*buf = head
	ok := c.writeParts(buf, data, "}}")
	putFrameBuffer(buf)
	return ok
}

// subscribeEvents subscribes an rtorrent-ws connection to every download
// event, from now on.
func (c *wsConn) subscribeEvents() {
	if err := c.sub.Subscribe("events", nil); err != nil {
		c.h.log.Warn("rtgate: rtorrent-ws connection without events", "remote", c.remote, "err", err)
		c.closeWith(websocket.StatusInternalError, "no event stream")
	}
}

var (
	eventPrefix = []byte(`{"event":"event.download.`)
	eventHead   = []byte(`{"jsonrpc":"2.0","result":`)
)

// writeEvent pushes a download event as rtorrent-ws does: the events
// topic's change, which already is rtorrent-ws's inner object with its keys
// sorted, wrapped byte for byte.
func (c *wsConn) writeEvent(m topics.Message) bool {
	switch m.Kind {
	case topics.Change:
		if !bytes.HasPrefix(m.Data, eventPrefix) {
			return true
		}
		buf := getFrameBuffer()
		*buf = append((*buf)[:0], eventHead...)
		ok := c.writeParts(buf, m.Data, "}")
		putFrameBuffer(buf)
		return ok
	case topics.Ended:
		c.closeWith(websocket.StatusGoingAway, "event stream ended")
		return false
	}
	return true // the (empty) snapshot and resume markers are rtgate's, not rtorrent-ws's
}

// isOwnMethod reports whether a method is one of rtgate's, not rTorrent's.
func isOwnMethod(method string) bool { return strings.HasPrefix(method, "rtgate.") }
