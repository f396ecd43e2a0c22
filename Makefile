# Ticketray: two commands.
#   make run    install what Fyne needs, build, start the tray app
#   make test   install what the tests need, run the whole suite
# and make package, the Linux package (a tar.xz with a Makefile inside
# that installs it; see README, "Packages and autostart").
# System packages are installed with apt-get on Debian/Ubuntu (sudo when
# not root); elsewhere the missing ones are listed.

GO      ?= go
BIN     := bin/ticketray
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/ticketray/ticketray/app.Version=$(VERSION)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Fyne (GLFW) build headers; gcc for cgo.
BUILD_PKGS := gcc libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
# Tests: a virtual display, a private D-Bus session, the real Secret Service,
# xwininfo (x11-utils) to see which windows are up and ImageMagick's import
# for the screenshots kept in testdata/artifacts/.
TEST_PKGS  := xvfb xauth dbus-x11 gnome-keyring x11-utils imagemagick
# make package: xz for the archive; the tests also validate its .desktop and
# AppStream files.
PKG_PKGS   := xz-utils
PKG_TEST_PKGS := desktop-file-utils appstream

# Packages that link no GUI: these also run under the race detector.
CORE_PKGS  := ./queue/... ./connectors/... ./diagnostics/... ./app ./app/config/... ./app/delivery/... ./app/procenv/...
# make cross builds and vets CORE_PKGS for these, without cgo, so that the
# Windows and macOS code paths at least compile.
CROSS_OS   := windows darwin

# The fyne CLI for make package, installed into bin/: v1.7.2 is the last
# fyne.io/tools that goes with Fyne 2.7 (v1.7.3 and later require Fyne 2.8).
FYNE_TOOLS := v1.7.2
FYNE       := bin/fyne-$(FYNE_TOOLS)
PKG        := bin/ticketray-$(VERSION)-linux-$(shell $(GO) env GOARCH).tar.xz
# xz level of the package; make test takes a fast one (6% bigger).
PKG_XZ     ?= -6

.PHONY: all build run test deps deps-test deps-package vet fmt-check clean icons smoke cross package test-package

all: build

deps:
	@./.ci/apt-ensure $(BUILD_PKGS)

deps-test:
	@./.ci/apt-ensure $(BUILD_PKGS) $(TEST_PKGS) $(PKG_PKGS) $(PKG_TEST_PKGS)

build: deps
	@echo "Building $(BIN) (a cold build of Fyne takes about 3.5 minutes on 2 cores)..."
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The queue lives in the user data dir. Its key goes to the OS keyring; on
# a machine without one, the documented file-keyring fallback is used with
# a per-checkout password kept (0600) in .run/.
run: build
	@mkdir -p .run && chmod 700 .run
	@[ -s .run/keyring-password ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > .run/keyring-password)
	TICKETRAY_KEYRING_PASSWORD="$$(cat .run/keyring-password)" ./$(BIN)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: deps-test fmt-check vet cross
	./.ci/session $(GO) test -race -count=1 $(CORE_PKGS)
	TICKETRAY_ARTIFACTS=$(CURDIR)/testdata/artifacts ./.ci/session $(GO) test -count=1 ./app/gui/... .
	@$(MAKE) --no-print-directory test-package VERSION=$(VERSION)

cross:
	@for os in $(CROSS_OS); do \
		echo "cross: GOOS=$$os CGO_ENABLED=0 go build and go vet of the packages without a GUI"; \
		CGO_ENABLED=0 GOOS=$$os $(GO) build $(CORE_PKGS) && CGO_ENABLED=0 GOOS=$$os $(GO) vet $(CORE_PKGS) || exit 1; \
	done

# The Linux package: fyne package wraps the binary make build makes (same
# version and flags) with its .desktop file and icon; contrib/package/build
# adds the AppStream metainfo.
package: deps-package build $(FYNE)
	XZ_OPT="-T0 $(PKG_XZ)" ./contrib/package/build $(FYNE) $(BIN) $(PKG)

deps-package:
	@./.ci/apt-ensure $(PKG_PKGS)

$(FYNE):
	@mkdir -p bin/fyne-tmp
	GOBIN=$(CURDIR)/bin/fyne-tmp $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS)
	mv bin/fyne-tmp/fyne $@ && rmdir bin/fyne-tmp

# make package, checked as a user would use it (the archive's files, its
# install and uninstall targets), and contrib's systemd unit.
test-package:
	@$(MAKE) --no-print-directory package PKG_XZ=-1
	./.ci/check-package $(PKG) $(VERSION)
	./.ci/check-systemd-unit contrib/systemd/ticketray-serve.service $(BIN)

# Render the PNG icons from their SVG sources (needs librsvg2-bin).
icons:
	for f in assets/tray-online assets/tray-offline assets/tray-attention; do rsvg-convert -w 64 -h 64 $$f.svg -o $$f.png; done
	rsvg-convert -w 512 -h 512 assets/icon.svg -o assets/icon.png

clean:
	rm -rf bin
