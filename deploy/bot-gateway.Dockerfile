# syntax=docker/dockerfile:1.7
# The bot-gateway service. Build from the repository root:
#   docker build -f deploy/bot-gateway.Dockerfile -t readme-bot-gateway .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p bot-gateway && cp target/release/bot-gateway /usr/local/bin/bot-gateway

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin readme \
 && mkdir -p /data/objects && chown readme /data/objects
COPY --from=build /usr/local/bin/bot-gateway /usr/local/bin/bot-gateway
USER readme
ENV PORT=8081
EXPOSE 8081
# tini forwards SIGTERM and reaps children (the worker runs extraction subprocesses).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/bot-gateway"]
