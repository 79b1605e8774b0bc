//go:build !unix

package floodtest

import (
	"errors"
	"syscall"
)

// procAttr returns nil: without process groups Close kills Flood alone.
func procAttr() *syscall.SysProcAttr { return nil }

// signalGroup fails, so that kill falls back to killing the process.
func signalGroup(int, syscall.Signal) error { return errors.ErrUnsupported }
