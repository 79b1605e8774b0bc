package rtorrenttest

import "syscall"

// setDeathSignal makes the kernel kill rTorrent if the test binary dies
// before its cleanups run (a panic in another goroutine, go test -timeout).
func setDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
