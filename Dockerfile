# The pidone image: FROM scratch, holding /pidone and its license notices
# under /licenses/. Use it as a build stage:
#
#   COPY --from=<image>:<version> /pidone /init
#
# It packages a binary built beforehand, not the sources: the context is the
# repository after `make dist` (dist/rootfs/ARCH/, the release binaries of
# every architecture) or `make image` (dist/image/ARCH/, this machine's
# build). Building pidone inside `docker build` would need a Rust toolchain
# image, the pinned nightly and its standard library sources; see
# docs/releasing.md for the from-source path.
#
#   make image                                   # this machine's architecture, classic builder
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 .   # after `make dist`
#
# TARGETARCH and TARGETVARIANT are set by BuildKit for each platform; the
# classic builder needs them as --build-arg (`make image` passes them).

FROM scratch

ARG ROOTFS=dist/rootfs
ARG TARGETARCH
ARG TARGETVARIANT
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown

LABEL org.opencontainers.image.title="pidone" \
      org.opencontainers.image.description="A tiny static init and entrypoint for containers: reaps, forwards, drains, loads secrets, drops privileges, probes." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"

# One layer: /pidone and /licenses/{LICENSE,THIRD-PARTY-NOTICES}.
COPY ${ROOTFS}/${TARGETARCH}${TARGETVARIANT}/ /

CMD ["/pidone", "--version"]
