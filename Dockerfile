# kbroker: a Kafka-compatible broker on Node.js.
#   docker build -t kbroker .
#   docker run -p 9092:9092 -p 8080:8080 -v kbroker-data:/var/lib/kafka/data kbroker
# Configure with KAFKA_* variables as for Kafka's image (see docker/entrypoint.sh).

FROM node:26-bookworm-slim AS build
WORKDIR /src
# gcc builds the native sendfile helper (native/zero-copy.c) against the image's Node-API headers;
# any bookworm gcc does (a build-stage tool, not shipped), so it is not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# No install scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-native.mjs ./scripts/
COPY native ./native
COPY src ./src
RUN npm run build:native \
 && npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:26-bookworm-slim
ENV NODE_ENV=production \
    KAFKA_LISTENERS=PLAINTEXT://0.0.0.0:9092 \
    KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092 \
    KAFKA_LOG_DIRS=/var/lib/kafka/data \
    KBROKER_HTTP_PORT=8080
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Absent when the helper could not be built: fetches are then served from buffers.
COPY --from=build /src/build ./build
COPY bin ./bin
COPY docker/entrypoint.sh /usr/local/bin/kbroker-entrypoint
COPY docker/healthcheck.mjs /usr/local/lib/kbroker-healthcheck.mjs
# uid 1000 is the image's `node` user.
RUN mkdir -p /var/lib/kafka/data && chown -R 1000:1000 /var/lib/kafka
USER 1000:1000
VOLUME ["/var/lib/kafka/data"]
EXPOSE 9092 8080
# Every broker's /ready (one, or KBROKER_THREADS of them on consecutive admin ports).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "/usr/local/lib/kbroker-healthcheck.mjs"]
ENTRYPOINT ["/usr/local/bin/kbroker-entrypoint"]
