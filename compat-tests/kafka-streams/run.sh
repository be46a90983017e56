#!/usr/bin/env bash
# Kafka Streams (org.apache.kafka:kafka-streams from Maven Central) against a fresh kbroker:
# filter > 50, group by category, 5-minute tumbling window sums, exactly_once_v2 (src/StreamsScenario.java),
# and a KTable restored from a changelog the log cleaner compacted (src/KTableScenario.java).
#   compat-tests/kafka-streams/run.sh [--install-only]
# Env: KAFKA_STREAMS_VERSION (default 4.4.0).
source "$(dirname "$0")/../lib/common.sh"
compat_init kafka-streams
HERE="$REPO/compat-tests/kafka-streams"
V="${KAFKA_STREAMS_VERSION:-4.4.0}"
DEST="$CACHE/kafka-streams-$V"
install() {
  [ -f "$DEST/.complete" ] && return 0
  rm -rf "$DEST"
  mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies -Dkafka.version="$V" -DoutputDirectory="$DEST/lib"
  touch "$DEST/.complete"
}
compat_timed_install "kafka-streams $V (Maven Central)" install
[ "${1:-}" = "--install-only" ] && exit 0
rm -rf "$DEST/classes"
javac -nowarn -d "$DEST/classes" -cp "$DEST/lib/*" "$HERE/src/StreamsScenario.java" "$HERE/src/KTableScenario.java"
# A quick log cleaner: KTableScenario waits for its changelog to be compacted.
compat_start_broker --override log.cleaner.backoff.ms=200
timeout -k 10 600 java -Dkafka.streams.version="$V" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$DEST/classes:$DEST/lib/*" StreamsScenario "$BOOTSTRAP" \
  >"$COMPAT_OUT/$PEER.log" 2>&1 || compat_log "scenario exited $? (see $COMPAT_OUT/$PEER.log)"
timeout -k 10 600 java -Dkafka.streams.version="$V" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$DEST/classes:$DEST/lib/*" KTableScenario "$BOOTSTRAP" \
  >>"$COMPAT_OUT/$PEER.log" 2>&1 || compat_log "KTable scenario exited $? (see $COMPAT_OUT/$PEER.log)"
grep '^RESULT ' "$COMPAT_OUT/$PEER.log" | cut -c8- | sed 's/^/  /' || true
compat_finish
