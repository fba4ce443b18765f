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

# The tiny build: the same sources with the standard library rebuilt for size
# on a nightly pinned by date. The installed `nightly` channel is used when it
# is that date; otherwise nightly-DATE is installed on demand.
NIGHTLY_DATE ?= 2026-05-20
NIGHTLY := $(shell grep -qs 'date = "$(NIGHTLY_DATE)"' "$$(rustc +nightly --print sysroot 2>/dev/null)/lib/rustlib/multirust-channel-manifest.toml" && echo nightly || echo nightly-$(NIGHTLY_DATE))
TINY     := $(DIST)/pidone-tiny
TINY_DIR := target/tiny
TINY_FLAGS := -Zunstable-options -Cpanic=immediate-abort -Crelocation-model=static -Cforce-unwind-tables=no -Clink-arg=-Wl,--no-eh-frame-hdr

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))

.PHONY: fuzz all build tiny demo test test-tiny lint deps musl-target nightly helper clean

all: build

## build: the static musl binary at dist/pidone
build: musl-target
	$(CARGO) build --release --locked --target $(TARGET) -p pidone
	@mkdir -p $(DIST)
	cp $(RELEASE) $(BIN)
	@file $(BIN) | grep -q 'statically linked' || { echo "$(BIN) is not statically linked"; file $(BIN); exit 1; }
	@echo "built $(BIN): $$(stat -c %s $(BIN)) bytes, statically linked"

## tiny: dist/pidone-tiny, std rebuilt for size with immediate-abort panics
tiny: nightly
	RUSTFLAGS="$(TINY_FLAGS)" $(CARGO) +$(NIGHTLY) build --release --locked --target $(TARGET) -p pidone \
		-Z build-std=std,panic_abort -Z build-std-features=optimize_for_size --target-dir $(TINY_DIR)
	@mkdir -p $(DIST)
	cp $(TINY_DIR)/$(TARGET)/release/pidone $(TINY)
	@file $(TINY) | grep -q 'statically linked' || { echo "$(TINY) is not statically linked"; exit 1; }
	@echo "built $(TINY): $$(stat -c %s $(TINY)) bytes, statically linked"

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

## test-tiny: the integration suite against dist/pidone-tiny
test-tiny: deps tiny helper
	PIDONE_BIN=$(CURDIR)/$(TINY) PIDONE_TESTHELPER=$(CURDIR)/$(HELPER) \
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

clean:
	$(CARGO) clean
	rm -rf $(DIST)
