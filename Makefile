# Amanuensis Desktop — `make run` and `make test` set up everything on a fresh Debian/Ubuntu machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# System packages: PortAudio + PulseAudio (microphone, and the virtual microphone in tests), Qt's runtime
# libraries and a font (offscreen and X11/Xvfb), Xvfb + trayer (tray tests, screenshots); sway, wtype,
# wl-clipboard and a session dbus-daemon (typing into other apps under Wayland, portal stubs).
APT_PACKAGES := libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins \
	libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libglib2.0-0 libdbus-1-3 fonts-dejavu-core \
	xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 \
	libxcb-render-util0 libxcb-image0 libxcb-xfixes0 libxcb-shm0 libxcb-sync1 libxcb-xkb1 trayer \
	sway wtype wl-clipboard libwayland-cursor0 dbus-daemon flite

# Python packages come from the lock file (exact versions with hashes, for CPython 3.11 on x86_64 Linux), so a
# fresh machine gets the versions the tests passed with. `make lock` regenerates it from pyproject.toml (keeping
# the current pins where they still fit; `make lock UPGRADE=1` moves everything to the newest allowed versions).
LOCK := requirements.lock
UV := uv>=0.13,<0.14
LOCK_FLAGS := --extra test --extra bench --extra package --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_36 --custom-compile-command "make lock"

.PHONY: run test lint lock setup system venv bench bench-live bench-peers screenshots kernels install-desktop clean

run: setup
	@if [ -n "$(FILE)" ]; then \
		$(VENV)/bin/amanuensis transcribe "$(FILE)"; \
	else \
		$(VENV)/bin/amanuensis $(ARGS); \
	fi

# pytest's own exit code is kept: 5 (no test collected) fails like a failing test.
test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lock:
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(UV)"
	$(VENV)/bin/uv pip compile --quiet pyproject.toml $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) -o $(LOCK)

setup: system venv

system:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: $(LOCK) pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

bench: setup
	$(VENV)/bin/amanuensis bench --json build/bench.json

bench-live: setup
	$(VENV)/bin/amanuensis bench --live --json build/bench-live.json

# The peers of `amanuensis bench --peers` (GenAI, faster-whisper, whisper.cpp) on OUR tiny.en and base weights, in a
# throwaway venv under build/peers/ (torch CPU only there); a second run only checks stamps (devtools/peers_setup.py).
bench-peers: setup
	$(PY) -m devtools.peers_setup

screenshots: setup
	$(PY) -m devtools.screenshots build/screenshots

kernels:
	$(MAKE) -C kernels

install-desktop:  # a menu entry and icon for the current user
	install -Dm644 packaging/$(APP_ID).desktop ~/.local/share/applications/$(APP_ID).desktop
	install -Dm644 resources/$(APP_ID).svg ~/.local/share/icons/hicolor/scalable/apps/$(APP_ID).svg

clean:
	rm -rf build $(VENV) *.egg-info

# -- packaging: `make package` builds dist/ (sdist, wheel, the PyInstaller bundle dist/amanuensis/, the .deb);
# `make test-package` builds them and tests them as a user gets them (tests/packaging/). ----------------------
APP_ID := io.github.amanuensis.Amanuensis
# binutils: readelf (the .deb's Depends); the validators of the desktop entry and the AppStream metadata;
# libwayland-*: so that dpkg -S names the packages Qt's Wayland plugin needs; x11-utils: xwininfo (the window test)
PACKAGE_APT_PACKAGES := binutils desktop-file-utils appstream libwayland-client0 libwayland-cursor0 \
	libwayland-egl1 x11-utils xvfb xauth trayer
PACKAGE_TOOLS := $(PY) -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['package'], sep='\n')"

.PHONY: package test-package package-setup

package-setup: setup
	@$(MAKE) --no-print-directory system APT_PACKAGES="$(PACKAGE_APT_PACKAGES)"
	@$(PY) -c "import build, twine, PyInstaller" 2>/dev/null || $(PACKAGE_TOOLS) | xargs -d '\n' $(PY) -m pip install -q

package: package-setup
	$(PY) packaging/build.py --dist dist

test-package: package
	AMANUENSIS_PACKAGE_TESTS=1 $(PY) -m pytest tests/packaging -v -rs $(PYTEST_ARGS)
