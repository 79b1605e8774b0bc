#!/bin/bash
# rtorrent-sid-rootfs.sh [DIR] - a Debian sid root file system holding rTorrent 0.16.x,
# for running a second rTorrent version next to the host's 0.9.8 (chroot).
#
#   DIR defaults to ${RTGATE_CACHE:-/var/cache/rtgate}/rtorrent-sid-rootfs
#
# Idempotent: a finished build leaves DIR/.rtgate-rootfs-stamp (the rtorrent
# version); with it present nothing is rebuilt and the version is printed.
# A build goes into DIR.tmp and is renamed onto DIR only when complete, so a
# half-built tree is never used. Concurrent runs serialise on DIR.lock.
#
# The Debian mirror is read at run time from the first "URIs:" line of
# /etc/apt/sources.list.d/debian.sources (or the first "deb" line of
# /etc/apt/sources.list); RTGATE_MIRROR overrides it. No host name is kept here.
#
# Needs root (mmdebstrap's root mode; chroot). Prints, on its last line:
#   rtorrent <version> <DIR>
# Env: RTGATE_RTORRENT_VERSION=X.Y.Z makes a version other than X.Y.Z an error
# (default: 0.16.17 is expected, any other version only warns).
set -euo pipefail

prog=${0##*/}
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

want=${RTGATE_RTORRENT_VERSION:-}
expect=${want:-0.16.17}
dir=${1:-${RTGATE_CACHE:-/var/cache/rtgate}/rtorrent-sid-rootfs}
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
dir=${dir%/}
stamp=$dir/.rtgate-rootfs-stamp
tmp=$dir.tmp

# rtorrent_version ROOT: the upstream version rTorrent reports ("0.16.17").
rtorrent_version() {
	local line
	line=$(chroot "$1" /usr/bin/rtorrent -h 2>/dev/null </dev/null | head -n 1) || true
	# "Rakshasa's BitTorrent client version 0.16.17."
	line=${line##* version }
	line=${line%.}
	[[ $line =~ ^[0-9]+(\.[0-9]+)+$ ]] || return 1
	printf '%s\n' "$line"
}

report() { # report VERSION
	if [[ $1 != "$expect" ]]; then
		if [[ -n $want ]]; then
			die "rtorrent in $dir is $1, not the required $want (RTGATE_RTORRENT_VERSION); remove $dir and rebuild, or unset RTGATE_RTORRENT_VERSION"
		fi
		printf '%s: warning: sid has rtorrent %s, not %s\n' "$prog" "$1" "$expect" >&2
	fi
	printf 'rtorrent %s %s\n' "$1" "$dir"
}

valid_stamp() { # prints the stamped version if DIR is a finished build
	[[ -f $stamp && -x $dir/usr/bin/rtorrent ]] || return 1
	local v
	v=$(sed -n 's/^rtorrent=//p' "$stamp" | head -n 1)
	[[ -n $v ]] || return 1
	printf '%s\n' "$v"
}

if v=$(valid_stamp); then report "$v"; exit 0; fi

(( EUID == 0 )) || die "must run as root (mmdebstrap root mode and chroot); run: sudo $0 ${1:-}"
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed; run: apt-get install -y mmdebstrap"
command -v chroot >/dev/null || die "chroot is not installed; run: apt-get install -y coreutils"

mkdir -p "$(dirname "$dir")" || die "cannot create $(dirname "$dir"); set RTGATE_CACHE or pass a DIR you can write"
exec 9>"$dir.lock" || die "cannot open lock $dir.lock"
flock 9 || die "cannot lock $dir.lock"
# Another run may have finished while we waited for the lock.
if v=$(valid_stamp); then report "$v"; exit 0; fi

mirror=${RTGATE_MIRROR:-}
if [[ -z $mirror && -r /etc/apt/sources.list.d/debian.sources ]]; then
	mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources | head -n 1 | awk '{print $1}')
fi
if [[ -z $mirror && -r /etc/apt/sources.list ]]; then
	mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit } }' /etc/apt/sources.list)
fi
[[ -n $mirror ]] || die "no Debian mirror found: no URIs: line in /etc/apt/sources.list.d/debian.sources nor deb line in /etc/apt/sources.list; set RTGATE_MIRROR=<mirror URI>"
mirror=${mirror%/}

# Can the mirror be read? Fetch sid's Release file (small) first.
probe=$(mktemp)
trap 'rm -f "$probe"' EXIT
if command -v curl >/dev/null; then
	curl -fsSL --max-time 60 -o "$probe" "$mirror/dists/sid/Release" 2>/dev/null ||
		die "cannot read sid from the Debian mirror in the apt sources (dists/sid/Release); check the network or set RTGATE_MIRROR"
else
	/usr/lib/apt/apt-helper download-file "$mirror/dists/sid/Release" "$probe" >/dev/null 2>&1 ||
		die "cannot read sid from the Debian mirror in the apt sources (dists/sid/Release); check the network or set RTGATE_MIRROR"
fi
grep -q '^Suite: unstable' "$probe" || die "the mirror's dists/sid/Release is not Debian unstable; set RTGATE_MIRROR to a Debian mirror"

rm -rf "$tmp"
log=$dir.build.log
# The mirror's sid Release is past its Valid-Until: tell apt not to care.
if ! mmdebstrap --variant=apt --mode=root \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--aptopt='Acquire::Check-Date "false"' \
	--include=rtorrent --components=main \
	sid "$tmp" "$mirror" >"$log" 2>&1; then
	rm -rf "$tmp"
	die "mmdebstrap failed building sid with rtorrent (log: $log: $(grep -m1 -E '^E:|error' "$log" || tail -n 1 "$log")); fix the cause and re-run"
fi

v=$(rtorrent_version "$tmp") || { rm -rf "$tmp"; die "rtorrent does not run inside the new rootfs (chroot $tmp rtorrent -h); see $log"; }
pkg=$(chroot "$tmp" dpkg-query -W -f='${Version}' rtorrent 2>/dev/null || true)
lib=$(chroot "$tmp" dpkg-query -W -f='${Package}=${Version}' 'libtorrent*' 2>/dev/null | tr '\n' ' ' || true)
# mmdebstrap leaves no /etc/hosts: without it "localhost" does not resolve
# inside the chroot (tracker URLs such as http://localhost:PORT/announce).
[[ -e $tmp/etc/hosts ]] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
# Nothing inside needs apt's downloaded lists or packages any more.
rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"* 2>/dev/null || true
printf 'rtorrent=%s\npackage=%s\nlibtorrent=%s\nbuilt=%s\n' "$v" "$pkg" "${lib% }" "$(date -u +%FT%TZ)" >"$tmp/.rtgate-rootfs-stamp"

# Swap in atomically: an old unstamped (half-built) DIR is moved aside first.
if [[ -e $dir ]]; then
	old=$dir.old.$$
	mv -T "$dir" "$old"
	rm -rf "$old"
fi
mv -T "$tmp" "$dir"
rm -f "$log"
report "$v"
