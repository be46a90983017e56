#!/usr/bin/env bash
# Clients across a leader change of a 3-broker kbroker process (`kbroker start --brokers 3`): for
# each client, an idempotent producer (acks=all, min.insync.replicas=2) and a consumer group run on
# a topic of 3 partitions with replication factor 3 while this script kills the leader of
# partition 0 through the admin HTTP API (POST /api/cluster/brokers/:id/kill: no clean shutdown;
# the controller fences it when broker.session.timeout.ms passes and another ISR member leads) and
# starts it again. Each client program then checks that its group consumed every acknowledged
# record, and that the topic read from the beginning holds every acknowledged record exactly once,
# in order per partition.
#
#   compat-tests/cluster-failover/run.sh [--install-only] [feature...]
# Features: failover-librdkafka (confluent-kafka from PyPI, the venv of confluent-kafka-pypi),
# failover-java (kafka-clients 4.4.0, the jars of java-client), failover-franz-go (franz-go, pinned
# as in franz-go/go.mod). Env: FAILOVER_SECONDS (producing time per client, default 16).
source "$(dirname "$0")/../lib/common.sh"
compat_init cluster-failover
HERE="$REPO/compat-tests/cluster-failover"
install_only=""; [ "${1:-}" = "--install-only" ] && { install_only=1; shift; }
ONLY_FEATURES="${*:-}"
SECONDS_UP="${FAILOVER_SECONDS:-16}"

# The same installs as the confluent-kafka-pypi and java-client suites (same cache folders).
VENV="$CACHE/confluent-kafka-venv-$(cut -d= -f3 "$REPO/compat-tests/confluent-kafka-pypi/requirements.txt")"
install_venv() {
  [ -f "$VENV/.complete" ] && return 0
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO/compat-tests/confluent-kafka-pypi/requirements.txt"
  touch "$VENV/.complete"
}
JAVA_VERSION=4.4.0
JAVA_LIB="$CACHE/java-client-$JAVA_VERSION/lib"
install_java() {
  local dest="$CACHE/java-client-$JAVA_VERSION"
  compat_maven_copy "$REPO/compat-tests/java-client/pom.xml" "$dest" "$dest/lib" -Dkafka.clients.version="$JAVA_VERSION"
}
FRANZ_BIN="$CACHE/cluster-failover-franz-go"
build_franz() { (cd "$HERE/franz-go" && go mod download && go build -o "$FRANZ_BIN" .); }
compat_timed_install "confluent-kafka (PyPI venv)" install_venv
compat_timed_install "kafka-clients $JAVA_VERSION (Maven Central)" install_java
compat_timed_install "franz-go (Go module proxy) + go build" build_franz
[ -n "$install_only" ] && exit 0
JAVA_CLASSES="$CACHE/cluster-failover-java"
rm -rf "$JAVA_CLASSES"
javac -nowarn -Xlint:none -d "$JAVA_CLASSES" -cp "$JAVA_LIB/*" "$HERE/java/FailoverScenario.java"

# Three brokers in one process, a killed broker fenced 2 s after its last sign of life.
BROKER_DATA="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-$PEER.XXXXXX")"
BROKER_LOG="$COMPAT_OUT/$PEER.broker.log"
node "$REPO/bin/kbroker.js" start --brokers 3 --host 127.0.0.1 --port 0 --http-port 0 --data-dir "$BROKER_DATA" \
  --log-level "${COMPAT_BROKER_LOG_LEVEL:-warn}" --override broker.session.timeout.ms=2000 \
  --override replica.fetch.wait.max.ms=100 --override replica.fetch.backoff.ms=100 >"$BROKER_LOG" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 300); do
  grep -q 'admin HTTP on' "$BROKER_LOG" 2>/dev/null && break
  kill -0 "$BROKER_PID" 2>/dev/null || { echo "kbroker exited early:"; cat "$BROKER_LOG"; exit 1; }
  sleep 0.1
done
BOOTSTRAP="$(grep -m1 'listening on' "$BROKER_LOG" | grep -o '[0-9.]*:[0-9]* (node' | cut -d' ' -f1 | paste -sd, -)"
ADMIN="http://$(grep -m1 -o 'admin HTTP on [^ ]*' "$BROKER_LOG" | cut -d' ' -f4)"
if [ -z "$BOOTSTRAP" ] || [ "$ADMIN" = "http://" ]; then echo "kbroker did not start:"; cat "$BROKER_LOG"; exit 1; fi
compat_log "kbroker --brokers 3 pid $BROKER_PID on $BOOTSTRAP, admin $ADMIN"

# "leader leaderEpoch isr-size" of partition 0 of $1, from the controller (empty until it exists).
partition0() {
  curl -sf "$ADMIN/api/cluster/partitions/$1" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{if(!s)return;const p=JSON.parse(s).partitions[0];console.log(p.leader,p.leaderEpoch,p.isr.length)})' ||
    true
}
broker_action() { curl -sf -X POST -H 'x-kbroker-console: 1' "$ADMIN/api/cluster/brokers/$1/$2" >/dev/null; }

# run_failover TOPIC CMD...: CMD BOOTSTRAP TOPIC SECONDS runs in the background; the leader of
# TOPIC-0 is killed a few seconds in, started again once another broker leads, and every replica
# is back in the ISR before the next client.
run_failover() {
  local topic="$1"; shift
  timeout -k 10 300 "$@" "$BOOTSTRAP" "$topic" "$SECONDS_UP" &
  CLIENT_PID=$!
  local pid=$CLIENT_PID state="" leader epoch isr new_leader new_epoch
  # (run in compat_feature's subshell) the client does not outlive a failed step
  trap 'kill "$CLIENT_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 150); do state="$(partition0 "$topic")"; [ -n "$state" ] && break; sleep 0.2; done
  [ -n "$state" ] || { echo "topic $topic was not created"; kill "$pid"; return 1; }
  sleep 4
  read -r leader epoch isr <<<"$(partition0 "$topic")"
  echo "killing broker $leader, leader of $topic-0 at leader epoch $epoch (ISR of $isr)"
  broker_action "$leader" kill
  for _ in $(seq 1 100); do
    read -r new_leader new_epoch isr <<<"$(partition0 "$topic")"
    [ "$new_leader" != "$leader" ] && [ "$new_leader" != "-1" ] && break
    sleep 0.2
  done
  [ "$new_leader" != "$leader" ] || { echo "leadership did not move off broker $leader"; kill "$pid"; return 1; }
  echo "broker $new_leader leads $topic-0 at leader epoch $new_epoch; starting broker $leader again in 3 s"
  sleep 3
  broker_action "$leader" start
  local rc=0
  wait "$pid" || rc=$?
  for _ in $(seq 1 150); do read -r _ _ isr <<<"$(partition0 "$topic")"; [ "$isr" = 3 ] && break; sleep 0.2; done
  echo "after the client: partition 0 ISR of $isr"
  [ "$new_epoch" -gt "$epoch" ] || { echo "leader epoch did not grow"; return 1; }
  return "$rc"
}

want() { [ -z "$ONLY_FEATURES" ] || [[ " $ONLY_FEATURES " == *" $1 "* ]]; }
want failover-librdkafka && compat_feature failover-librdkafka run_failover fo-librdkafka "$VENV/bin/python" "$HERE/librdkafka.py"
want failover-java && compat_feature failover-java run_failover fo-java \
  java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAVA_CLASSES:$JAVA_LIB/*" FailoverScenario
want failover-franz-go && compat_feature failover-franz-go run_failover fo-franz-go "$FRANZ_BIN"
compat_finish
