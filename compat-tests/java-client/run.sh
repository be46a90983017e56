#!/usr/bin/env bash
# The Java client, org.apache.kafka:kafka-clients from Maven Central, in two versions (3.9.x and
# the newest 4.x), each against its own fresh kbroker: src/JavaClientScenario.java, then
# src/JavaFaultScenario.java (faults injected through the broker's admin HTTP API).
#
#   compat-tests/java-client/run.sh [--install-only] [feature...]
# Env: JAVA_CLIENT_VERSIONS (default "3.9.2 4.4.0"), COMPAT_CACHE, COMPAT_OUT.
source "$(dirname "$0")/../lib/common.sh"
compat_init java-client
HERE="$REPO/compat-tests/java-client"
VERSIONS="${JAVA_CLIENT_VERSIONS:-3.9.2 4.4.0}"
install_only=""; [ "${1:-}" = "--install-only" ] && { install_only=1; shift; }

install() {
  local v="$1" dest="$CACHE/java-client-$1"
  compat_maven_copy "$HERE/pom.xml" "$dest" "$dest/lib" -Dkafka.clients.version="$v"
}
for v in $VERSIONS; do
  compat_timed_install "kafka-clients $v (Maven Central)" install "$v"
done
[ -n "$install_only" ] && exit 0

status=0
for v in $VERSIONS; do
  # One results file per client version: peers java-client-3.9 and java-client-4.4 in matrix.json.
  peer="java-client-${v%.*}"
  RESULTS="$COMPAT_OUT/$peer.tsv"; : >"$RESULTS"; export COMPAT_RESULTS="$RESULTS"
  cp "$COMPAT_OUT/java-client.install" "$COMPAT_OUT/$peer.install" 2>/dev/null || true
  classes="$CACHE/java-client-$v/classes"
  rm -rf "$classes"
  javac -nowarn -Xlint:none -d "$classes" -cp "$CACHE/java-client-$v/lib/*" "$HERE/src/JavaClientScenario.java" \
    "$HERE/src/JavaFaultScenario.java" 2>&1 \
    | grep -v -E '^Note:|uses or overrides a deprecated|Recompile with' || true
  compat_start_broker --override num.partitions=3
  compat_log "kafka-clients $v"
  timeout -k 10 900 java -Dkafka.clients.version="$v" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$classes:$CACHE/java-client-$v/lib/*" JavaClientScenario "$BOOTSTRAP" "$@" \
    >"$COMPAT_OUT/$peer.log" 2>&1 || compat_log "scenario exited $? (see $COMPAT_OUT/$peer.log)"
  # Fault injection from a Java test: only when the scenario list names no feature, or a faults-* one.
  if [ $# -eq 0 ] || [[ " $* " == *" faults-"* ]]; then
    timeout -k 10 300 java -Dkafka.clients.version="$v" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp "$classes:$CACHE/java-client-$v/lib/*" JavaFaultScenario "$BOOTSTRAP" "http://$BROKER_HTTP" "$@" \
      >>"$COMPAT_OUT/$peer.log" 2>&1 || compat_log "fault scenario exited $? (see $COMPAT_OUT/$peer.log)"
  fi
  grep '^RESULT ' "$COMPAT_OUT/$peer.log" | cut -c8- | sed "s/^/  /" || true
  # What the broker saw of the scenario's consumers: KIP-227 sessions; from 4.x, OffsetCommit v10
  # and OffsetFetch v10 naming topics by id (KIP-848's versions, used once the broker offers them).
  PEER="$peer" compat_feature fetch-sessions compat_fetch_sessions
  if [ "${v%%.*}" -ge 4 ]; then
    PEER="$peer" compat_feature offsets-by-topic-id compat_offsets_by_topic_id
  fi
  compat_stop_broker
  rm -rf "$BROKER_DATA"
  PEER="$peer" node "$REPO/compat-tests/lib/judge.mjs" --peer "$peer" --results "$COMPAT_OUT" || status=1
done
exit $status
