#!/usr/bin/env bash
# Kafka Streams (org.apache.kafka:kafka-streams from Maven Central) against a fresh kbroker:
# filter > 50, group by category, 5-minute tumbling window sums, exactly_once_v2 (src/StreamsScenario.java),
# and a KTable restored from a changelog the log cleaner compacted (src/KTableScenario.java).
# Then, as peer kafka-streams-4.3: Kafka Streams with group.protocol=streams (KIP-1071, the broker's
# StreamsGroupHeartbeat) and kafka-streams-groups, from kafka-streams/kafka-tools 4.3.1
# (src/StreamsGroupScenario.java, pom-streams-group.xml).
#   compat-tests/kafka-streams/run.sh [--install-only]
# Env: KAFKA_STREAMS_VERSION (default 4.4.0), KAFKA_STREAMS_GROUP_VERSION (default 4.3.1).
source "$(dirname "$0")/../lib/common.sh"
compat_init kafka-streams
HERE="$REPO/compat-tests/kafka-streams"
V="${KAFKA_STREAMS_VERSION:-4.4.0}"
DEST="$CACHE/kafka-streams-$V"
install() {
  compat_maven_copy "$HERE/pom.xml" "$DEST" "$DEST/lib" -Dkafka.version="$V"
}
compat_timed_install "kafka-streams $V (Maven Central)" install
SG_V="${KAFKA_STREAMS_GROUP_VERSION:-4.3.1}"
SG_PEER="kafka-streams-${SG_V%.*}"
SG_DEST="$CACHE/kafka-streams-group-$SG_V"
install_streams_group() {
  compat_maven_copy "$HERE/pom-streams-group.xml" "$SG_DEST" "$SG_DEST/lib" -Dkafka.version="$SG_V"
}
compat_timed_install "kafka-streams + kafka-tools $SG_V (Maven Central)" install_streams_group
[ "${1:-}" = "--install-only" ] && exit 0
rm -rf "$DEST/classes"
javac -nowarn -d "$DEST/classes" -cp "$DEST/lib/*" "$HERE/src/StreamsScenario.java" "$HERE/src/KTableScenario.java"
# The scenarios' Streams state directories (Files.createTempDirectory) go here, removed at the end.
STATE_TMP="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-streams-state.XXXXXX")"
trap 'compat_cleanup; rm -rf "$STATE_TMP"' EXIT
# A quick log cleaner: KTableScenario waits for its changelog to be compacted.
compat_start_broker --override log.cleaner.backoff.ms=200
timeout -k 10 600 java -Djava.io.tmpdir="$STATE_TMP" -Dkafka.streams.version="$V" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$DEST/classes:$DEST/lib/*" StreamsScenario "$BOOTSTRAP" \
  >"$COMPAT_OUT/$PEER.log" 2>&1 || compat_log "scenario exited $? (see $COMPAT_OUT/$PEER.log)"
timeout -k 10 600 java -Djava.io.tmpdir="$STATE_TMP" -Dkafka.streams.version="$V" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$DEST/classes:$DEST/lib/*" KTableScenario "$BOOTSTRAP" \
  >>"$COMPAT_OUT/$PEER.log" 2>&1 || compat_log "KTable scenario exited $? (see $COMPAT_OUT/$PEER.log)"
grep '^RESULT ' "$COMPAT_OUT/$PEER.log" | cut -c8- | sed 's/^/  /' || true
# Streams groups (KIP-1071), peer kafka-streams-4.3: its own results file, judged on its own.
rm -rf "$SG_DEST/classes"
javac -nowarn -d "$SG_DEST/classes" -cp "$SG_DEST/lib/*" "$HERE/src/StreamsGroupScenario.java"
COMPAT_RESULTS="$COMPAT_OUT/$SG_PEER.tsv"; : >"$COMPAT_RESULTS"
cp "$COMPAT_OUT/$PEER.install" "$COMPAT_OUT/$SG_PEER.install" 2>/dev/null || true
COMPAT_RESULTS="$COMPAT_RESULTS" timeout -k 10 600 java -Djava.io.tmpdir="$STATE_TMP" -Dkafka.streams.version="$SG_V" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$SG_DEST/classes:$SG_DEST/lib/*" StreamsGroupScenario "$BOOTSTRAP" \
  >"$COMPAT_OUT/$SG_PEER.log" 2>&1 || compat_log "streams group scenario exited $? (see $COMPAT_OUT/$SG_PEER.log)"
grep '^RESULT ' "$COMPAT_OUT/$SG_PEER.log" | cut -c8- | sed 's/^/  /' || true
status=0
compat_finish || status=1
node "$REPO/compat-tests/lib/judge.mjs" --peer "$SG_PEER" --results "$COMPAT_OUT" || status=1
exit $status
