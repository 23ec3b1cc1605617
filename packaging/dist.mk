# Release builds and packages for Dockhand.
#
# Included by the main Makefile ("include packaging/dist.mk"); works alone too:
#   make -f packaging/dist.mk dist
# Every binary is built with cgo (github.com/karalabe/usb needs it for USB HID)
# by Debian's cross compilers, with -trimpath and empty build ids, stamped from
# git, so the same commit gives the same bytes (packaging/test.sh checks).
# Linux binaries are linked statically: they run on any distribution,
# whatever its glibc.

DIST_MODULE := github.com/dockhand/dockhand
DIST_MAIN   ?= ./agent/cmd/dockhand
DIST_DIR    ?= dist
GO          ?= go

# Version stamping: a v-tag gives the version ("v0.3.1" -> 0.3.1); without one
# it is 0.0.0-dev.N, N being the commit count. Date is the commit's date, not
# the build's, so rebuilding a commit changes nothing.
ifeq ($(origin VERSION),undefined)
DIST_TAG := $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null)
VERSION  := $(if $(DIST_TAG),$(patsubst v%,%,$(DIST_TAG)),0.0.0-dev.$(shell git rev-list --count HEAD 2>/dev/null || echo 0))
endif
ifeq ($(origin COMMIT),undefined)
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
endif
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
endif
export SOURCE_DATE_EPOCH
DATE ?= $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)

DIST_LDFLAGS := -s -w -buildid= \
	-X $(DIST_MODULE)/agent/version.Version=$(VERSION) \
	-X $(DIST_MODULE)/agent/version.Commit=$(COMMIT) \
	-X $(DIST_MODULE)/agent/version.Date=$(DATE)
DIST_STATIC := -linkmode=external -extldflags=-static
# Pure-Go DNS and user lookup: nothing left for a static glibc to load at run time.
DIST_LINUX_TAGS := netgo,osusergo

# $(call dist-build,GOOS,GOARCH,GOARM,CC,TAGS,EXTRA-LDFLAGS,OUTPUT)
define dist-build
	@mkdir -p $(dir $(7))
	CGO_ENABLED=1 GOOS=$(1) GOARCH=$(2) GOARM=$(3) CC=$(4) \
		$(GO) build -trimpath -tags '$(5)' -ldflags '$(DIST_LDFLAGS) $(6)' -o $(7) $(DIST_MAIN)
endef

.PHONY: dist-version dist dist-linux-amd64 dist-linux-arm64 dist-linux-armv7 dist-windows-amd64 deb package-test

dist: dist-linux-amd64 dist-linux-arm64 dist-linux-armv7 dist-windows-amd64 deb ## Build every release binary, the .debs and the Windows zip into dist/, with SHA256SUMS
	cd $(DIST_DIR) && sha256sum linux-*/dockhand windows-*/dockhand.exe *.deb *.zip > SHA256SUMS

dist-linux-amd64: ## Build dist/linux-amd64/dockhand (static, cgo, USB HID)
	$(call dist-build,linux,amd64,,gcc,$(DIST_LINUX_TAGS),$(DIST_STATIC),$(DIST_DIR)/linux-amd64/dockhand)

dist-linux-arm64: ## Build dist/linux-arm64/dockhand (static, cgo, USB HID; needs gcc-aarch64-linux-gnu)
	$(call dist-build,linux,arm64,,aarch64-linux-gnu-gcc,$(DIST_LINUX_TAGS),$(DIST_STATIC),$(DIST_DIR)/linux-arm64/dockhand)

dist-linux-armv7: ## Build dist/linux-armv7/dockhand (static, cgo, USB HID; needs gcc-arm-linux-gnueabihf)
	$(call dist-build,linux,arm,7,arm-linux-gnueabihf-gcc,$(DIST_LINUX_TAGS),$(DIST_STATIC),$(DIST_DIR)/linux-armv7/dockhand)

dist-windows-amd64: ## Build dist/windows-amd64/dockhand.exe and the Windows zip (cgo, USB HID; needs gcc-mingw-w64-x86-64, zip)
	$(call dist-build,windows,amd64,,x86_64-w64-mingw32-gcc,,,$(DIST_DIR)/windows-amd64/dockhand.exe)
	rm -f $(DIST_DIR)/dockhand-*-windows-amd64.zip # an older version's zip would ride along in SHA256SUMS
	sh packaging/mkzip.sh $(DIST_DIR)/windows-amd64/dockhand.exe $(VERSION) $(DIST_DIR)

deb: dist-linux-amd64 dist-linux-arm64 dist-linux-armv7 ## Build the .deb for amd64, arm64 and armhf into dist/ (needs dpkg-deb)
	rm -f $(DIST_DIR)/dockhand_*.deb # only this version's packages
	sh packaging/mkdeb.sh amd64 $(DIST_DIR)/linux-amd64/dockhand $(VERSION) $(DIST_DIR)
	sh packaging/mkdeb.sh arm64 $(DIST_DIR)/linux-arm64/dockhand $(VERSION) $(DIST_DIR)
	sh packaging/mkdeb.sh armhf $(DIST_DIR)/linux-armv7/dockhand $(VERSION) $(DIST_DIR)

dist-version: ## Print the version the release builds stamp (from the latest v-tag, else 0.0.0-dev.N)
	@echo $(VERSION)

package-test: ## Build everything, check reproducibility, inspect and install the .deb into a scratch root (installs apt prerequisites)
	bash packaging/test.sh
