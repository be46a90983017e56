#!/usr/bin/env bash
# Share groups (KIP-932) against kbroker:
# - peer java-share: the Java client's KafkaShareConsumer (org.apache.kafka:kafka-clients 4.3.1
#   from Maven Central) on a fresh kbroker whose acquisition locks last 5 s, so a dead consumer's
#   records come back quickly (src/ShareGroupScenario.java); then a broker killed (SIGKILL) while
#   a consumer holds records and restarted on the same data (share-restart-keeps-state); then on
#   three brokers, the share coordinator of a held share-partition killed, then its leader
#   (share-cluster-coordinator-killed: the state travels with the share-state RPCs);
# - peer kafka-tools-share: Kafka 4.3.1's kafka-console-share-consumer and kafka-share-groups
#   (org.apache.kafka:kafka-tools, the kafka-tools suite's wrappers with this version's classpath).
#
#   compat-tests/share-groups/run.sh [--install-only]
# Env: SHARE_CLIENT_VERSION (default 4.3.1), COMPAT_CACHE, COMPAT_OUT.
source "$(dirname "$0")/../lib/common.sh"
compat_init java-share
HERE="$REPO/compat-tests/share-groups"
V="${SHARE_CLIENT_VERSION:-4.3.1}"
install_only=""; [ "${1:-}" = "--install-only" ] && { install_only=1; shift; }

install_clients() {
  local dest="$CACHE/java-share-$V"
  compat_maven_copy "$HERE/pom.xml" "$dest" "$dest/lib" -Dkafka.clients.version="$V"
}
compat_timed_install "kafka-clients $V (Maven Central)" install_clients
compat_kafka_tools "$V"
[ -n "$install_only" ] && exit 0

classes="$CACHE/java-share-$V/classes"
CP="$classes:$CACHE/java-share-$V/lib/*"
rm -rf "$classes"
javac -nowarn -Xlint:none -d "$classes" -cp "$CACHE/java-share-$V/lib/*" "$HERE/src/ShareGroupScenario.java" 2>&1 \
  | grep -v -E '^Note:|uses or overrides a deprecated|Recompile with' || true
scenario() { java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" ShareGroupScenario "$@"; }
LOCK=(--override group.share.record.lock.duration.ms=5000)

compat_start_broker "${LOCK[@]}"
compat_log "kafka-clients $V KafkaShareConsumer"
timeout -k 10 600 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" ShareGroupScenario "$BOOTSTRAP" \
  >"$COMPAT_OUT/java-share.log" 2>&1 || compat_log "scenario exited $? (see $COMPAT_OUT/java-share.log)"

# kill_holder PID: SIGKILL the holding consumer. PID is `timeout`'s, which cannot forward a SIGKILL:
# its java child is killed first, or it would go on running (and consuming) after the scenario.
kill_holder() {
  pkill -KILL -P "$1" 2>/dev/null || true
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# A broker killed while a consumer holds records, restarted on the same data.
restart_same_data() {
  BROKER_LOG="$COMPAT_OUT/$PEER.broker-restarted.log"
  node "$REPO/bin/kbroker.js" start --host 127.0.0.1 --port 0 --data-dir "$BROKER_DATA" \
    --log-level "${COMPAT_BROKER_LOG_LEVEL:-warn}" "${LOCK[@]}" >"$BROKER_LOG" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 200); do grep -q 'listening on' "$BROKER_LOG" 2>/dev/null && break; sleep 0.1; done
  BOOTSTRAP="$(grep -o 'listening on [^ ]*' "$BROKER_LOG" | head -1 | cut -d' ' -f3)"
}
hold_log="$COMPAT_OUT/java-share.hold.log"
timeout -k 5 120 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" ShareGroupScenario --hold "$BOOTSTRAP" share-restart sg-restart \
  >"$hold_log" 2>&1 &
holder=$!
for _ in $(seq 1 600); do grep -q '^READY' "$hold_log" 2>/dev/null && break; sleep 0.1; done
kill -KILL "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true
kill_holder "$holder"
mapfile -t held < <(grep '^HELD ' "$hold_log" | cut -c6-)
mapfile -t accepted < <(grep '^ACCEPTED ' "$hold_log" | cut -c10-)
restart_same_data
compat_log "restarted on the same data: $BOOTSTRAP, held ${held[*]:-none}"
timeout -k 10 120 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" ShareGroupScenario --rescue "$BOOTSTRAP" share-restart sg-restart "${held[@]}" --accepted "${accepted[@]}" \
  >>"$COMPAT_OUT/java-share.log" 2>&1 || compat_log "rescue exited $?"
grep '^RESULT ' "$COMPAT_OUT/java-share.log" | cut -c8- | sed "s/^/  /" || true
compat_stop_broker
rm -rf "$BROKER_DATA"

# ---- Share state across brokers (share-state RPCs): kbroker start --brokers 3 ----
# The topic's leader L and the share coordinator C of the key group:topicId:0 are different
# brokers (--place picks such a topic). A consumer holds records (half of its batch accepted) when
# C is killed: its __share_group_state partition moves to another broker. The holder is killed
# (its records are released on L and written to the new coordinator), then L is killed and started
# again: it loads the share-partition from the coordinator (ReadShareGroupState). The held records
# come back with delivery count 2, the accepted ones never.
cluster_log="$COMPAT_OUT/java-share.cluster.log"
: >"$cluster_log"
if compat_start_cluster 3 "${LOCK[1]}" broker.session.timeout.ms=2000 replica.fetch.wait.max.ms=100 >>"$cluster_log" 2>&1; then
  placed="$(timeout -k 5 120 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" ShareGroupScenario --place "$CLUSTER_BOOTSTRAP" share-cluster sg-cluster 2>>"$cluster_log" | grep '^PLACED ' || true)"
  read -r _ ctopic ccoord cleader <<<"$placed"
  compat_log "cluster: ${placed:-no topic placed (see $cluster_log)}"
  if [ -n "${cleader:-}" ]; then
    chold="$COMPAT_OUT/java-share.cluster-hold.log"
    timeout -k 5 120 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" ShareGroupScenario --hold "$CLUSTER_BOOTSTRAP" "$ctopic" sg-cluster \
      >"$chold" 2>&1 &
    holder=$!
    for _ in $(seq 1 600); do grep -q '^READY' "$chold" 2>/dev/null && break; sleep 0.1; done
    compat_cluster kill "$ccoord" || true
    sleep 4 # its session expires (broker.session.timeout.ms), the state partition gets a new leader
    kill_holder "$holder"
    sleep 3 # the holder's session closes on L: its records are released, written to the new coordinator
    compat_cluster kill "$cleader" || true
    sleep 4
    compat_cluster start "$cleader" || true
    mapfile -t held < <(grep '^HELD ' "$chold" | cut -c6-)
    mapfile -t accepted < <(grep '^ACCEPTED ' "$chold" | cut -c10-)
    compat_log "cluster: killed coordinator $ccoord, then leader $cleader (restarted); held ${held[*]:-none}"
    timeout -k 10 120 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dfeature=share-cluster-coordinator-killed -cp "$CP" \
      ShareGroupScenario --rescue "$CLUSTER_BOOTSTRAP" "$ctopic" sg-cluster "${held[@]}" --accepted "${accepted[@]}" \
      >>"$COMPAT_OUT/java-share.log" 2>&1 || compat_log "cluster rescue exited $?"
  fi
  compat_stop_cluster
  rm -rf "$CLUSTER_DATA"
fi
grep '^RESULT share-cluster' "$COMPAT_OUT/java-share.log" | cut -c8- | sed "s/^/  /" || true
status=0
node "$REPO/compat-tests/lib/judge.mjs" --peer java-share --results "$COMPAT_OUT" || status=1

# ---- Kafka's share group tools ----
PEER=kafka-tools-share
RESULTS="$COMPAT_OUT/$PEER.tsv"; : >"$RESULTS"; export COMPAT_RESULTS="$RESULTS" COMPAT_PEER="$PEER"
cp "$COMPAT_OUT/java-share.install" "$COMPAT_OUT/$PEER.install" 2>/dev/null || true
compat_start_broker
B="$BOOTSTRAP"
WORK="$(mktemp -d)"
T=40
TB="$REPO/compat-tests/kafka-tools/bin"
SB="$HERE/bin"
tool() { local d="$1"; local t="$2"; shift 2; timeout -k 5 "$T" "$d/$t" "$@"; }
fail() { echo "FAILED: $*" >&2; return 1; }

# The console share consumer joins (its share-partition starts at the latest offset), then 20
# records are produced: it prints exactly those 20.
f_console_share_consumer() {
  tool "$TB" kafka-topics.sh --bootstrap-server "$B" --create --topic st --partitions 1
  tool "$SB" kafka-console-share-consumer.sh --bootstrap-server "$B" --topic st --group sgt \
    --max-messages 20 --timeout-ms 30000 >"$WORK/csc.out" &
  local c=$!
  sleep 8
  seq 1 20 | sed 's/^/m/' | tool "$TB" kafka-console-producer.sh --bootstrap-server "$B" --topic st
  wait "$c"
  seq 1 20 | sed 's/^/m/' | sort >"$WORK/expected"
  sort "$WORK/csc.out" | diff "$WORK/expected" -
}

# kafka-share-groups --describe (offsets: START-OFFSET 20, LAG 0), --state, --list.
f_share_groups_describe() {
  tool "$SB" kafka-share-groups.sh --bootstrap-server "$B" --describe --group sgt | tee "$WORK/d.txt"
  [ "$(awk '$1=="sgt" && $2=="st" && $3=="0" && $4=="20" && $5=="0"' "$WORK/d.txt" | wc -l)" -eq 1 ] || fail "not START-OFFSET 20 LAG 0"
  tool "$SB" kafka-share-groups.sh --bootstrap-server "$B" --describe --group sgt --state | tee "$WORK/s.txt"
  grep -q 'Empty' "$WORK/s.txt" || fail "state not Empty"
  tool "$SB" kafka-share-groups.sh --bootstrap-server "$B" --list | tee "$WORK/l.txt"
  grep -qx sgt "$WORK/l.txt"
}

# --reset-offsets --to-earliest (AlterShareGroupOffsets): the group reads all 20 again; then
# --delete-offsets and --delete.
f_share_groups_reset_delete() {
  tool "$SB" kafka-share-groups.sh --bootstrap-server "$B" --reset-offsets --to-earliest --execute --group sgt --topic st | tee "$WORK/r.txt"
  [ "$(awk '$1=="sgt" && $2=="st" && $4=="0"' "$WORK/r.txt" | wc -l)" -eq 1 ] || fail "NEW-OFFSET not 0"
  tool "$SB" kafka-console-share-consumer.sh --bootstrap-server "$B" --topic st --group sgt \
    --max-messages 20 --timeout-ms 20000 | sort | diff "$WORK/expected" -
  tool "$SB" kafka-share-groups.sh --bootstrap-server "$B" --delete-offsets --group sgt --topic st | tee "$WORK/do.txt"
  grep -q 'Successful' "$WORK/do.txt" || fail "delete-offsets not successful"
  tool "$SB" kafka-share-groups.sh --bootstrap-server "$B" --delete --group sgt | tee "$WORK/del.txt"
  grep -q 'successful' "$WORK/del.txt" || fail "delete not successful"
  tool "$SB" kafka-share-groups.sh --bootstrap-server "$B" --list | tee "$WORK/l2.txt"
  ! grep -qx sgt "$WORK/l2.txt"
}

compat_feature console-share-consumer f_console_share_consumer
compat_feature share-groups-describe f_share_groups_describe
compat_feature share-groups-reset-delete f_share_groups_reset_delete
compat_stop_broker
rm -rf "$WORK" "$BROKER_DATA"
node "$REPO/compat-tests/lib/judge.mjs" --peer kafka-tools-share --results "$COMPAT_OUT" || status=1
exit $status
