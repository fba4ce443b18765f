# pidone: `make demo` builds the static binary and shows it at work;
# `make test` runs every test. Both install what they need.

TARGET   ?= x86_64-unknown-linux-musl
DIST     := dist
BIN      := $(DIST)/pidone
RELEASE  := target/$(TARGET)/release/pidone
HELPER   := target/debug/pidone-testhelper
CARGO    ?= cargo

# Debian packages the tests use: unshare (util-linux), python3 (pty test),
# file (static-link check), binutils (nm, strip for the tiny build).
DEB_PKGS := util-linux python3 file procps binutils

# The tiny build: the same sources with the standard library rebuilt for size
# on a nightly pinned by date. The installed `nightly` channel is used when it
# is that date; otherwise nightly-DATE is installed on demand.
NIGHTLY_DATE ?= 2026-05-20
NIGHTLY := $(shell grep -qs 'date = "$(NIGHTLY_DATE)"' "$$(rustc +nightly --print sysroot 2>/dev/null)/lib/rustlib/multirust-channel-manifest.toml" && echo nightly || echo nightly-$(NIGHTLY_DATE))
TINY_BIN := $(DIST)/pidone-tiny
TINY_DIR := target/tiny
TINY_FLAGS := -Zunstable-options -Cpanic=immediate-abort -Crelocation-model=static -Cforce-unwind-tables=no -Clink-arg=-Wl,--no-eh-frame-hdr \
	-Clink-arg=-Wl,-z,noseparate-code -Clink-arg=-Wl,-z,norelro -Clink-arg=-Wl,-z,common-page-size=64 -Clink-arg=-Wl,--build-id=none \
	-Cllvm-args=-enable-machine-outliner=always

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))

.PHONY: help fuzz all build tiny demo test test-tiny lint deps musl-target nightly helper clean dist image e2e bench bench-deps

all: build

## help: this list of targets, from their `## ` comments
help:
	@awk '/^## [a-z0-9-]+:/ { sub(/^## /, ""); print; next } /^## / { sub(/^## /, "    "); print }' $(firstword $(MAKEFILE_LIST))

## build: the static musl binary at dist/pidone
build: musl-target
	$(CARGO) build --release --locked --target $(TARGET) -p pidone
	@mkdir -p $(DIST)
	cp $(RELEASE) $(BIN)
	@file $(BIN) | grep -q 'statically linked' || { echo "$(BIN) is not statically linked"; file $(BIN); exit 1; }
	@echo "built $(BIN): $$(stat -c %s $(BIN)) bytes, statically linked"

## tiny: dist/pidone-tiny, std rebuilt for size with immediate-abort panics
## and rlsf's allocator in place of musl's mallocng (feature tlsf, src/heap.rs)
tiny: nightly
	CARGO_PROFILE_RELEASE_STRIP=debuginfo RUSTFLAGS="$(TINY_FLAGS)" $(CARGO) +$(NIGHTLY) build --release --locked \
		--target $(TARGET) -p pidone --features tlsf \
		-Z build-std=std,panic_abort -Z build-std-features=optimize_for_size --target-dir $(TINY_DIR)
	@if nm $(TINY_DIR)/$(TARGET)/release/pidone | grep -q __libc_malloc_impl; then \
		echo "musl's malloc was linked beside src/heap.rs: some libc entry point is missing there"; exit 1; fi
	@mkdir -p $(DIST)
	strip -o $(TINY_BIN) $(TINY_DIR)/$(TARGET)/release/pidone
	@file $(TINY_BIN) | grep -q 'statically linked' || { echo "$(TINY_BIN) is not statically linked"; exit 1; }
	@echo "built $(TINY_BIN): $$(stat -c %s $(TINY_BIN)) bytes, statically linked"

nightly:
	@rustup toolchain list | grep -q '^$(NIGHTLY)' || rustup toolchain install $(NIGHTLY) --profile minimal
	@rustup component list --toolchain $(NIGHTLY) --installed | grep -q '^rust-src' || rustup component add rust-src --toolchain $(NIGHTLY)
	@rustup target list --toolchain $(NIGHTLY) --installed | grep -qx '$(TARGET)' || rustup target add $(TARGET) --toolchain $(NIGHTLY)

musl-target:
	@rustup target list --installed | grep -qx '$(TARGET)' || rustup target add $(TARGET)

## deps: Debian packages the tests need, installed only when missing
deps:
	@missing=""; \
	command -v unshare >/dev/null || missing="$$missing util-linux"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v file    >/dev/null || missing="$$missing file"; \
	command -v ps      >/dev/null || missing="$$missing procps"; \
	command -v strip   >/dev/null || missing="$$missing binutils"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## helper: the test helper program the integration tests run (tests/helper)
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
	$(PYTHON) tools/layers.py
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked -p pidone --all-targets --features tlsf -- -D warnings

## test: lint, unit tests, the integration suite against dist/pidone, then
## the e2e suite in real containers when a Docker engine answers
test: deps lint build helper
	PIDONE_BIN=$(CURDIR)/$(BIN) PIDONE_TESTHELPER=$(CURDIR)/$(HELPER) \
		$(CARGO) test --locked --workspace -- --test-threads=2
	@if ! command -v docker >/dev/null 2>&1; then \
		echo "SKIP: e2e: no docker command on this machine"; \
	elif ! why=$$(docker info 2>&1 >/dev/null); then \
		echo "SKIP: e2e: \`docker info\` failed: $$(printf '%s' "$$why" | tr '\n' ' ' | cut -c1-200)"; \
	else \
		$(MAKE) --no-print-directory e2e; \
	fi

## dist: static musl binaries for x86_64 and aarch64 with SHA-256 sums beside
## them; the aarch64 one is smoke-tested under qemu-user
DIST_ARCHES := x86_64 aarch64
dist:
	@for t in $(DIST_ARCHES:%=%-unknown-linux-musl); do \
		rustup target list --installed | grep -qx "$$t" || rustup target add "$$t" || exit 1; \
	done
	$(CARGO) build --release --locked -p pidone $(DIST_ARCHES:%=--target %-unknown-linux-musl)
	@mkdir -p $(DIST)
	@set -e; for a in $(DIST_ARCHES); do \
		cp target/$$a-unknown-linux-musl/release/pidone $(DIST)/pidone-$$a; \
		file $(DIST)/pidone-$$a | grep -q 'statically linked' || { file $(DIST)/pidone-$$a; exit 1; }; \
		(cd $(DIST) && sha256sum pidone-$$a > pidone-$$a.sha256); \
	done
	@command -v qemu-aarch64-static >/dev/null || { \
		echo "installing qemu-user-static"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; }
	@set -e; q=qemu-aarch64-static; b=$(DIST)/pidone-aarch64; \
	v=$$(timeout 60 $$q $$b --version); [ "$$v" = "pidone $$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)" ] || { echo "aarch64 --version said: $$v"; exit 1; }; \
	PIDONE_ALLOW_ROOT=1 timeout 60 $$q $$b -q -- true || { echo "aarch64: pidone -- true failed"; exit 1; }; \
	rc=0; PIDONE_ALLOW_ROOT=1 timeout 60 $$q $$b -q -- sh -c 'exit 7' || rc=$$?; [ $$rc = 7 ] || { echo "aarch64: exit code $$rc, not 7"; exit 1; }; \
	echo "aarch64 smoke test under qemu-user passed ($$v)"
	@cd $(DIST) && for a in $(DIST_ARCHES); do echo "$$(stat -c %s pidone-$$a) bytes  $$(cat pidone-$$a.sha256)"; done

## image: the FROM scratch image holding only /pidone (COPY --from=pidone /pidone /init)
IMAGE ?= pidone
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
## (`make image TINY=1`: the same from dist/pidone-tiny, tagged tiny and VERSION-tiny)
ifeq ($(TINY),1)
IMAGE_FROM := pidone-tiny
IMAGE_DEP  := tiny
IMAGE_TAGS := tiny $(VERSION)-tiny
else
IMAGE_FROM := pidone
IMAGE_DEP  := build
IMAGE_TAGS := latest $(VERSION)
endif
image: $(IMAGE_DEP)
	@printf 'FROM scratch\nCOPY $(IMAGE_FROM) /pidone\n' | \
		DOCKER_BUILDKIT=0 docker build -q $(foreach t,$(IMAGE_TAGS),-t $(IMAGE):$(t)) -f - $(DIST) >/dev/null
	@echo "built image $(IMAGE):$(firstword $(IMAGE_TAGS)) from $(DIST)/$(IMAGE_FROM): $$(docker image inspect -f '{{.Size}}' $(IMAGE):$(firstword $(IMAGE_TAGS))) bytes"

## e2e: end-to-end checks in real containers (Docker engine needed)
e2e: image dist
	PIDONE_IMAGE=$(IMAGE):latest tests/e2e/run.sh

## test-tiny: the integration suite against dist/pidone-tiny
test-tiny: deps tiny helper
	$(CARGO) test --locked -p pidone --lib --features tlsf
	PIDONE_BIN=$(CURDIR)/$(TINY_BIN) PIDONE_TESTHELPER=$(CURDIR)/$(HELPER) \
		$(CARGO) test --locked -p pidone --tests -- --test-threads=2

## fuzz: each fuzz target for FUZZ_SECONDS (default 60); a crash input is
## copied to fuzz/regressions/TARGET/, which `make test` replays
fuzz: nightly
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		mkdir -p fuzz/corpus/$$t; cp -n fuzz/regressions/$$t/* fuzz/corpus/$$t/ 2>/dev/null; \
		(cd fuzz && $(CARGO) +$(NIGHTLY) fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) 2>&1 | tee ../target/fuzz-$$t.log | grep -E '^Done|SUMMARY|crash-'); \
		for c in fuzz/artifacts/$$t/crash-* fuzz/artifacts/$$t/oom-* fuzz/artifacts/$$t/timeout-*; do \
			if [ -e "$$c" ]; then cp "$$c" fuzz/regressions/$$t/; echo "new regression input: fuzz/regressions/$$t/$$(basename $$c)"; fi; done; \
	done

## bench: pidone against tini, dumb-init and catatonit as PID 1, side by side
## (BENCHMARKS.md); BENCH_ARGS=--quick for a smoke run, not for the table
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

# dist/pidone-tiny joins as one more column when `make tiny` has built it
# (refreshed here; never built from scratch, which needs the pinned nightly).
bench: build bench-deps $(BENCH_HELPER)
	@if [ -e $(TINY_BIN) ]; then $(MAKE) --no-print-directory tiny; fi
	$(PYTHON) bench/bench.py --pidone $(BIN) --helper $(BENCH_HELPER) \
		$$([ -e $(TINY_BIN) ] && echo --alt $(TINY_BIN)) $(BENCH_ARGS)

clean:
	$(CARGO) clean
	rm -rf $(DIST)
