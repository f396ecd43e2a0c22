# Ticketray: two commands.
#   make run    install what Fyne needs, build, start the tray app
#   make test   install what the tests need, run the whole suite
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

# Packages that link no GUI: these also run under the race detector.
CORE_PKGS  := ./queue/... ./connectors/... ./diagnostics/... ./app ./app/config/... ./app/delivery/... ./app/procenv/...

.PHONY: all build run test deps deps-test vet fmt-check clean icons smoke

all: build

deps:
	@./.ci/apt-ensure $(BUILD_PKGS)

deps-test:
	@./.ci/apt-ensure $(BUILD_PKGS) $(TEST_PKGS)

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

test: deps-test fmt-check vet
	./.ci/session $(GO) test -race -count=1 $(CORE_PKGS)
	TICKETRAY_ARTIFACTS=$(CURDIR)/testdata/artifacts ./.ci/session $(GO) test -count=1 ./app/gui/... .

# Render the PNG icons from their SVG sources (needs librsvg2-bin).
icons:
	for f in assets/tray-online assets/tray-offline assets/tray-attention; do rsvg-convert -w 64 -h 64 $$f.svg -o $$f.png; done
	rsvg-convert -w 512 -h 512 assets/icon.svg -o assets/icon.png

clean:
	rm -rf bin
