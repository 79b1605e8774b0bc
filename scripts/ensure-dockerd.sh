#!/bin/sh
# ensure-dockerd.sh — start dockerd (as root, in the background) unless one answers already,
# for make test-compose (scripts/test-compose.sh) on a machine where nothing started it.
# Idempotent: a second call returns at once. Bounded: gives up after DOCKERD_WAIT seconds (default 60).
# Log: $DOCKERD_LOG (default /var/log/rtgate-dockerd.log). Exit 0 when `docker info` works.
set -eu
WAIT=${DOCKERD_WAIT:-60}
LOG=${DOCKERD_LOG:-/var/log/rtgate-dockerd.log}

if docker info >/dev/null 2>&1; then
	echo "ensure-dockerd: dockerd already answers" >&2
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "ensure-dockerd: dockerd is not running and only root can start it" >&2
	exit 1
fi
if ! command -v dockerd >/dev/null 2>&1; then
	echo "ensure-dockerd: no dockerd (apt-get install -y docker.io)" >&2
	exit 1
fi

# A dockerd that is starting (or hung) holds its pidfile: wait for it rather than start a second.
# A killed dockerd can linger as a zombie (its parent, PID 1 here, may not reap it) and a pid can
# be reused: only a live (not Z) process named dockerd counts.
PIDFILE=/var/run/docker.pid
alive() { [ -n "$1" ] && ps -o stat=,comm= -p "$1" 2>/dev/null | grep -qv '^Z' && ps -o comm= -p "$1" | grep -qx dockerd; }
if [ -s "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
	echo "ensure-dockerd: dockerd pid $(cat "$PIDFILE") exists, waiting for it" >&2
else
	rm -f "$PIDFILE"
	# A dockerd killed with SIGKILL leaves its own containerd behind; the next dockerd finds it
	# "still running", cannot use it and exits ("timeout waiting for containerd to start").
	# End that orphan (by its pid, only if it is dockerd's managed containerd) first.
	CTRPID=/var/run/docker/containerd/containerd.pid
	if [ -s "$CTRPID" ]; then
		cp=$(cat "$CTRPID")
		if ps -o args= -p "$cp" 2>/dev/null | grep -q '/var/run/docker/containerd/containerd.toml'; then
			echo "ensure-dockerd: ending orphaned containerd $cp" >&2
			kill "$cp" 2>/dev/null || true
			for _ in 1 2 3 4 5 6 7 8 9 10; do ps -p "$cp" >/dev/null 2>&1 || break; sleep 0.5; done
			kill -9 "$cp" 2>/dev/null || true
		fi
		rm -f "$CTRPID"
	fi
	# setsid + nohup: the daemon outlives this shell and is not in its process group.
	# --storage-driver is left to dockerd (overlay2 on ext4 here); DOCKERD_ARGS adds flags.
	echo "=== $(date -u +%FT%TZ) ensure-dockerd starting dockerd ${DOCKERD_ARGS:-}" >>"$LOG"
	# shellcheck disable=SC2086
	setsid nohup dockerd ${DOCKERD_ARGS:-} >>"$LOG" 2>&1 </dev/null &
fi

i=0
t0=$(date +%s)
while ! docker info >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $((i % 10)) = 0 ] && ! pgrep -x dockerd >/dev/null; then
		echo "ensure-dockerd: dockerd exited; last lines of $LOG:" >&2
		grep -v '\[core\]' "$LOG" | tail -n 5 >&2
		exit 1
	fi
	if [ "$i" -gt "$((WAIT * 2))" ]; then
		echo "ensure-dockerd: dockerd did not answer within ${WAIT}s; last lines of $LOG:" >&2
		tail -n 20 "$LOG" >&2
		exit 1
	fi
	sleep 0.5
done
echo "ensure-dockerd: dockerd up after $(( $(date +%s) - t0 ))s, storage driver $(docker info --format '{{.Driver}}')" >&2
