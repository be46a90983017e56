# Shared helpers for the compat suites (sourced by each compat-tests/<peer>/run.sh).
#
#   compat_init PEER             sets REPO, CACHE, RESULTS (results file of this peer, emptied)
#   compat_start_broker [ARGS]   starts a fresh kbroker on a free port: BOOTSTRAP, BROKER_DATA, BROKER_PID
#   compat_stop_broker           SIGTERM (clean shutdown), SIGKILL after 10 s
#   compat_start_cluster N [key=value...]  N brokers in one process (lib/cluster.mjs, as
#                                `kbroker start --brokers N`): CLUSTER_BOOTSTRAP, CLUSTER_DATA, CLUSTER_PID
#   compat_cluster CMD ID        stop|kill|start broker ID of that cluster; returns once done
#   compat_stop_cluster          closes it (controlled shutdowns)
#   compat_feature F CMD...      runs CMD (a shell function or program), records F as pass/fail
#   compat_record F RESULT SECS DETAIL   records one result line (also used by the scenario programs
#                                through $COMPAT_RESULTS: lines "feature<TAB>pass|fail<TAB>seconds<TAB>detail")
#   compat_finish                judges this peer's results against compat-tests/matrix.json; exit code
#
# Nothing here downloads anything: installs are done by each run.sh from its package registry.
set -euo pipefail
shopt -s inherit_errexit

compat_init() {
  PEER="$1"
  REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  CACHE="${COMPAT_CACHE:-$REPO/compat-tests/.cache}"
  COMPAT_OUT="${COMPAT_OUT:-$CACHE/results}"
  mkdir -p "$CACHE" "$COMPAT_OUT"
  RESULTS="$COMPAT_OUT/$PEER.tsv"
  : >"$RESULTS"
  export COMPAT_RESULTS="$RESULTS" COMPAT_PEER="$PEER" REPO CACHE COMPAT_OUT
  COMPAT_T0=$(date +%s)
  trap compat_cleanup EXIT
  if [ ! -f "$REPO/dist/bundle/cli.js" ]; then
    echo "[$PEER] dist/ missing: npm run build"
    (cd "$REPO" && npm run build >/dev/null)
  fi
}

compat_log() { echo "[$PEER $(date +%H:%M:%S)] $*"; }

# Times an install step and records it in $COMPAT_OUT/<peer>.install ("seconds<TAB>what").
compat_timed_install() {
  local what="$1"; shift
  local t0=$SECONDS
  "$@"
  printf '%s\t%s\n' "$((SECONDS - t0))" "$what" >>"$COMPAT_OUT/$PEER.install"
}

# A pom's dependencies from Maven Central, copied once: `done_dir/.complete` marks a finished copy
# (a half-done one is removed and made again).
#   compat_maven_copy POM DONE_DIR OUTPUT_DIR [-Dproperty=value ...]
compat_maven_copy() {
  local pom="$1" done_dir="$2" out="$3"; shift 3
  [ -f "$done_dir/.complete" ] && return 0
  rm -rf "$done_dir"
  mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies "$@" -DoutputDirectory="$out"
  touch "$done_dir/.complete"
}

# Kafka's command-line tools of VERSION (the kafka-tools suite's pom and launchers), copied once from
# Maven Central and timed as an install; exports KAFKA_TOOLS_VERSION and KAFKA_TOOLS_LIB (the launchers
# read them) and sets BIN, where kafka-topics.sh and the others are.
#   compat_kafka_tools VERSION
compat_kafka_tools() {
  export KAFKA_TOOLS_VERSION="$1"
  export KAFKA_TOOLS_LIB="$CACHE/kafka-tools-$1/lib"
  # shellcheck disable=SC2034 # read by the suite that called this
  BIN="$REPO/compat-tests/kafka-tools/bin"
  compat_timed_install "kafka-tools $1 (Maven Central)" compat_maven_copy "$REPO/compat-tests/kafka-tools/pom.xml" \
    "$KAFKA_TOOLS_LIB" "$KAFKA_TOOLS_LIB" -Dkafka.version="$1"
}

compat_start_broker() {
  BROKER_DATA="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-$PEER.XXXXXX")"
  BROKER_LOG="$COMPAT_OUT/$PEER.broker.log"
  node "$REPO/bin/kbroker.js" start --host 127.0.0.1 --port 0 --data-dir "$BROKER_DATA" \
    --http-port 0 --log-level "${COMPAT_BROKER_LOG_LEVEL:-warn}" "$@" >"$BROKER_LOG" 2>&1 &
  BROKER_PID=$!
  local i
  for i in $(seq 1 200); do
    if grep -q 'listening on' "$BROKER_LOG" 2>/dev/null; then break; fi
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      echo "kbroker exited early:"; cat "$BROKER_LOG"; return 1
    fi
    sleep 0.1
  done
  BOOTSTRAP="$(grep -o 'listening on [^ ]*' "$BROKER_LOG" | head -1 | cut -d' ' -f3)"
  [ -n "$BOOTSTRAP" ] || { echo "kbroker did not start:"; cat "$BROKER_LOG"; return 1; }
  # The admin HTTP listener (its /metrics lets a suite check what the broker saw of a client).
  for i in $(seq 1 50); do grep -q 'admin HTTP on' "$BROKER_LOG" 2>/dev/null && break; sleep 0.1; done
  BROKER_HTTP="$(grep -o 'admin HTTP on [^ ]*' "$BROKER_LOG" | head -1 | cut -d' ' -f4)"
  export BOOTSTRAP BROKER_DATA BROKER_HTTP
  compat_log "kbroker pid $BROKER_PID on $BOOTSTRAP, data $BROKER_DATA"
}

compat_stop_broker() {
  [ -n "${BROKER_PID:-}" ] || return 0
  if kill -0 "$BROKER_PID" 2>/dev/null; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$BROKER_PID" 2>/dev/null && { compat_log "kbroker did not stop on SIGTERM: SIGKILL"; kill -KILL "$BROKER_PID" 2>/dev/null || true; }
  fi
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}

compat_start_cluster() {
  local n="$1"; shift
  CLUSTER_DATA="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-$PEER-cluster.XXXXXX")"
  CLUSTER_LOG="$COMPAT_OUT/$PEER.cluster.log"
  mkfifo "$CLUSTER_DATA/ctl"
  node "$REPO/compat-tests/lib/cluster.mjs" "$n" "$CLUSTER_DATA/data" "$@" <"$CLUSTER_DATA/ctl" >"$CLUSTER_LOG" 2>&1 &
  CLUSTER_PID=$!
  exec {CLUSTER_FD}>"$CLUSTER_DATA/ctl" # the cluster's stdin stays open until compat_stop_cluster
  local i
  for i in $(seq 1 300); do
    if grep -q 'listening on' "$CLUSTER_LOG" 2>/dev/null; then break; fi
    if ! kill -0 "$CLUSTER_PID" 2>/dev/null; then echo "cluster exited early:"; cat "$CLUSTER_LOG"; return 1; fi
    sleep 0.1
  done
  CLUSTER_BOOTSTRAP="$(grep -o 'listening on [^ ]*' "$CLUSTER_LOG" | head -1 | cut -d' ' -f3)"
  [ -n "$CLUSTER_BOOTSTRAP" ] || { echo "cluster did not start:"; cat "$CLUSTER_LOG"; return 1; }
  export CLUSTER_BOOTSTRAP CLUSTER_DATA
  compat_log "kbroker cluster of $n, pid $CLUSTER_PID on $CLUSTER_BOOTSTRAP, data $CLUSTER_DATA"
}

compat_cluster() {
  local cmd="$1 $2" i answers
  # The answers so far (the log is appended to, never rewritten: the cluster holds it open).
  answers=$(grep -c -E "^(ok|error) " "$CLUSTER_LOG" || true)
  echo "$cmd" >&"$CLUSTER_FD"
  for i in $(seq 1 600); do
    if [ "$(grep -c -E "^(ok|error) " "$CLUSTER_LOG" || true)" -gt "$answers" ]; then
      grep -E "^(ok|error) " "$CLUSTER_LOG" | tail -n +"$((answers + 1))" | head -1 | grep -qx "ok $cmd" && return 0
      grep "^error $cmd" "$CLUSTER_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "cluster: no answer to $cmd" >&2
  return 1
}

compat_stop_cluster() {
  [ -n "${CLUSTER_PID:-}" ] || return 0
  exec {CLUSTER_FD}>&- 2>/dev/null || true # stdin closes: the cluster shuts down
  local i
  for i in $(seq 1 150); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$CLUSTER_PID" 2>/dev/null && { compat_log "cluster did not stop: SIGKILL"; kill -KILL "$CLUSTER_PID" 2>/dev/null || true; }
  wait "$CLUSTER_PID" 2>/dev/null || true
  CLUSTER_PID=""
}

compat_cleanup() {
  compat_stop_cluster
  if [ -n "${CLUSTER_DATA:-}" ] && [ -z "${COMPAT_KEEP_DATA:-}" ]; then rm -rf "$CLUSTER_DATA"; fi
  compat_stop_broker
  if [ -n "${BROKER_DATA:-}" ] && [ -z "${COMPAT_KEEP_DATA:-}" ]; then rm -rf "$BROKER_DATA"; fi
}

compat_record() {
  local detail="${4:-}"
  detail="${detail//$'\t'/ }"; detail="${detail//$'\n'/ | }"
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${detail:0:600}" >>"$RESULTS"
  compat_log "$1: $2 (${3}s)${detail:+ — ${detail:0:300}}"
}

# compat_feature FEATURE CMD... : the feature passes when CMD exits 0. CMD's output goes to
# $COMPAT_OUT/<peer>.<feature>.log; its last lines become the detail on failure.
compat_feature() {
  local feature="$1"; shift
  # COMPAT_ONLY=f1,f2 runs only those features (for working on one scenario).
  if [ -n "${COMPAT_ONLY:-}" ] && [[ ",$COMPAT_ONLY," != *",$feature,"* ]]; then return 0; fi
  local log="$COMPAT_OUT/$PEER.$feature.log" t0=$SECONDS rc=0
  compat_log "$feature ..."
  # In the background and waited for, so that `set -e` holds inside CMD (it is ignored in a
  # command that is the left side of ||).
  (set -e; "$@") >"$log" 2>&1 </dev/null &
  wait $! || rc=$?
  if [ "$rc" -eq 0 ]; then
    compat_record "$feature" pass "$((SECONDS - t0))" ""
  else
    compat_record "$feature" fail "$((SECONDS - t0))" "exit $rc: $(grep -v '^\s*$' "$log" | tail -n 4 | cut -c1-200)"
  fi
}

# compat_metric SERIES: the value of one Prometheus series (name{labels} as printed) on the
# running broker's /metrics, 0 when absent.
compat_metric() {
  curl -fsS "http://$BROKER_HTTP/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# compat_fetch_sessions: records the fetch-sessions feature — the client's consumers used KIP-227
# incremental fetch sessions (the broker answered incremental fetches of cached sessions) and no
# fetch was refused for a session error. Call after the scenario, before the broker stops.
compat_fetch_sessions() {
  local inc notfound badepoch
  inc=$(compat_metric kbroker_server_fetchsessioncache_incrementalfetches_total)
  notfound=$(compat_metric 'kafka_network_requestmetrics_errors_total{request="Fetch",error="FETCH_SESSION_ID_NOT_FOUND"}')
  badepoch=$(compat_metric 'kafka_network_requestmetrics_errors_total{request="Fetch",error="INVALID_FETCH_SESSION_EPOCH"}')
  echo "incremental fetches $inc, FETCH_SESSION_ID_NOT_FOUND $notfound, INVALID_FETCH_SESSION_EPOCH $badepoch"
  [ "$inc" -gt 0 ]
}

# compat_offsets_by_topic_id: the client committed and fetched offsets with OffsetCommit v10 /
# OffsetFetch v10 (topic ids) and the broker answered them without error.
compat_offsets_by_topic_id() {
  local commit fetch
  commit=$(compat_metric 'kafka_network_requestmetrics_requests_total{request="OffsetCommit",version="10"}')
  fetch=$(compat_metric 'kafka_network_requestmetrics_requests_total{request="OffsetFetch",version="10"}')
  echo "OffsetCommit v10: $commit, OffsetFetch v10: $fetch"
  [ "$commit" -gt 0 ] && [ "$fetch" -gt 0 ]
}

compat_finish() {
  compat_stop_broker
  compat_log "done in $(($(date +%s) - COMPAT_T0))s"
  node "$REPO/compat-tests/lib/judge.mjs" --peer "$PEER" --results "$COMPAT_OUT"
}

# A free TCP port on 127.0.0.1 (for peers that need one besides the broker's).
compat_free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
