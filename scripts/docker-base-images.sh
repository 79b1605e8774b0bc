#!/usr/bin/env bash
# docker-base-images.sh — build and cache the local base images that stand in for the public
# ones the Dockerfiles name by default, so that make test-compose builds every image with no
# image registry at all. Idempotent: an image whose inputs did not change is kept; one that is
# missing or whose inputs changed is rebuilt, and so are the images above it.
#
#   rtgate-local/debian-core:bookworm  mmdebstrap --variant=apt rootfs, docker import'ed.
#                                      The tarball is cached in $RTGATE_CACHE (default
#                                      /var/cache/rtgate): a fresh dockerd re-imports it in seconds.
#                                      It holds no apt sources and no host name.
#   rtgate-local/debian:bookworm       core + this machine's apt sources, apt proxy/validity options
#                                      and locally added CAs (read at run time) — debian:bookworm-slim
#   rtgate-local/golang:1.26           debian + the host's Go (/usr/local/go)  — golang:1.26-bookworm
#   rtgate-local/node:20               debian + the host's node and npm         — node:20-bookworm-slim
#   rtgate-local/static:nonroot        scratch + passwd/group (nonroot 65532), CAs, zoneinfo, /tmp
#                                      — a distroless static image, nonroot; built only when named
#                                      (the rtgate image's default runtime is scratch itself)
#
# The debian image carries this machine's apt sources and the CAs added under
# /usr/local/share/ca-certificates (a TLS-intercepting egress needs its CA in every image that
# downloads); the cached tarball holds neither. Nothing here names a mirror or registry host:
# they are read from this machine's configuration at run time.
# Usage: docker-base-images.sh [--force] [debian|golang|node|static ...]
#        (default: debian golang node)
# Env: RTGATE_CACHE (default /var/cache/rtgate), BASE_GOROOT (default: go env GOROOT),
#      BASE_NODE (default: command -v node)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${RTGATE_CACHE:-/var/cache/rtgate}
SUITE=bookworm
SOURCES=/etc/apt/sources.list.d/debian.sources
force=0
want=()
for a in "$@"; do
	case $a in
	--force) force=1 ;;
	debian | golang | node | static) want+=("$a") ;;
	*) echo "usage: $0 [--force] [debian|golang|node|static ...]" >&2; exit 2 ;;
	esac
done
[ ${#want[@]} -gt 0 ] || want=(debian golang node)

log() { printf '%s docker-base-images: %s\n' "$(date +%T)" "$*" >&2; }
sha() { sha256sum | cut -c1-16; }
label() { docker image inspect --format "{{ index .Config.Labels \"rtgate.key\" }}" "$1" 2>/dev/null || true; }
imgid() { docker image inspect --format '{{.Id}}' "$1"; }
# up_to_date IMAGE KEY: the image exists and was built from these inputs.
up_to_date() { [ "$force" = 0 ] && [ "$(label "$1")" = "$2" ]; }
timed() { local t0=$SECONDS; "$@"; log "  ... $((SECONDS - t0))s"; }

"$here/ensure-dockerd.sh"
mkdir -p "$CACHE"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The legacy builder is enough (no buildx here); quiet its deprecation banner.
build() { DOCKER_BUILDKIT=0 docker build -q "$@" >/dev/null 2>"$work/build.err" || { cat "$work/build.err" >&2; return 1; }; }

# ---------------------------------------------------------------------------------------------
# debian-core: mmdebstrap tarball (cached) -> docker import
tarball=$CACHE/debian-$SUITE-apt.tar
make_tarball() {
	log "mmdebstrap $SUITE (variant apt) -> $tarball"
	[ -r "$SOURCES" ] || { echo "no $SOURCES" >&2; return 1; }
	# The host's deb822 sources are pasted into the chroot for the build only; the customize
	# hook removes them again so the cached rootfs names no host. Slim like debian-slim:
	# no docs, man pages or locales; no Recommends (mmdebstrap's default).
	mmdebstrap --variant=apt --format=tar --include=ca-certificates \
		--aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--customize-hook='rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*' \
		--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
		"$SUITE" "$tarball.part" "$SOURCES" 2>"$work/mmdebstrap.log" ||
		{ tail -n 30 "$work/mmdebstrap.log" >&2; rm -f "$tarball.part"; return 1; }
	mv "$tarball.part" "$tarball"
}
[ "$force" = 0 ] && [ -s "$tarball" ] || timed make_tarball
core_key=$(stat -c '%s %Y' "$tarball" | sha)
if ! up_to_date rtgate-local/debian-core:$SUITE "$core_key"; then
	log "import rtgate-local/debian-core:$SUITE"
	timed docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]' --change "LABEL rtgate.key=$core_key" \
		"$tarball" rtgate-local/debian-core:$SUITE >/dev/null
fi

# ---------------------------------------------------------------------------------------------
# debian: core + this machine's apt sources/options and local CAs (a few KB, seconds to rebuild)
ctx=$work/debian
mkdir -p "$ctx/sources" "$ctx/ca"
cp "$SOURCES" "$ctx/sources/"
# Only validity and proxy settings are carried over from the host's apt configuration.
apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|(http|https)::Proxy)' >"$ctx/apt.conf" || true
cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
cat >"$ctx/Dockerfile" <<'EOF'
FROM rtgate-local/debian-core:bookworm
COPY sources/ /etc/apt/sources.list.d/
COPY apt.conf /etc/apt/apt.conf.d/99rtgate-local
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null 2>&1 \
 && printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >/etc/apt/apt.conf.d/99norecommends
ENV LANG=C.UTF-8
CMD ["bash"]
EOF
deb_key=$( (imgid rtgate-local/debian-core:$SUITE; cd "$ctx" && find . -type f | sort | xargs cat) | sha)
if ! up_to_date rtgate-local/debian:$SUITE "$deb_key"; then
	log "build rtgate-local/debian:$SUITE"
	timed build --label rtgate.key="$deb_key" -t rtgate-local/debian:$SUITE "$ctx"
fi
deb_id=$(imgid rtgate-local/debian:$SUITE)

want_img() { local w; for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

# ---------------------------------------------------------------------------------------------
# golang: debian + the host's Go tree. GOPROXY & co are NOT baked in: pass them at build/run time.
if want_img golang; then
	goroot=${BASE_GOROOT:-$(go env GOROOT)}
	gover=$(head -n1 "$goroot/VERSION")
	key=$(printf '%s %s %s' "$deb_id" "$gover" "$(stat -c %Y "$goroot/VERSION")" | sha)
	if ! up_to_date rtgate-local/golang:1.26 "$key"; then
		log "build rtgate-local/golang:1.26 ($gover from $goroot)"
		ctx=$work/golang
		mkdir -p "$ctx"
		tar -C "$(dirname "$goroot")" --transform "s,^$(basename "$goroot"),go," -cf "$ctx/go.tar" "$(basename "$goroot")"
		cat >"$ctx/Dockerfile" <<EOF
FROM rtgate-local/debian:$SUITE
ADD go.tar /usr/local/
ENV GOLANG_VERSION=${gover#go} GOTOOLCHAIN=local GOPATH=/go
ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
WORKDIR /go
EOF
		timed build --label rtgate.key="$key" -t rtgate-local/golang:1.26 "$ctx"
		rm -f "$ctx/go.tar"
	fi
fi

# ---------------------------------------------------------------------------------------------
# node: debian + the host's node binary and its npm (nodesource's node 20; npm as upgraded here).
# Debian bookworm's own nodejs is 18 and nodesource's apt source is not reachable.
if want_img node; then
	node=$(readlink -f "${BASE_NODE:-$(command -v node)}")
	nodever=$("$node" --version)
	case $nodever in v20.*) ;; *) echo "docker-base-images: $node is $nodever, not Node 20 (set BASE_NODE)" >&2; exit 1 ;; esac
	npmdir=$(readlink -f "$(dirname "$node")/../lib/node_modules/npm")
	npmver=$(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$npmdir/package.json" | head -n1)
	key=$(printf '%s %s %s %s' "$deb_id" "$nodever" "$npmver" "$(stat -c %Y "$node")" | sha)
	if ! up_to_date rtgate-local/node:20 "$key"; then
		log "build rtgate-local/node:20 (node $nodever, npm $npmver)"
		ctx=$work/node
		mkdir -p "$ctx/root/usr/bin" "$ctx/root/usr/lib/node_modules"
		cp "$node" "$ctx/root/usr/bin/node"
		cp -a "$npmdir" "$ctx/root/usr/lib/node_modules/npm"
		tar -C "$ctx/root" -cf "$ctx/node.tar" usr
		rm -rf "$ctx/root"
		cat >"$ctx/Dockerfile" <<EOF
FROM rtgate-local/debian:$SUITE
ADD node.tar /
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
# Node keeps its own CA list; this adds the system's (with any locally added CA).
ENV NODE_VERSION=${nodever#v} NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
		timed build --label rtgate.key="$key" -t rtgate-local/node:20 "$ctx"
		rm -f "$ctx/node.tar"
	fi
fi

# ---------------------------------------------------------------------------------------------
# static: a distroless-static-like runtime from scratch; default user nonroot (65532).
if want_img static; then
	key=$(printf '%s static-v1' "$deb_id" | sha)
	if ! up_to_date rtgate-local/static:nonroot "$key"; then
		log "build rtgate-local/static:nonroot"
		ctx=$work/static
		mkdir -p "$ctx"
		cat >"$ctx/Dockerfile" <<'EOF'
FROM rtgate-local/debian:bookworm AS files
RUN apt-get update -qq && apt-get install -y -qq tzdata >/dev/null && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /out/etc/ssl/certs /out/usr/share /out/tmp /out/home/nonroot \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && cp -a /usr/share/zoneinfo /out/usr/share/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/out/etc/passwd \
 && printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >/out/etc/group \
 && printf 'hosts: files dns\n' >/out/etc/nsswitch.conf \
 && cp /etc/os-release /out/etc/os-release \
 && chmod 1777 /out/tmp && chown 65532:65532 /out/home/nonroot && chmod 700 /out/home/nonroot
FROM scratch
COPY --from=files /out/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
EOF
		timed build --label rtgate.key="$key" -t rtgate-local/static:nonroot "$ctx"
	fi
fi

docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep '^rtgate-local/' >&2
