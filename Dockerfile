# syntax=docker/dockerfile:1.7
# Keel: `docker build -t keel .` then `docker run -p 3000:3000 -v keel-data:/data keel`
# (settings as environment variables, see README). `--target action` builds the Action's image.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target directories are cache mounts: dependencies are compiled once and
# reused by later builds that only change Keel's own code.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    scripts/build-release && cp target/release/keel /keel

# The GitHub Action's image (`docker build --target action`), published prebuilt so that a
# workflow pulls it instead of compiling Keel on every run (scripts/release-action-image).
# It runs as root, as GitHub requires of Docker container actions: the workspace and the
# files behind GITHUB_OUTPUT and GITHUB_STEP_SUMMARY belong to the runner's root user, and a
# `USER` line would take them away.
FROM gcr.io/distroless/cc-debian12 AS action
COPY --from=build /keel /usr/local/bin/keel
ENTRYPOINT ["keel"]
CMD ["action"]

# `keel serve` (the default target): non-root, the embedded SQLite store in a volume.
FROM gcr.io/distroless/cc-debian12:nonroot AS serve
COPY --from=build /keel /usr/local/bin/keel
# The embedded SQLite store lives in a volume; use DATABASE_URL=postgres://… for replicas.
# /metrics is on its own port (9090, not published by `-p 3000:3000`), never beside the
# public webhook: it names installations and their remaining GitHub budget.
ENV DATABASE_URL=sqlite:///data/keel.db \
    KEEL_LISTEN=0.0.0.0:3000 \
    KEEL_METRICS_LISTEN=0.0.0.0:9090
VOLUME ["/data"]
EXPOSE 3000
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["keel", "health", "--url", "http://127.0.0.1:3000/healthz"]
ENTRYPOINT ["keel"]
CMD ["serve"]
