//go:build !unix

package rtorrenttest

import (
	"errors"
	"syscall"
)

// rTorrent runs only on Unix; on other systems Start finds no binary and
// skips, and these exist only so that the package compiles.

func procAttr() *syscall.SysProcAttr { return nil }

func signalGroup(int, syscall.Signal) error { return errors.ErrUnsupported }
