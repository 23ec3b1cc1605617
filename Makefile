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

.PHONY: help build run deps test unit lint bench fuzz clean peakday peakday-short

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

bench: ## every benchmark beside its baseline (see BENCHMARKS.md); output in bench.out
	@{ set -e; \
	  B="$(GO) test -run ^$$ -timeout 60m"; \
	  $$B -bench . -benchtime 1x ./agent/store; \
	  $$B -bench . -benchtime 3000x ./agent/floor; \
	  $$B -bench ScanToVerdict -benchtime 1x ./agent; \
	  $$B -bench 'Daemon|TrueStart|CatchUp' -benchtime 1x ./agent/cmd/dockhand; \
	  $$B -bench 'FeedApply|OutboxDrain' -benchtime 20000x ./sync/hublink; \
	  $$B -bench CatchUp50k -benchtime 1x ./sync/hublink; \
	  $$B -bench . ./drivers/label ./drivers/tspl ./drivers/escpos ./drivers/transport ./drivers/scanner; \
	  $$B -bench 'QueueLabels|BareLabels' -benchtime 1000x ./agent/printing; \
	  $$B -bench 'APIRawLatency|BareCommitWrite' -benchtime 2000x ./ui/printapi; \
	  $$B -bench Burst -benchtime 6x ./ui/printapi; \
	  $$B -bench . ./ui ./ui/live; \
	} 2>&1 | tee bench.out

peakday: build ## the full promotion day (58,000 orders, 50 stations, faults, ~30 min); writes docs/peakday/REPORT.md
	$(GO) run ./peakday/cmd/peakday -binary $(BIN) -out docs/peakday

peakday-short: ## the short promotion day CI runs (a few minutes; fails if an invariant breaks)
	$(GO) test -count=1 -run TestPeakDayShort -timeout 10m -v ./peakday/

fuzz: ## run every fuzz target for FUZZ_TIME each (default 20s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZ_TIME:-20s} $$pkg || exit 1; \
	  done; done

clean: ## remove build output
	rm -rf bin dist bench.out

