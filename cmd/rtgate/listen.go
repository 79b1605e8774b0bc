package main

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// listenSCGI opens the SCGI door: a Unix socket with mode, or loopback TCP
// (SCGI has no way to authenticate, so it never listens beyond loopback).
func listenSCGI(addr string, mode os.FileMode) (net.Listener, error) {
	if rest, ok := strings.CutPrefix(addr, "tcp://"); ok {
		if !isLoopback(rest) {
			return nil, fmt.Errorf("%s is not a loopback address: SCGI cannot authenticate its clients", addr)
		}
		return net.Listen("tcp", rest)
	}
	return listenUnix(addr, mode)
}

// listenUnix listens on a Unix socket path (or unix:///path) with mode,
// creating its directory.
func listenUnix(addr string, mode os.FileMode) (net.Listener, error) {
	path := strings.TrimPrefix(addr, "unix://")
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(addr, "unix:") && strings.Contains(path, ":") {
		return nil, fmt.Errorf("%q: want a socket path, unix:///path or tcp://127.0.0.1:port", addr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	// A socket left by an earlier run that nothing answers on is removed;
	// one that answers belongs to someone else.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is in use by another process", path)
		}
		os.Remove(path)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// chownSocket gives a Unix socket to owner and group (names or numeric
// ids; empty leaves each as it is), so that a web server or Flood running
// as another user can reach it. A number is taken as an id whether or not
// /etc/passwd or /etc/group lists it, as chown(1) does: a container's ids
// often are listed nowhere.
func chownSocket(l net.Listener, owner, group string) error {
	ua, ok := l.Addr().(*net.UnixAddr)
	if !ok || (owner == "" && group == "") {
		return nil
	}
	uid, gid := -1, -1
	if n, err := strconv.Atoi(owner); err == nil && n >= 0 {
		uid, owner = n, ""
	}
	if n, err := strconv.Atoi(group); err == nil && n >= 0 {
		gid, group = n, ""
	}
	if owner != "" {
		u, err := user.Lookup(owner)
		if err != nil {
			if u, err = user.LookupId(owner); err != nil {
				return fmt.Errorf("owner %q: %w", owner, err)
			}
		}
		uid, _ = strconv.Atoi(u.Uid)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			if g, err = user.LookupGroupId(group); err != nil {
				return fmt.Errorf("group %q: %w", group, err)
			}
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return os.Chown(ua.Name, uid, gid)
}

// isLoopback reports whether a host:port listens on loopback only.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
