# syntax=docker/dockerfile:1.7
# The worker service. Build from the repository root:
#   docker build -f deploy/worker.Dockerfile -t readme-worker .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p worker && cp target/release/worker /usr/local/bin/worker

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini poppler-utils poppler-data \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin readme \
 && mkdir -p /data/objects && chown readme /data/objects
COPY --from=build /usr/local/bin/worker /usr/local/bin/worker
USER readme

# tini forwards SIGTERM and reaps children (the worker runs extraction subprocesses).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/worker"]
