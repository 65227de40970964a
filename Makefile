# Upshot's build, test and demo entry points. Every target installs what it
# is missing first (see scripts/deps.sh), so a fresh Debian machine with Go
# needs nothing else.

SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOBIN)
ifeq ($(GOBIN),)
GOBIN := $(shell $(GO) env GOPATH)/bin
endif
export UPSHOT_VERSITYGW := $(GOBIN)/versitygw
# Cloudflare's Workers runtime, where scripts/deps.sh installs the version it pins.
WORKERD_VERSION := $(shell sed -n 's/^WORKERD_VERSION=//p' scripts/deps.sh)
export UPSHOT_WORKERD := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/upshot/workerd-$(WORKERD_VERSION)/workerd
# Installed at the version scripts/deps.sh pins.
STATICCHECK := $(GOBIN)/staticcheck
# Tests that need an X display start their own Xvfb; fail rather than skip.
export UPSHOT_REQUIRE_DISPLAY := 1
export UPSHOT_REQUIRE_EXIFTOOL := 1
# The phone inbox's page is tested in headless Chromium; fail rather than skip.
export UPSHOT_REQUIRE_BROWSER := 1
# The Worker in front of a private bucket is tested in workerd; fail rather than skip.
export UPSHOT_REQUIRE_WORKERD := 1
# The Windows programs are tested under Wine; fail rather than skip.
export UPSHOT_REQUIRE_WINE := 1
# Everything but the window (app, cmd/upshot-desktop and its benchmark),
# which needs cgo: it must build on every OS without cgo.
CORE = $(shell $(GO) list ./... | grep -v -e '/app$$' -e '/cmd/upshot-desktop$$' -e '/internal/devtools/appbench')

.PHONY: all build run test lint crossbuild bench package deps-test clean FORCE

all: build

# upshot is the command line; upshot-desktop, beside it, is the window that
# "upshot" with no subcommand starts.
bin/upshot: FORCE
	$(GO) build -o bin/upshot ./cmd/upshot

bin/upshot-desktop: FORCE
	@scripts/deps.sh build >/dev/null
	$(GO) build -o bin/upshot-desktop ./cmd/upshot-desktop

build: bin/upshot bin/upshot-desktop

run:
	@scripts/deps.sh run >/dev/null
	@$(MAKE) --no-print-directory build
	@scripts/run.sh

package:
	@scripts/package.sh

deps-test:
	@scripts/deps.sh test >/dev/null

lint: deps-test
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet ./...
	@echo "== staticcheck"; $(STATICCHECK) ./...
	@echo "== go vet and staticcheck of the phone page's wasm (GOOS=js GOARCH=wasm)"; \
	  GOOS=js GOARCH=wasm $(GO) vet ./internal/inbox/wasm && GOOS=js GOARCH=wasm $(STATICCHECK) ./internal/inbox/wasm

# One architecture per OS: Upshot's own code has no architecture-specific
# files, and each target compiles every dependency once more (the cold run's
# biggest cost after the race build). The Windows window program needs cgo,
# through mingw-w64. Every Windows build (here, the Windows suite's, and
# scripts/package.sh's) uses -trimpath, and the window's -tags release and
# the C flags fyne package --release (fyne.io/tools v1.7.4) gives it with
# mingw-w64 (CGO_CFLAGS="-O3 -pipe": no hardening flags for a gcc it does
# not recognise), so that one cold build serves them all from the cache.
crossbuild:
	@scripts/deps.sh package >/dev/null
	@echo "== cross-build (CGO_ENABLED=0) for windows/amd64 and darwin/arm64"
	@for target in windows/amd64 darwin/arm64; do \
	  CGO_ENABLED=0 GOOS=$${target%/*} GOARCH=$${target#*/} $(GO) build -trimpath -o /dev/null $(CORE) || exit 1; \
	done
	@echo "== cross-build of the Windows window program (cgo, x86_64-w64-mingw32-gcc)"
	@CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CGO_CFLAGS="-O3 -pipe" GOOS=windows GOARCH=amd64 $(GO) build -trimpath -tags release -o /dev/null ./cmd/upshot-desktop

test: lint crossbuild
	@echo "== go test -race"
	$(GO) test -race -count=1 -timeout 40m ./...

bench:
	@scripts/deps.sh bench >/dev/null
	@scripts/bench.sh

clean:
	rm -rf bin dist
