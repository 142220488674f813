# Build stage: compile the release binary (SQLite is bundled, no system libs).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

# Runtime stage: a small Debian with only the binary and config/docker.toml.
FROM debian:bookworm-slim
RUN useradd --system --home-dir /var/lib/letterbox --shell /usr/sbin/nologin letterbox \
    && mkdir -p /var/lib/letterbox /etc/letterbox \
    && chown letterbox:letterbox /var/lib/letterbox
COPY --from=build /src/target/release/letterbox /usr/local/bin/letterbox
COPY config/docker.toml /etc/letterbox/letterbox.toml
USER letterbox
# Data: the SQLite database.
VOLUME ["/var/lib/letterbox"]
# Certificates are expected in /etc/letterbox/certs (fullchain.pem, privkey.pem).
EXPOSE 143 993 24
# Settings come from this file, each overridable as LETTERBOX__SECTION__KEY.
ENV LETTERBOX_CONFIG=/etc/letterbox/letterbox.toml
HEALTHCHECK --interval=30s --timeout=10s CMD ["letterbox", "healthcheck"]
ENTRYPOINT ["letterbox"]
CMD ["serve"]
