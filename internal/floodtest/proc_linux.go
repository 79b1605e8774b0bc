package floodtest

import "syscall"

// setDeathSignal makes the kernel kill Flood if the test binary dies before
// its cleanups run (a panic in another goroutine, go test -timeout).
func setDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
