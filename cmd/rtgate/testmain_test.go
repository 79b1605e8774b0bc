package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// TestMain keeps the defaults that live under $XDG_DATA_HOME (the embedded
// engine's directories, the SCGI socket) out of the user's home, and fails
// the run if a goroutine outlives the tests.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(childEnv); ok {
		// A benchmark's rtgate in a process of its own.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := NewMain(os.Stdout, os.Stderr).Run(ctx, strings.Split(args, "\x1f")); err != nil {
			fmt.Fprintln(os.Stderr, "rtgate:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "rtgate-cmd-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines left after the tests:", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
