# pidone: `make demo` builds the static binary and shows it at work;
# `make test` runs every test. Both install what they need.

TARGET   ?= x86_64-unknown-linux-musl
DIST     := dist
BIN      := $(DIST)/pidone
RELEASE  := target/$(TARGET)/release/pidone
HELPER   := target/debug/pidone-testhelper
CARGO    ?= cargo

# Debian packages the tests use: unshare (util-linux), python3 (pty test),
# file (static-link check).
DEB_PKGS := util-linux python3 file procps

.PHONY: all build demo test lint deps musl-target helper clean bench bench-deps

all: build

## build: the static musl binary at dist/pidone
build: musl-target
	$(CARGO) build --release --locked --target $(TARGET) -p pidone
	@mkdir -p $(DIST)
	cp $(RELEASE) $(BIN)
	@file $(BIN) | grep -q 'statically linked' || { echo "$(BIN) is not statically linked"; file $(BIN); exit 1; }
	@echo "built $(BIN): $$(stat -c %s $(BIN)) bytes, statically linked"

musl-target:
	@rustup target list --installed | grep -qx '$(TARGET)' || rustup target add $(TARGET)

## deps: Debian packages the tests need, installed only when missing
deps:
	@missing=""; \
	command -v unshare >/dev/null || missing="$$missing util-linux"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v file    >/dev/null || missing="$$missing file"; \
	command -v ps      >/dev/null || missing="$$missing procps"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

helper:
	$(CARGO) build --locked -p pidone-testhelper

## demo: build, then run a small process tree under pidone as PID 1
demo: build deps
	@./examples/demo.sh $(BIN)

## lint: rustfmt and clippy (panicking calls are denied outside tests)
lint:
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

## test: lint, unit tests, then the integration suite against dist/pidone
test: deps lint build helper
	PIDONE_BIN=$(CURDIR)/$(BIN) PIDONE_TESTHELPER=$(CURDIR)/$(HELPER) \
		$(CARGO) test --locked --workspace -- --test-threads=2

## bench: pidone against tini, dumb-init and catatonit as PID 1 (see BENCHMARKS.md);
## BENCH_ARGS=--quick for a smoke run
PYTHON      ?= python3
BENCH_HELPER := target/bench/benchhelper
BENCH_PKGS  := util-linux python3 gcc libc6-dev tini dumb-init catatonit busybox-static \
               curl wget hyperfine valgrind
BENCH_ARGS  ?=

bench-deps:
	@missing=""; \
	for p in $(BENCH_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BENCH_HELPER): bench/benchhelper.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -static -o $@ $<

bench: build bench-deps $(BENCH_HELPER)
	$(PYTHON) bench/bench.py --pidone $(BIN) --helper $(BENCH_HELPER) $(BENCH_ARGS)

clean:
	$(CARGO) clean
	rm -rf $(DIST)
