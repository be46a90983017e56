#!/bin/sh
# kbroker's container entrypoint. Reads configuration the way Kafka's own image does:
#   KAFKA_<NAME>  -> broker config <name> ('_' -> '.', '__' -> '_', '___' -> '-'), e.g.
#                    KAFKA_NODE_ID=1, KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092,
#                    KAFKA_NUM_PARTITIONS=3 (the broker maps them itself, see broker-config.ts)
#   CLUSTER_ID    -> cluster.id (as apache/kafka's image takes it)
# and, for kbroker itself:
#   KBROKER_HTTP_PORT  admin HTTP port for /health, /ready, /metrics (empty: off; image: 8080)
#   KBROKER_LOG_LEVEL  debug|info|warn|error|silent (default info)
#   KBROKER_DEV        true: dev mode (no initial rebalance delay, short sessions...)
#   KBROKER_THREADS    N: N brokers in this one container, a thread each (node ids 1..N; broker k's
#                      listeners and admin port are the configured ones + (k-1) x their number)
#   KBROKER_ENTRY      the CLI script to run (default /app/bin/kbroker.js)
# Arguments starting with '-' are passed to `kbroker start`; any other command is run instead.
set -eu

if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
  exec "$@"
fi

if [ -n "${CLUSTER_ID:-}" ] && [ -z "${KAFKA_CLUSTER_ID:-}" ]; then
  KAFKA_CLUSTER_ID="$CLUSTER_ID"
  export KAFKA_CLUSTER_ID
fi

: "${KAFKA_LISTENERS:=PLAINTEXT://0.0.0.0:9092}"
: "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}"
export KAFKA_LISTENERS KAFKA_LOG_DIRS

if ! mkdir -p "$KAFKA_LOG_DIRS" 2>/dev/null || [ ! -w "$KAFKA_LOG_DIRS" ]; then
  echo "kbroker: data directory $KAFKA_LOG_DIRS is not writable by uid $(id -u)" >&2
  exit 1
fi

set -- --log-level "${KBROKER_LOG_LEVEL:-info}" "$@"
if [ -n "${KBROKER_HTTP_PORT:-}" ]; then
  set -- --http-port "$KBROKER_HTTP_PORT" "$@"
fi
if [ -n "${KBROKER_THREADS:-}" ]; then
  set -- --threads "$KBROKER_THREADS" "$@"
fi
case "${KBROKER_DEV:-false}" in
  true | 1 | yes) set -- --dev "$@" ;;
esac

# Node flags: src/node-flags.ts (BROKER_NODE_FLAGS).
exec node --initial-old-space-size=64 "${KBROKER_ENTRY:-/app/bin/kbroker.js}" start "$@"
