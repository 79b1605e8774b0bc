package rtorrenttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A Version is an rTorrent release the kit can run: Debian bookworm's
// 0.9.8 (the rtorrent package, on PATH) and Debian sid's 0.16.17 (in a
// root file system, run chrooted with the host's /tmp bound into it, so
// that every socket and download path is the same inside and out).
type Version struct {
	// Name is the version rTorrent reports, "0.9.8" or "0.16.17": the
	// name of the subtests Each makes.
	Name string
	// root is the root file system holding the binary; "" for the host's.
	root string
}

// The versions the kit runs.
var (
	V098 = Version{Name: "0.9.8"}
	V016 = Version{Name: "0.16.17", root: SidRoot()}
)

// Versions returns every version, oldest first.
func Versions() []Version { return []Version{V098, V016} }

// SidRoot is the root file system holding rTorrent 0.16.17:
// $RTGATE_SID_ROOT, or $RTGATE_CACHE/rtorrent-sid-rootfs, or
// /var/cache/rtgate/rtorrent-sid-rootfs. scripts/rtorrent-sid-rootfs.sh
// builds it (.ci/run does, once per machine).
func SidRoot() string {
	if d := os.Getenv("RTGATE_SID_ROOT"); d != "" {
		return d
	}
	cache := os.Getenv("RTGATE_CACHE")
	if cache == "" {
		cache = "/var/cache/rtgate"
	}
	return filepath.Join(cache, "rtorrent-sid-rootfs")
}

// Is reports whether v is the version named name.
func (v Version) Is(name string) bool { return v.Name == name }

// Legacy reports whether v is 0.9.8, the one without JSON-RPC, with -501
// faults for unknown hashes and asynchronous loads.
func (v Version) Legacy() bool { return v.root == "" }

// Each runs f once per version, as subtests named by the version
// ("TestX/0.9.8", "TestX/0.16.17"); Start inside f runs that version.
// f's t shadows the caller's, so a test body moves inside unchanged.
func Each(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, v := range Versions() {
		t.Run(v.Name, f)
	}
}

// EachB is Each for benchmarks.
func EachB(b *testing.B, f func(b *testing.B)) {
	b.Helper()
	for _, v := range Versions() {
		b.Run(v.Name, f)
	}
}

// VersionOf returns the version a test runs under: the one its name
// holds as a path element (as Each names its subtests), or 0.9.8.
func VersionOf(t testing.TB) Version {
	for _, part := range strings.Split(t.Name(), "/") {
		for _, v := range Versions() {
			if part == v.Name {
				return v
			}
		}
	}
	return V098
}

// errMissing is wrapped by command's error for a version that is not
// installed here.
var errMissing = errors.New("not installed")

// command returns the command that runs rTorrent v on the rc file rc.
func (v Version) command(rc string) (*exec.Cmd, error) {
	if v.root == "" {
		bin, err := exec.LookPath("rtorrent")
		if err != nil {
			return nil, fmt.Errorf("rtorrent %s %w: apt-get install rtorrent (%v)", v.Name, errMissing, err)
		}
		return exec.Command(bin, "-n", "-o", "import="+rc), nil
	}
	if _, err := os.Stat(filepath.Join(v.root, ".rtgate-rootfs-stamp")); err != nil {
		return nil, fmt.Errorf("rtorrent %s %w: build its root file system with scripts/rtorrent-sid-rootfs.sh (as root; %v)", v.Name, errMissing, err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("rtorrent %s %w for this user: running it chrooted needs root", v.Name, errMissing)
	}
	if !strings.HasPrefix(rc, "/tmp/") {
		return nil, fmt.Errorf("rtorrent %s sees only /tmp of this machine, not %s: keep TMPDIR unset or under /tmp", v.Name, rc)
	}
	// unshare, sh and chroot each exec the next: the process is rTorrent
	// itself. The bind mount lives in rTorrent's own mount namespace and
	// goes with it.
	return exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", `mount --bind /tmp "$0/tmp" && cd / && exec chroot "$0" /usr/bin/rtorrent -n -o import="$1"`,
		v.root, rc), nil
}
