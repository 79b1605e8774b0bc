package poller

import (
	"time"

	"github.com/rtgate/rtgate/xmlrpc"
)

// Answer answers, from what the last poll read, the calls whose result the
// poller holds exactly and that no client can change: the global transfer
// rates and totals (throttle.global_down.rate and .total,
// throttle.global_up.rate and .total, target ""), alone or as a
// system.multicall of only them — Flood's transfer summary, asked every
// 2 s by every Flood. ok is false for any other call, and whenever the last
// successful poll is older than twice Interval, so that the call goes to the
// backend. It does not block; the gateway's Fresh hook is its user.
func (p *Poller) Answer(method string, params []xmlrpc.Value) (v xmlrpc.Value, ok bool) {
	at := p.polledAt.Load()
	if at == 0 || time.Since(time.Unix(0, at)) > 2*p.opts.Interval {
		return xmlrpc.Value{}, false
	}
	tr := p.Transfer()
	if method != "system.multicall" {
		return transferFigure(tr, method, params)
	}
	if len(params) != 1 || params[0].Kind() != xmlrpc.Array || params[0].Len() == 0 {
		return xmlrpc.Value{}, false
	}
	entries := params[0].Values()
	out := make([]xmlrpc.Value, len(entries))
	for i, e := range entries {
		name, _ := e.Member("methodName")
		args, _ := e.Member("params")
		if e.Kind() != xmlrpc.Struct || e.Len() != 2 || name.Kind() != xmlrpc.String || args.Kind() != xmlrpc.Array {
			return xmlrpc.Value{}, false
		}
		fig, ok := transferFigure(tr, name.String(), args.Values())
		if !ok {
			return xmlrpc.Value{}, false
		}
		out[i] = xmlrpc.NewArray(fig)
	}
	return xmlrpc.NewArray(out...), true
}

// transferFigure answers one global rate or total, with the empty target
// (or none) as rTorrent takes it.
func transferFigure(tr Transfer, method string, params []xmlrpc.Value) (xmlrpc.Value, bool) {
	switch len(params) {
	case 0:
	case 1:
		if params[0].Kind() != xmlrpc.String || params[0].String() != "" {
			return xmlrpc.Value{}, false
		}
	default:
		return xmlrpc.Value{}, false
	}
	var n int64
	switch method {
	case "throttle.global_down.rate":
		n = tr.DownRate
	case "throttle.global_down.total":
		n = tr.DownTotal
	case "throttle.global_up.rate":
		n = tr.UpRate
	case "throttle.global_up.total":
		n = tr.UpTotal
	default:
		return xmlrpc.Value{}, false
	}
	return xmlrpc.NewInt(n), true
}
