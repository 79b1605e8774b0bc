package ui_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nodeBinary returns node, or skips the test (fails it under CI=true)
// when it is missing.
func nodeBinary(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed (Node 20 or later runs the JavaScript tests)")
		}
		t.Skip("node is not installed")
	}
	return node
}

// TestJSUnit runs the unit tests of rtgate.js's protocol logic and of the
// page's models with Node's test runner (no server: a scripted WebSocket
// and clock). rtgate.live.test.mjs, against a real rtgate, runs from
// cmd/rtgate.
func TestJSUnit(t *testing.T) {
	node := nodeBinary(t)
	files, err := filepath.Glob(filepath.Join("jstest", "*.unit.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no unit tests under jstest/: %v", err)
	}
	cmd := exec.Command(node, append([]string{"--test", "--test-reporter=spec"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
