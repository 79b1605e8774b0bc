package main

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestChownSocketNumericIDs: listen.scgi_owner and scgi_group given as
// numbers that /etc/passwd and /etc/group do not list (as in a container
// whose image lists none) are used as ids.
func TestChownSocketNumericIDs(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("giving a socket to other ids needs root")
	}
	l, err := net.Listen("unix", filepath.Join(shortDir(t), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := chownSocket(l, "64999", "64998"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 64999 || st.Gid != 64998 {
		t.Errorf("socket owned by %d:%d, want 64999:64998", st.Uid, st.Gid)
	}
	if err := chownSocket(l, "", "no-such-group-here"); err == nil {
		t.Error("an unknown group name was accepted")
	}
}
