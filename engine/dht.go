package engine

import (
	"context"
	"net"
	"time"

	"github.com/anacrolix/dht/v2"
)

// dhtBootstrapTimeout bounds the DNS lookups of the DHT's bootstrap hosts.
const dhtBootstrapTimeout = 10 * time.Second

// dhtStartingNodes resolves the DHT's public bootstrap hosts for anacrolix,
// in place of its own resolver, for two leaks of anacrolix/dht v2.23.0
// that a machine without DNS (or without the internet) hits at every
// bootstrap, which the table maintainer retries for as long as the table
// is empty:
//
//   - BootstrapContext returns without stopping the traversal it started
//     when it has no node to start from (the getter fails or answers
//     none), so every failed bootstrap leaves a goroutine running for
//     good. This getter never fails: when nothing resolves it answers the
//     discard port on loopback, a node that never answers, so the
//     traversal runs its course, stalls and is stopped.
//   - Its resolver starts a process-wide cache refresher that nothing ever
//     stops: this one asks net.DefaultResolver, bounded by a timeout.
//
// A DHT without real starting nodes still answers peers that contact it,
// and the maintainer bootstraps again later.
func dhtStartingNodes(network string) dht.StartingNodesGetter {
	return func() ([]dht.Addr, error) {
		ctx, cancel := context.WithTimeout(context.Background(), dhtBootstrapTimeout)
		defer cancel()
		var out []dht.Addr
		for _, hp := range dht.DefaultGlobalBootstrapHostPorts {
			host, port, err := net.SplitHostPort(hp)
			if err != nil {
				continue
			}
			ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err != nil {
				continue
			}
			for _, ip := range ips {
				if (network == "udp4") != (ip.IP.To4() != nil) && network != "udp" {
					continue
				}
				ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(ip.IP.String(), port))
				if err != nil {
					continue
				}
				out = append(out, dht.NewAddr(ua))
			}
		}
		if len(out) == 0 {
			ip := net.IPv4(127, 0, 0, 1)
			if network == "udp6" {
				ip = net.IPv6loopback
			}
			out = append(out, dht.NewAddr(&net.UDPAddr{IP: ip, Port: 9}))
		}
		return out, nil
	}
}
