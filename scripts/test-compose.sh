#!/usr/bin/env bash
# test-compose.sh — make test-compose: build every image of the compose stack (compose.yaml)
# from local base images, start it, and check it end to end; the stack and its volumes are
# removed at the end (KEEP=1 leaves them up).
#
#   1. dockerd (started if needed), the local base images (cached per machine)
#   2. build rtorrent, rtgate and Flood; compose up, until every service is healthy
#   3. who may open which socket, and as whom each service runs
#   4. deploy/stackcheck (go test): Flood lists, adds and stops a download through rtgate; a
#      /ws client follows; rTorrent killed and back; rtgate restarted; down and up again
#
# Prints "compose: N passed, N failed" last and exits non-zero on any failure. Needs root,
# docker.io, docker-compose (or a compose v2 plugin: COMPOSE="docker compose"), mmdebstrap,
# Go and Node 20. Registry, proxy and mirror hosts are read from this machine's configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
t0=$SECONDS
lap() { printf '== %4ss %s\n' "$((SECONDS - t0))" "$*"; }

passed=0 failed=0
summary() { echo "compose: $passed passed, $failed failed"; }
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
		passed=$((passed + 1))
	else
		echo "FAIL $what"
		failed=$((failed + 1))
	fi
}
# fatal: a step the rest cannot do without failed; say which, count it, stop.
fatal() {
	echo "test-compose: $*" >&2
	failed=$((failed + 1))
	summary
	exit 1
}

scripts/ensure-dockerd.sh || fatal "dockerd is not running and could not be started (log: /var/log/rtgate-dockerd.log)"
scripts/docker-base-images.sh debian golang node || fatal "the local base images could not be built (scripts/docker-base-images.sh)"
lap "dockerd and base images ready"

if [ -z "${COMPOSE:-}" ]; then
	if command -v docker-compose >/dev/null 2>&1; then
		COMPOSE=docker-compose
	elif docker compose version >/dev/null 2>&1; then
		COMPOSE="docker compose"
	else
		fatal "no docker-compose and no docker compose plugin (apt-get install docker-compose)"
	fi
fi
dc() { $COMPOSE "$@"; }

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-rtgatetest}
export COMPOSE_FILE=$repo/compose.yaml:$repo/deploy/compose.test.yaml
# The legacy builder, through compose itself: every Dockerfile here builds with it, and it
# needs neither buildx nor a particular docker client first in PATH.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
export DEBIAN_IMAGE=rtgate-local/debian:bookworm GO_IMAGE=rtgate-local/golang:1.26 NODE_IMAGE=rtgate-local/node:20
export RUNTIME_IMAGE=${RUNTIME_IMAGE:-scratch}
for v in GOPROXY GOSUMDB GONOSUMDB GOPRIVATE GOFLAGS; do export "$v=$(go env "$v")"; done
npm_config_registry=$(npm config get registry)
export npm_config_registry
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
export VERSION

# free_port N: the first port from N on that nothing on 127.0.0.1 answers.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}
WS_PORT=$(free_port "${WS_PORT:-15080}")
FLOOD_PORT=$(free_port "${FLOOD_PORT:-13000}")
export WS_PORT FLOOD_PORT

work=$(mktemp -d)
# rtgate's token, readable by rtgate's group (2002) only, as compose.yaml asks.
export TOKEN_FILE=$work/rtgate.token
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKEN_FILE")
chgrp 2002 "$TOKEN_FILE" && chmod 0640 "$TOKEN_FILE"
out=$work/out
# quiet COMMAND...: run it; show its output only when it fails.
quiet() { "$@" >"$out" 2>&1 || { tail -n 60 "$out" >&2; echo "failed: $*" >&2; return 1; }; }
logs() {
	echo "-- the services' last log lines:" >&2
	dc logs --no-color --tail 30 >&2 2>/dev/null || true
}
cleanup() {
	local rc=$?
	[ "$failed" = 0 ] || [ -n "${failed_logged:-}" ] || logs
	if [ "${KEEP:-0}" = 1 ]; then
		echo "KEEP=1: the stack is left up (project $COMPOSE_PROJECT_NAME; COMPOSE_FILE=$COMPOSE_FILE TOKEN_FILE=$TOKEN_FILE)"
	else
		dc down -v --remove-orphans >/dev/null 2>&1 || true
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
# What an interrupted run left goes first.
dc down -v --remove-orphans >/dev/null 2>&1 || true

buildflags=()
[ "$COMPOSE" = docker-compose ] && buildflags=(--parallel)
quiet dc build "${buildflags[@]}" || fatal "the images did not build"
passed=$((passed + 1))
echo "ok   rtorrent, rtgate and Flood build from the local bases"
lap "built"

# health STATUS...: every service's container is in one of the given health states.
health() { docker inspect -f '{{.State.Health.Status}}' "$(dc ps -q "$1")" 2>/dev/null || echo none; }
wait_healthy() {
	local s
	for _ in $(seq 120); do
		s=$(health flood)
		[ "$s" = healthy ] && return 0
		sleep 0.5
	done
	echo "flood is $s after 60 s" >&2
	return 1
}
# compose waits for rtorrent, then rtgate, to be healthy before it starts the next.
quiet dc up -d || fatal "compose up failed"
wait_healthy || fatal "the stack did not become healthy"
passed=$((passed + 1))
echo "ok   compose up: rtorrent, rtgate and Flood healthy"
lap "up and healthy"

# -- sockets and users -----------------------------------------------------------------------
ex() { dc exec -T "$@"; }
connect='const s=require("net").connect(process.argv[1]);s.on("connect",()=>{console.log("connected");process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(1)})'
flood_connect() { ex flood node -e "$connect" "$1" 2>&1 || true; }
flood_denied_rtorrent() { flood_connect /sock/rtorrent/rpc.sock | grep -q EACCES; }
flood_reaches_rtgate() { flood_connect /sock/rtgate/rpc.sock | grep -q connected; }
check "Flood cannot open rTorrent's socket (EACCES)" flood_denied_rtorrent
check "Flood can open rtgate's socket" flood_reaches_rtgate
# The sockets as root sees them, from a throwaway container on the same volume.
sockets() {
	docker run --rm --network none --user 0 --entrypoint stat -v "$(vol sockets):/sock" "$(docker inspect -f '{{.Image}}' "$(dc ps -q rtorrent)")" \
		-c '%n %A %u:%g' /sock/rtorrent /sock/rtorrent/rpc.sock /sock/rtgate /sock/rtgate/rpc.sock
}
vol() { docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" --filter "label=com.docker.compose.volume=$1"; }
sockets | sed 's/^/     /'
is() { [ "$1" = "$2" ] || { echo "     got: $1" >&2; return 1; }; }
check "rTorrent's socket: srwxrwx--- 1001:2001 in drwxr-x--- 1001:2001" is "$(sockets | awk '/rtorrent/{printf "%s %s;", $2, $3}')" \
	"drwxr-x--- 1001:2001;srwxrwx--- 1001:2001;"
check "rtgate's socket: srw-rw---- 65532:2002 in drwxr-x--- 65532:2002" is "$(sockets | awk '/rtgate/{printf "%s %s;", $2, $3}')" \
	"drwxr-x--- 65532:2002;srw-rw---- 65532:2002;"
# uid, gid and supplementary groups of a service's main process, read on the host (with
# init: true the main process is docker-init's child).
ids() {
	local pid
	pid=$(docker inspect -f '{{.State.Pid}}' "$(dc ps -q "$1")")
	[ "$(ps -o comm= -p "$pid")" = docker-init ] && pid=$(ps -o pid= --ppid "$pid" | head -n1 | tr -d " ")
	ps -o uid=,gid=,supgid= -p "$pid" | tr -s ' ' | sed 's/^ //'
}
check "rTorrent runs as 1001:2001 (+ media 2003)" is "$(ids rtorrent)" "1001 2001 2001,2003"
check "rtgate runs as 65532:2002 (+ rtsock 2001)" is "$(ids rtgate)" "65532 2002 2001,2002"
check "Flood runs as 1000:1000 (+ 2002, media 2003)" is "$(ids flood)" "1000 1000 1000,2002,2003"
lap "sockets and users checked"

# -- end to end ------------------------------------------------------------------------------
gotest=(go test -count=1 -v -timeout 10m -run '^TestStack$' ./deploy/stackcheck -args
	-compose "$COMPOSE" -ws "ws://127.0.0.1:$WS_PORT/ws" -flood "http://127.0.0.1:$FLOOD_PORT" -token-file "$TOKEN_FILE")
set +e
"${gotest[@]}" 2>&1 | tee "$work/stackcheck.log" | grep -E '^\s*(--- (PASS|FAIL)|ok|FAIL|panic)|_test\.go:' | sed 's/^/     /'
rc=${PIPESTATUS[0]}
set -e
steps_ok=$(grep -cE '^\s+--- PASS: TestStack/' "$work/stackcheck.log" || true)
steps_bad=$(grep -cE '^\s+--- FAIL: TestStack/' "$work/stackcheck.log" || true)
passed=$((passed + steps_ok))
failed=$((failed + steps_bad))
if [ "$rc" != 0 ] && [ "$steps_bad" = 0 ]; then
	tail -n 30 "$work/stackcheck.log" >&2
	failed=$((failed + 1)) # it failed before or outside its steps (a build error, a panic)
fi
lap "end-to-end steps done"

if [ "$failed" != 0 ]; then
	logs
	failed_logged=1
fi
if [ "${KEEP:-0}" != 1 ]; then
	quiet dc down -v --remove-orphans
	lap "down -v"
fi
summary
[ "$failed" = 0 ]
