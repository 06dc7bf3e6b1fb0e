# The worker service: the book pipeline. Also needs poppler's pdftotext and pdftoppm
# (poppler-utils) and its CJK CMaps (poppler-data), and Tesseract with the OCR
# languages it reads (English, French, German, Spanish, Italian, Portuguese, Russian,
# Arabic, Chinese (simplified), Japanese; orientation detection from -osd).
# Build from the repository root (the build context must be the repository):
#   podman build -f deploy/worker.Dockerfile -t readme-worker .   (or docker build)
# scripts/images builds all three images and runs them against Postgres and Redis.

# ---- build: byte-identical in api.Dockerfile, worker.Dockerfile and bot-gateway.Dockerfile ----
# Railway builds each service from its own Dockerfile path and cannot choose a stage
# target, hence three files. Because this stage is the same text in all three, a
# builder's layer cache (Podman, BuildKit) compiles the workspace once and the three
# images share it; each runtime stage below copies only its own binary.
# scripts/images refuses to build if the three copies of this stage differ.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# 1. Dependencies, in a layer of their own that source edits do not invalidate: the
#    manifests (one line per workspace member: a new member needs a line here), the
#    lock file, the vendored crates ([patch.crates-io] path dependencies, built as
#    they are), and an empty stand-in for each workspace crate.
COPY Cargo.toml Cargo.lock ./
COPY vendor vendor
COPY crates/shared-domain/Cargo.toml crates/shared-domain/
COPY crates/http-support/Cargo.toml crates/http-support/
COPY crates/test-support/Cargo.toml crates/test-support/
COPY crates/bench/Cargo.toml crates/bench/
COPY services/api/Cargo.toml services/api/
COPY services/worker/Cargo.toml services/worker/
COPY services/bot-gateway/Cargo.toml services/bot-gateway/
RUN for dir in crates/* services/*; do \
      mkdir -p "$dir/src" \
      && : > "$dir/src/lib.rs" \
      && echo 'fn main() { println!("readme-dependency-stand-in"); }' > "$dir/src/main.rs" || exit 1; \
    done \
 && cargo build --release --locked -p api -p worker -p bot-gateway \
 && rm -rf crates services
# 2. The workspace itself. COPY keeps the build context's modification times, which
#    can be older than the stand-ins' builds, so cargo could take the stand-ins for
#    fresh: `cargo clean -p` removes every workspace crate's artifacts instead, and
#    the grep fails the build should a stand-in binary ever survive.
COPY crates crates
COPY services services
COPY migrations migrations
RUN cargo clean --release -p shared-domain -p http-support -p api -p worker -p bot-gateway \
 && cargo build --release --locked -p api -p worker -p bot-gateway \
 && ! grep -q readme-dependency-stand-in target/release/api target/release/worker target/release/bot-gateway

# ---- runtime ----
FROM debian:bookworm-slim
# Unpinned on purpose: Debian replaces versions with security updates, and a pinned
# version disappears from the mirror, which would break every build.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini poppler-utils poppler-data \
      tesseract-ocr tesseract-ocr-osd tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu \
      tesseract-ocr-spa tesseract-ocr-ita tesseract-ocr-por tesseract-ocr-rus tesseract-ocr-ara \
      tesseract-ocr-chi-sim tesseract-ocr-jpn \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 readme \
 && useradd --system --uid 10001 --gid readme --home-dir /nonexistent --shell /usr/sbin/nologin readme \
 && mkdir -p /data/objects \
 && chown readme:readme /data/objects
COPY --from=build /src/target/release/worker /usr/local/bin/worker
USER 10001:10001
# No port of its own: with PORT (as Railway sets it) or HEALTH_PORT the worker serves
# GET /health and /metrics there.
# tini is PID 1: it forwards SIGTERM to the service (which drains for up to
# SHUTDOWN_GRACE_SECONDS and exits 0) and reaps orphaned children. Everything is in
# ENTRYPOINT, no CMD: Railway's start and pre-deploy commands replace ENTRYPOINT.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/worker"]
