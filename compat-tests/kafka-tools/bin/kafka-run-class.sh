#!/usr/bin/env bash
# Thin stand-in for Kafka's bin/kafka-run-class.sh: runs MAIN_CLASS with the classpath that
# compat-tests/kafka-tools/run.sh resolved from Maven Central (KAFKA_TOOLS_LIB).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${KAFKA_TOOLS_VERSION:=4.4.0}"
: "${KAFKA_TOOLS_LIB:=$here/../../.cache/kafka-tools-$KAFKA_TOOLS_VERSION/lib}"
if [ ! -d "$KAFKA_TOOLS_LIB" ]; then
  echo "kafka tools not installed in $KAFKA_TOOLS_LIB: run compat-tests/kafka-tools/run.sh --install-only" >&2
  exit 1
fi
main="$1"; shift
# Short-lived tools: quick JVM start (Kafka itself uses -Xmx256M for tools).
: "${KAFKA_HEAP_OPTS:=-Xmx256M}"
: "${KAFKA_JVM_PERFORMANCE_OPTS:=-XX:+UseSerialGC -XX:TieredStopAtLevel=1}"
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS ${KAFKA_OPTS:-} \
  "-Dlog4j2.configurationFile=${KAFKA_LOG4J_CONFIG:-$here/../log4j2.properties}" \
  -cp "$KAFKA_TOOLS_LIB/*" "$main" "$@"
