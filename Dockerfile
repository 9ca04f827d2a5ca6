# One image recipe for all four services; the build argument SERVICE picks the binary:
#
#   docker build --build-arg SERVICE=heroes --build-arg PORT=8001 -t rust-super-heroes/heroes .
#
# SERVICE is one of heroes (port 8001), villains (8002), locations (8003), fights (8004);
# PORT is that service's port (documentation only: EXPOSE; the service listens on BIND_ADDR).
# Needs BuildKit for the cache mounts: the default builder of Docker 23+ and of
# `docker compose build`; with Docker 20.10 and Compose v1 set DOCKER_BUILDKIT=1 and
# COMPOSE_DOCKER_CLI_BUILD=1. The built-in Dockerfile frontend is used (no `# syntax=`
# line), so no frontend image has to be pulled.
#
# Image size: the distroless cc base is about 23 MB; the stripped release binary
# (fat LTO, panic=abort) adds about 5-10 MB, so each image is roughly 30 MB.

ARG SERVICE=heroes
ARG PORT=8001

# ---------------------------------------------------------------------------- build
FROM rust:1.95-slim-bookworm AS build
ARG SERVICE
WORKDIR /src

# Only what the build reads (see .dockerignore); Cargo.lock keeps versions exact.
# database/ is compiled in: the catalogue embeds its */02-notify.sql trigger scripts.
# bench/ is a workspace member, so cargo reads its manifest and target files even when
# it builds one service; the load harness beside them stays out of the context.
COPY Cargo.toml Cargo.lock ./
COPY services ./services
COPY database ./database
COPY bench/Cargo.toml ./bench/Cargo.toml
COPY bench/src ./bench/src
COPY bench/benches ./bench/benches

# The cargo registry, git checkouts and the target directory are BuildKit cache mounts:
# crates are downloaded and compiled once and reused by every later build of any of the
# four services (they share one workspace and one dependency graph). The binary lives in
# the cache mount, so it is copied out to /out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    set -eu; \
    case "$SERVICE" in \
      heroes|villains|locations|fights) ;; \
      *) echo "SERVICE must be heroes, villains, locations or fights (got '$SERVICE')" >&2; exit 1 ;; \
    esac; \
    cargo build --release --locked -p "$SERVICE" --bin "$SERVICE"; \
    mkdir -p /out; \
    cp "target/release/$SERVICE" /out/service; \
    strip --strip-debug /out/service

# ---------------------------------------------------------------------------- runtime
# glibc + libgcc + CA certificates, no shell, no package manager; uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG SERVICE
ARG PORT
LABEL org.opencontainers.image.title="rust-super-heroes-${SERVICE}" \
      org.opencontainers.image.licenses="Apache-2.0"

# Owned by root, run by nonroot: the process cannot rewrite its own binary.
COPY --from=build /out/service /app/service
USER nonroot:nonroot
WORKDIR /app

ENV RUST_LOG=info
# mimalloc gives freed memory back to the system at once instead of a second later (after
# a burst the worker threads go idle and never reach the delayed purge), and maps no
# transparent huge pages (a 2 MiB page stays resident for one live object): README, Memory.
ENV MIMALLOC_PURGE_DELAY=0 MIMALLOC_ALLOW_THP=0

# The service's own port (BIND_ADDR defaults to 0.0.0.0:<service port>).
EXPOSE ${PORT}

# `service healthcheck` GETs /q/health/ready on the port of BIND_ADDR: exit 0 on 200.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["/app/service", "healthcheck"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/service"]
