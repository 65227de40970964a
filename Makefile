# Upshot's build, test and demo entry points. Every target installs what it
# is missing first (see scripts/deps.sh), so a fresh Debian machine with Go
# needs nothing else.

SHELL := /bin/bash
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOBIN := $(shell $(GO) env GOBIN)
ifeq ($(GOBIN),)
GOBIN := $(shell $(GO) env GOPATH)/bin
endif
export UPSHOT_VERSITYGW := $(GOBIN)/versitygw
# Tests that need an X display start their own Xvfb; fail rather than skip.
export UPSHOT_REQUIRE_DISPLAY := 1
export UPSHOT_REQUIRE_EXIFTOOL := 1
# Everything but the window (app, cmd/upshot-desktop and its benchmark),
# which needs cgo: it must build on every OS without cgo.
CORE = $(shell $(GO) list ./... | grep -v -e '/app$$' -e '/cmd/upshot-desktop$$' -e '/internal/appbench')

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
	@echo "== staticcheck"; $(GO) run $(STATICCHECK) ./...

crossbuild:
	@echo "== cross-build (CGO_ENABLED=0) for windows and darwin"
	@for os in windows darwin; do for arch in amd64 arm64; do \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -o /dev/null $(CORE) || exit 1; \
	done; done

test: lint crossbuild
	@echo "== go test -race"
	$(GO) test -race -count=1 -timeout 40m ./...

bench:
	@scripts/deps.sh bench >/dev/null
	@scripts/bench.sh

clean:
	rm -rf bin dist
