package rtorrenttest_test

import (
	"fmt"
	"runtime"
	"testing"
)

// fatalTB stands in for a test whose failure or skip is the expected
// outcome: it records the message and ends the goroutine, as testing does.
// Everything else (Cleanup, TempDir, Helper) goes to the real test.
type fatalTB struct {
	testing.TB
	fatal, skip string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Skip(args ...any) {
	f.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

// expectExit runs fn with a fatalTB on its own goroutine and returns the
// recorder once fn has returned or called Fatal or Skip.
func expectExit(t *testing.T, fn func(tb testing.TB)) *fatalTB {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}
