package rtorrenttest

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// rc returns the rc file for the next run. The socket opens last so that
// ExtraRC lines are in effect before any RPC can arrive.
func (i *Instance) rc() []string {
	lines := []string{
		"# Written by rtorrenttest; rtorrent runs with -n -o import=<this file>.",
		"directory.default.set = " + quote(i.DownloadDir),
		"session.path.set = " + quote(i.SessionDir),
		fmt.Sprintf("network.port_range.set = %d-%d", i.Port, i.Port),
		"network.bind_address.set = 127.0.0.1",
		"dht.mode.set = disable",
		"protocol.pex.set = no",
		"trackers.use_udp.set = no",
		"system.daemon.set = true",
		"network.xmlrpc.size_limit.set = " + strconv.FormatInt(i.sizeLimit, 10),
	}
	lines = append(lines, i.extraRC...)
	return append(lines, "network.scgi.open_local = "+quote(i.Socket))
}

func writeRC(path string, lines []string) error {
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("write rc: %w", err)
	}
	return nil
}

// quote makes a path one rc argument even if it holds spaces or commas.
// Start rejects paths that would need escaping.
func quote(s string) string {
	return `"` + s + `"`
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process can take it before rTorrent binds it; launch retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
