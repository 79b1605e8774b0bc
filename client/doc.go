// Package client is a Go client of rtgate's WebSocket API (docs/protocol.md):
// rTorrent calls in JSON-RPC, and topic subscriptions that start with a
// snapshot, continue with ordered changes and resume after a reconnect.
//
//	c, err := client.Dial(ctx, "ws://127.0.0.1:8080/ws", &client.Options{Token: token})
//	if err != nil { ... }
//	defer c.Close()
//	version, err := c.Call(ctx, "system.client_version")
//	sub, err := c.Subscribe(ctx, "torrents", nil)
//	for {
//		m, err := sub.Next(ctx) // snapshot first, then changes in order
//		if err != nil { ... }
//		fmt.Println(m.Kind, m.Seq, string(m.Data))
//	}
//
// Watch does the reconnecting: it keeps one topic's messages coming across
// dropped connections, resuming from the last position it delivered.
package client
