package rtorrenttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/xmlrpc"
)

// A Version is an rTorrent release the kit can run: Debian bookworm's
// 0.9.8 (the rtorrent package, on PATH) and Debian sid's 0.16.17 (in a
// root file system, run chrooted with the host's /tmp bound into it, so
// that every socket and download path is the same inside and out).
type Version struct {
	// Name is the version rTorrent reports, "0.9.8" or "0.16.17": the
	// name of the subtests Each makes.
	Name string
	// sid: the binary is Debian sid's, in the root file system SidRoot
	// names; otherwise it is the host's.
	sid bool
}

// The versions the kit runs.
var (
	V098 = Version{Name: "0.9.8"}
	V016 = Version{Name: "0.16.17", sid: true}
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
func (v Version) Legacy() bool { return !v.sid }

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

// InstallHint says how to install v, as Start's failure under CI does.
func (v Version) InstallHint() string {
	if v.sid {
		return "scripts/rtorrent-sid-rootfs.sh"
	}
	return "apt-get install rtorrent"
}

// command returns the command that runs rTorrent v on the rc file rc, in
// the directory dir.
func (v Version) command(rc, dir string) (*exec.Cmd, error) {
	if !v.sid {
		bin, err := exec.LookPath("rtorrent")
		if err != nil {
			return nil, fmt.Errorf("rtorrent %w (version %s): apt-get install rtorrent (%v)", errMissing, v.Name, err)
		}
		cmd := exec.Command(bin, "-n", "-o", "import="+rc)
		cmd.Dir = dir
		return cmd, nil
	}
	root := SidRoot()
	if _, err := os.Stat(filepath.Join(root, ".rtgate-rootfs-stamp")); err != nil {
		return nil, fmt.Errorf("rtorrent %w (version %s): build its root file system with scripts/rtorrent-sid-rootfs.sh, as root (%v)", errMissing, v.Name, err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("rtorrent %w (version %s) for this user: running it chrooted needs root", errMissing, v.Name)
	}
	for _, tool := range []string{"unshare", "sh", "mount", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("rtorrent %w (version %s): %s is missing: apt-get install util-linux coreutils (%v)", errMissing, v.Name, tool, err)
		}
	}
	for _, p := range []string{rc, dir} {
		if !strings.HasPrefix(p, "/tmp/") {
			return nil, fmt.Errorf("rtorrent %s sees only /tmp of this machine, not %s: keep TMPDIR unset or under /tmp", v.Name, p)
		}
	}
	// unshare, sh, chroot and sh each exec the next: the process is
	// rTorrent itself. The bind mount lives in rTorrent's own mount
	// namespace and goes with it. chroot always starts in "/": the inner
	// shell moves to dir, so that rTorrent's relative paths mean what
	// they mean for 0.9.8.
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", `mount --bind /tmp "$0/tmp" && exec chroot "$0" /bin/sh -c 'cd "$0" && exec /usr/bin/rtorrent -n -o import="$1"' "$2" "$1"`,
		root, rc, dir)
	cmd.Dir = dir
	return cmd, nil
}

// What each version answers where they differ, as measured;
// docs/versions.md lists every difference with the test that covers it.

// UnknownHash is the fault the version answers for a download it does not
// have (d.name of an unknown hash).
func (v Version) UnknownHash() *xmlrpc.Fault {
	if v.sid {
		return &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "invalid parameters: info-hash not found"}
	}
	return &xmlrpc.Fault{Code: xmlrpc.FaultType, Message: "Could not find info-hash."}
}

// Methods is the number of names the version's system.listMethods lists.
func (v Version) Methods() int {
	if v.sid {
		return 870
	}
	return 735
}

// OddName is what d.name answers for a torrent named name whose bytes are
// not all printable UTF-8: 0.9.8 replaces each such byte with '?', 0.16.17
// percent-encodes it.
func (v Version) OddName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		case v.sid:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// Only runs f as the one subtest of version v, for a test whose subject is
// that version alone: the embedded engine's differential tests, whose
// oracle is 0.9.8, the version the engine answers as.
func Only(t *testing.T, v Version, f func(t *testing.T)) {
	t.Helper()
	t.Run(v.Name, f)
}
