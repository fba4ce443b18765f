#!/usr/bin/env bash
# Build the e2e base image locally (no registry here): a minimal Debian
# bookworm root made by debootstrap from Debian's packages, imported with
# `docker import`. Tagged by a hash of its inputs; an existing tag is reused.
# Prints the image reference on stdout; progress goes to stderr.
#
# Besides Python (the FastAPI example) it holds the real servers the signal
# checks run: redis-server (the example's dependency), nginx and PostgreSQL.
set -euo pipefail

SUITE=bookworm
PKGS=python3,python3-venv,redis-server,nginx,postgresql-15
CACHE=${PIDONE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidone-e2e}

mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
    # The Debian mirror apt is configured with (deb822 "URIs:" or one-line "deb").
    local m
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ {print $2} /^deb / {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
        grep -E '/debian/?$' | head -n1 || true)
    echo "${m:-http://deb.debian.org/debian}"
}

MIRROR=$(mirror)
# The mirror is not part of the hash: the same suite and packages give the same image.
HASH=$(printf '%s\n' "$SUITE" "$PKGS" "$(sha256sum "$0" | cut -c1-64)" | sha256sum | cut -c1-12)
TAG=pidone-e2e/base:$HASH

if docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "$TAG"; exit 0
fi

command -v debootstrap >/dev/null || {
    echo "installing debootstrap" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
}

mkdir -p "$CACHE"
ROOT=$(mktemp -d "$CACHE/root.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
trap 'exit 130' INT TERM
echo "debootstrap $SUITE ($PKGS) from $MIRROR: a few minutes, once" >&2
mkdir -p "$CACHE/debs"
timeout 1800 debootstrap --variant=minbase --include="$PKGS" --cache-dir="$CACHE/debs" \
    "$SUITE" "$ROOT" "$MIRROR" >&2 || { echo "debootstrap failed" >&2; exit 1; }
# Slim it: no apt lists, docs or man pages in a test image; not the cluster
# the postgresql package made (the checks run initdb themselves), nor its JIT
# provider and LLVM (a third of the image; without them PostgreSQL simply runs
# without JIT).
rm -rf "$ROOT"/var/lib/postgresql/15/main "$ROOT"/etc/postgresql/15/main \
       "$ROOT"/usr/lib/postgresql/15/lib/llvmjit* "$ROOT"/usr/lib/postgresql/15/lib/bitcode \
       "$ROOT"/usr/lib/x86_64-linux-gnu/libLLVM-*
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/usr/share/doc/* \
       "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/*
tar --numeric-owner -C "$ROOT" -c . |
    docker import -c 'CMD ["/bin/sh"]' -c 'ENV LANG=C.UTF-8' - "$TAG" >&2
echo "$TAG"
