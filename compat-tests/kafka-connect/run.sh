#!/usr/bin/env bash
# Kafka Connect in distributed mode (org.apache.kafka:connect-runtime + connect-file from Maven Central)
# against a fresh kbroker: the worker creates its config/offset/status topics and checks that they are
# compacted (it refuses to start otherwise), a FileStreamSource -> topic -> FileStreamSink pipeline copies
# a file, and after the worker is stopped and started again it resumes from the offsets it stored in
# those topics: the lines added meanwhile arrive once, the old ones are not copied again.
#   compat-tests/kafka-connect/run.sh [--install-only]
# Env: KAFKA_CONNECT_VERSION (default 4.3.1: connect-file 4.4.0 is not on Maven Central).
source "$(dirname "$0")/../lib/common.sh"
compat_init kafka-connect
HERE="$REPO/compat-tests/kafka-connect"
V="${KAFKA_CONNECT_VERSION:-4.3.1}"
DEST="$CACHE/kafka-connect-$V"
install() {
  compat_maven_copy "$HERE/pom.xml" "$DEST" "$DEST/lib" -Dkafka.version="$V"
}
compat_timed_install "connect-runtime + connect-file $V (Maven Central)" install
[ "${1:-}" = "--install-only" ] && exit 0

# A quick cleaner and short segments, so that Connect's compacted topics really get cleaned while it runs.
compat_start_broker --override log.cleaner.backoff.ms=200
WORK="$(mktemp -d)"
# The worker's pid goes to a file: each feature runs in its own subshell (compat_feature), so a
# variable set by the one that started the worker is not seen by the one that stops it.
WORKER_PIDFILE="$WORK/worker.pid"
stop_worker() {
  [ -s "$WORKER_PIDFILE" ] || return 0
  local pid
  pid="$(cat "$WORKER_PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  : >"$WORKER_PIDFILE"
}
trap 'stop_worker; compat_cleanup; rm -rf "$WORK"' EXIT
REST_PORT="$(compat_free_port)"
REST="http://127.0.0.1:$REST_PORT"
cat >"$WORK/worker.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
group.id=kbroker-connect
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
config.storage.topic=connect-configs
offset.storage.topic=connect-offsets
status.storage.topic=connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:$REST_PORT
plugin.discovery=only_scan
PROPS
: >"$WORK/input.txt"

start_worker() {
  java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$DEST/lib/*" org.apache.kafka.connect.cli.ConnectDistributed \
    "$WORK/worker.properties" >>"$COMPAT_OUT/$PEER.worker.log" 2>&1 &
  local WORKER_PID=$!
  echo "$WORKER_PID" >"$WORKER_PIDFILE"
  for _ in $(seq 1 120); do
    if curl -fsS "$REST/connectors" >/dev/null 2>&1; then return 0; fi
    kill -0 "$WORKER_PID" 2>/dev/null || { echo "worker exited:"; tail -20 "$COMPAT_OUT/$PEER.worker.log"; return 1; }
    sleep 1
  done
  echo "worker REST API did not come up"; return 1
}

# Waits until output.txt equals input.txt (line for line, in order).
wait_copied() {
  for _ in $(seq 1 90); do
    if [ -f "$WORK/output.txt" ] && cmp -s "$WORK/input.txt" "$WORK/output.txt"; then return 0; fi
    sleep 1
  done
  echo "output.txt ($(wc -l <"$WORK/output.txt" 2>/dev/null || echo 0) lines) != input.txt ($(wc -l <"$WORK/input.txt") lines)"
  diff "$WORK/input.txt" "$WORK/output.txt" | head -10
  return 1
}

f_worker_start() {
  start_worker
  curl -fsS "$REST/" | tee "$WORK/root.json"
  grep -q '"kafka_cluster_id"' "$WORK/root.json"
}

f_file_pipeline() {
  seq 1 200 | sed 's/^/line-/' >>"$WORK/input.txt"
  curl -fsS -X PUT -H 'Content-Type: application/json' "$REST/connectors/file-source/config" \
    -d "{\"connector.class\":\"org.apache.kafka.connect.file.FileStreamSourceConnector\",\"tasks.max\":\"1\",\"file\":\"$WORK/input.txt\",\"topic\":\"connect-data\"}"
  echo
  curl -fsS -X PUT -H 'Content-Type: application/json' "$REST/connectors/file-sink/config" \
    -d "{\"connector.class\":\"org.apache.kafka.connect.file.FileStreamSinkConnector\",\"tasks.max\":\"1\",\"file\":\"$WORK/output.txt\",\"topics\":\"connect-data\"}"
  echo
  wait_copied
  echo "copied $(wc -l <"$WORK/output.txt") lines through topic connect-data"
  curl -fsS "$REST/connectors/file-source/status"; echo
  curl -fsS "$REST/connectors/file-sink/status"; echo
}

f_restart_resume() {
  sleep 2 # past offset.flush.interval.ms, so that the source's position is stored
  stop_worker
  seq 201 300 | sed 's/^/line-/' >>"$WORK/input.txt"
  start_worker
  wait_copied
  echo "after a restart: $(wc -l <"$WORK/output.txt") lines, each once, in order"
  # The connectors' configs came back from connect-configs, their positions from connect-offsets.
  curl -fsS "$REST/connectors" | tee "$WORK/connectors.json"; echo
  grep -q file-source "$WORK/connectors.json" && grep -q file-sink "$WORK/connectors.json"
}

compat_feature connect-worker-start f_worker_start
compat_feature connect-file-pipeline f_file_pipeline
compat_feature connect-restart-resume f_restart_resume
stop_worker # before the broker goes
compat_finish
