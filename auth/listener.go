package auth

import (
	"fmt"
	"net"
)

// TokenRequired reports whether a listener at addr needs a token: true
// unless it is a unix socket or a loopback TCP address. An unspecified
// address (0.0.0.0, [::]) listens on every interface and needs one.
//
// A handler cannot tell by itself: behind a reverse proxy on the same host
// every peer looks like loopback. The binary calls this (or CheckListener)
// with each listener's address before serving.
func TokenRequired(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.UnixAddr:
		return false
	case *net.TCPAddr:
		return !a.IP.IsLoopback()
	}
	if addr.Network() == "unix" || addr.Network() == "unixpacket" {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return true
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// CheckListener returns an error wrapping ErrTokenRequired when token is
// empty and a listener at addr needs one (TokenRequired).
func CheckListener(addr net.Addr, token string) error {
	if token == "" && TokenRequired(addr) {
		return fmt.Errorf("listen %s %s: %w", addr.Network(), addr, ErrTokenRequired)
	}
	return nil
}
