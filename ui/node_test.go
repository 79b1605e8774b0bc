package ui_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rtgate/rtgate/internal/nodetest"
)

// TestJSUnit runs the unit tests of rtgate.js's protocol logic and of the
// page's models with Node's test runner (no server: a scripted WebSocket
// and clock). rtgate.live.test.mjs, against a real rtgate, runs from
// cmd/rtgate.
func TestJSUnit(t *testing.T) {
	node := nodetest.Node(t)
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
