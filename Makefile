# rtgate — see README.md. Every target works on a fresh Debian machine with Go;
# `make test` needs rtorrent (apt-get install -y rtorrent).

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
PKGS     := ./...
FUZZTIME ?= 10s
# Tool versions the Makefile runs, pinned.
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build test test-compose vet staticcheck bench bench-rtorrent bench-ui soak fuzz run clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/rtgate ./cmd/rtgate

# The README's test command: vet and staticcheck, then every test (real
# rTorrent included) with the race detector.
test: vet staticcheck
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

# The compose stack (compose.yaml) built from local base images and checked
# end to end: Flood through rtgate, a /ws client, rTorrent killed, rtgate
# restarted, down and up. Needs root and docker.io, docker-compose and
# mmdebstrap (.ci/run installs them); see docs/deploy.md.
test-compose:
	scripts/test-compose.sh

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# Micro-benchmarks. Numbers go in docs/BENCHMARKS.md with this command.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 3 -skip 'Rtorrent' $(PKGS)

# Benchmarks against a real rTorrent (both versions): the anchor (Flood's
# poll at 1k/5k/10k torrents), the poller's tick work, coalescing, and
# Flood-style pollers at random phases, directly and through rtgate, in
# windows of BENCH_WINDOW over libraries of BENCH_SIZES downloads (about
# 40 minutes at the defaults; docs/BENCHMARKS.md has the numbers).
BENCH_WINDOW ?= 60s
BENCH_SIZES  ?= 5000,10000
bench-rtorrent:
	$(GO) test -run '^$$' -bench 'Rtorrent' -benchtime 20x -timeout 30m ./rtorrent/ ./engine/ ./poller/ ./gateway/
	$(GO) test -run '^$$' -bench 'RtorrentPollers' -benchtime 1x -timeout 120m ./cmd/rtgate/ -rtwindow $(BENCH_WINDOW) -rtsizes $(BENCH_SIZES)

# The page in headless Chromium over 10,000 downloads: time to first
# render, and frames while scrolling (docs/BENCHMARKS.md).
bench-ui:
	$(GO) test -run '^$$' -bench 'RtorrentUI' -benchtime 10x -count 3 -timeout 30m ./cmd/rtgate/

# The churn soak at full size: ten rounds of 1,000 WebSocket subscribers
# over 5,000 downloads, heap and goroutines back at their baseline after
# each (make test runs it small).
soak:
	$(GO) test -run '^TestChurnReturnsToBaseline$$' -count=1 -v -timeout 20m ./gateway/ws/ -soak

# A short smoke run of every fuzz target (go test -fuzz takes one at a time).
fuzz:
	@set -e; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | sed 's/^func //' | sort -u); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# Run rtgate from source. Pass flags with ARGS, e.g.
#   make run ARGS='-rtorrent unix:///home/me/.rtorrent/rpc.sock'
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/rtgate $(ARGS)

clean:
	rm -rf bin
