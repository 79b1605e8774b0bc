package floodtest_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines outlive the tests: each Flood's wait
// goroutine, its tap's relays and its HTTP connections must be gone once
// its cleanup has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkGoroutines(2 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkGoroutines waits up to grace for all goroutines but this one to end.
func checkGoroutines(grace time.Duration) error {
	deadline := time.Now().Add(grace)
	for {
		leaked := otherGoroutines()
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leaked %d goroutines:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func otherGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	// The first stack is the calling goroutine's.
	for _, g := range strings.Split(string(buf), "\n\n")[1:] {
		if strings.Contains(g, "os/signal.signal_recv") {
			continue
		}
		out = append(out, g)
	}
	return out
}
