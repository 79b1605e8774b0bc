// Package nodetest finds what the tests of rtgate's JavaScript need on
// this machine — node, an npm package installed under testdata/, a
// browser — and skips the test when it is missing, or fails it under
// CI=true, where a missing dependency must not pass silently.
//
//	node := nodetest.Node(t)
//	ws := nodetest.Module(t, "testdata/wsnode", "ws")
package nodetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Missing skips the test saying what is missing and how to install it, or
// fails it under CI=true.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (%s)", what, install)
	}
	t.Skipf("%s (%s)", what, install)
}

// Node returns the path of node (Node 20 or later runs the tests).
func Node(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node is not installed", "apt-get install nodejs")
	}
	return node
}

// Module returns the directory of the npm package name installed under
// dir (dir/node_modules/name).
func Module(t testing.TB, dir, name string) string {
	t.Helper()
	mod := filepath.Join(dir, "node_modules", name)
	if _, err := os.Stat(filepath.Join(mod, "package.json")); err != nil {
		Missing(t, "the "+name+" package is not installed in "+dir, "npm ci --prefix "+dir)
	}
	return mod
}
