package engine_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if goroutines outlive the tests: Close must stop
// every goroutine the engine and its anacrolix client started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
