package engine_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines outlive the tests: Close must stop
// every goroutine the engine and its anacrolix client started.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkGoroutines(5 * time.Second); err != nil {
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
		time.Sleep(20 * time.Millisecond)
	}
}

// processGoroutines are goroutines that live as long as the process once
// started, whoever started them.
var processGoroutines = []string{
	"os/signal.signal_recv",
}

func otherGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	// The first stack is the calling goroutine's.
next:
	for _, g := range strings.Split(string(buf), "\n\n")[1:] {
		for _, p := range processGoroutines {
			if strings.Contains(g, p) {
				continue next
			}
		}
		out = append(out, g)
	}
	return out
}
