// Package rtorrent is a typed client of rTorrent's XML-RPC interface over
// SCGI.
//
// A Client is cheap to share: every call opens its own SCGI connection, as
// rTorrent closes the connection after each reply. Faults come back as
// *xmlrpc.Fault and can be matched with errors.As; transport failures are
// wrapped with the method name.
//
//	c, err := rtorrent.New("unix:///run/rtorrent/rpc.sock", nil)
//	if err != nil { ... }
//	rows, err := c.DMulticall(ctx, "main", "d.hash=", "d.name=", "d.size_bytes=")
//	for _, row := range rows {
//		fmt.Println(row[0].String(), row[1].String(), row[2].Int())
//	}
//
// The rTorrent version and the set of methods it offers are asked for once
// (in one system.multicall) and cached until a connection attempt fails,
// which is how a restarted rTorrent is noticed.
package rtorrent
