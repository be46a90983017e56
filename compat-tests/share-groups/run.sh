#!/usr/bin/env bash
# Share groups (KIP-932) with the Java client's KafkaShareConsumer, org.apache.kafka:kafka-clients
# 4.3.1 from Maven Central, against a fresh kbroker whose acquisition locks last 5 s (so a dead
# consumer's records come back quickly): src/ShareGroupScenario.java. Peer: java-share.
#
#   compat-tests/share-groups/run.sh [--install-only] [feature...]
# Env: SHARE_CLIENT_VERSION (default 4.3.1), COMPAT_CACHE, COMPAT_OUT.
source "$(dirname "$0")/../lib/common.sh"
compat_init java-share
HERE="$REPO/compat-tests/share-groups"
V="${SHARE_CLIENT_VERSION:-4.3.1}"
install_only=""; [ "${1:-}" = "--install-only" ] && { install_only=1; shift; }

install() {
  local dest="$CACHE/java-share-$V"
  [ -f "$dest/.complete" ] && return 0
  rm -rf "$dest"
  mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
    -Dkafka.clients.version="$V" -DoutputDirectory="$dest/lib"
  touch "$dest/.complete"
}
compat_timed_install "kafka-clients $V (Maven Central)" install
[ -n "$install_only" ] && exit 0

classes="$CACHE/java-share-$V/classes"
rm -rf "$classes"
javac -nowarn -Xlint:none -d "$classes" -cp "$CACHE/java-share-$V/lib/*" "$HERE/src/ShareGroupScenario.java" 2>&1 \
  | grep -v -E '^Note:|uses or overrides a deprecated|Recompile with' || true
compat_start_broker --override group.share.record.lock.duration.ms=5000
compat_log "kafka-clients $V KafkaShareConsumer"
timeout -k 10 600 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$classes:$CACHE/java-share-$V/lib/*" ShareGroupScenario "$BOOTSTRAP" "$@" \
  >"$COMPAT_OUT/java-share.log" 2>&1 || compat_log "scenario exited $? (see $COMPAT_OUT/java-share.log)"
grep '^RESULT ' "$COMPAT_OUT/java-share.log" | cut -c8- | sed "s/^/  /" || true
compat_stop_broker
rm -rf "$BROKER_DATA"
node "$REPO/compat-tests/lib/judge.mjs" --peer java-share --results "$COMPAT_OUT"
