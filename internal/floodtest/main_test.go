package floodtest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine is still alive once every test and
// benchmark has finished.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
