# Multi-stage build: a static-enough binary (bundled SQLite and libpq) on a slim runtime.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY src src
COPY migrations migrations
COPY templates templates
COPY assets assets
COPY locales locales
COPY config config
RUN cargo build --release --locked && strip target/release/qifu

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/qifu qifu \
    && mkdir -p /var/lib/qifu/data && chown -R qifu /var/lib/qifu
WORKDIR /var/lib/qifu
COPY --from=build /src/target/release/qifu /usr/local/bin/qifu
COPY config config
USER qifu
ENV QIFU__SERVER__BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["qifu"]
CMD ["serve"]
