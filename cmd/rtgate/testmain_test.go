package main

import (
	"os"
	"testing"
)

// TestMain keeps the defaults that live under $XDG_DATA_HOME (the embedded
// engine's directories, the SCGI socket) out of the user's home.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rtgate-cmd-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
