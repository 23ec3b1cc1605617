# Dockhand — run `make` (or `make help`) to see every target.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO        ?= go
BIN       := bin/dockhand
PKG       := github.com/dockhand/dockhand
# VERSION and COMMIT come from packaging/dist.mk (the latest v-tag, else 0.0.0-dev.N).
include packaging/dist.mk
LDFLAGS   = -X $(PKG)/agent/version.Version=$(VERSION) -X $(PKG)/agent/version.Commit=$(COMMIT)
STATICCHECK_VERSION := 2026.2.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck
TEST_TIMEOUT ?= 40m
BENCH_TIME ?= 1x

.PHONY: help build run deps test unit lint bench fuzz clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-22s\033[0m %s\n", $$1, $$2}'

build: ## build bin/dockhand for this machine
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./agent/cmd/dockhand

run: build ## run the self-contained demo: embedded broker, hub simulator, sample orders, web UI on http://127.0.0.1:8080
	./$(BIN) run $(if $(CONFIG),-config $(CONFIG),)

deps: ## install what the tests need from Debian's packages (mosquitto, chromium, qemu, fonts, cross compilers) when missing
	@.ci/deps

test: deps lint unit ## everything CI runs: lint, all Go tests (real Mosquitto, pseudo-terminals, TCP printers, Chromium, USB VM), packaging
	@if grep -q '^package-test:' packaging/dist.mk 2>/dev/null; then $(MAKE) --no-print-directory package-test; fi

unit: ## the Go tests only
	$(GO) test -timeout $(TEST_TIMEOUT) -count=1 ./...

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

bench: ## benchmarks with their baselines (see BENCHMARKS.md); BENCH_TIME=5s for steadier figures
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCH_TIME) -timeout 60m ./... | tee bench.out

fuzz: ## run every fuzz target for FUZZ_TIME each (default 20s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZ_TIME:-20s} $$pkg || exit 1; \
	  done; done

clean: ## remove build output
	rm -rf bin dist bench.out

