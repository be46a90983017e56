#!/usr/bin/env bash
# Runs every compat suite (or the named ones), then judges all results against matrix.json and
# prints the peer × feature matrix. Exit code 1 only if a feature matrix.json declares "pass"
# failed (or did not report); pending/incompatible features are run and reported, never fatal.
#
#   compat-tests/run-all.sh [suite...]        suites: the folders below
# Env: COMPAT_NO_BUILD=1 (skip npm run build), COMPAT_CACHE (downloads; default compat-tests/.cache),
#      COMPAT_OUT (results; default $COMPAT_CACHE/results), COMPAT_JOBS (suites run at once; default 2).
# The downloads of every suite run first, one at a time (Maven's, pip's and Go's caches are not made
# for concurrent writers); then the suites run COMPAT_JOBS at a time, longest first, each on its own
# broker and free ports, each one's output printed as a block when it ends. Most of a suite's time
# is waiting (group rebalances, session timeouts, a JVM's start), so two at once on 2 cores take
# about half as long as one after the other.
# Writes $COMPAT_OUT/matrix.md (the README's matrix, from this run) and $COMPAT_OUT/durations.tsv.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
export COMPAT_CACHE="${COMPAT_CACHE:-$HERE/.cache}"
export COMPAT_OUT="${COMPAT_OUT:-$COMPAT_CACHE/results}"
ALL=(kafka-tools java-client kafka-streams kafka-connect kafka-python confluent-kafka-pypi franz-go kafkajs platformatic-kafka security kerberos cluster-failover share-groups node-runtimes)
declare -A PEERS=(
  [kafka-tools]="kafka-tools" [java-client]="java-client-3.9 java-client-4.4" [kafka-streams]="kafka-streams kafka-streams-4.3"
  [kafka-python]="kafka-python-2.0 kafka-python-3" [confluent-kafka-pypi]="confluent-kafka-pypi"
  [franz-go]="franz-go" [kafkajs]="kafkajs" [platformatic-kafka]="platformatic-kafka" [kafka-connect]="kafka-connect"
  [security]="security"
  [kerberos]="kerberos"
  [cluster-failover]="cluster-failover"
  [share-groups]="java-share kafka-tools-share"
  [node-runtimes]="node-22 node-24 node-26"
)
suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=("${ALL[@]}")

mkdir -p "$COMPAT_OUT"
rm -f "$COMPAT_OUT"/*.tsv "$COMPAT_OUT"/*.install "$COMPAT_OUT"/*.log "$COMPAT_OUT"/*.out
if [ -z "${COMPAT_NO_BUILD:-}" ]; then (cd "$REPO" && npm run build >/dev/null) || { echo "npm run build failed"; exit 1; }; fi

t_all=$SECONDS
printf 'suite\tinstall_s\ttotal_s\texit\n' >"$COMPAT_OUT/durations.tsv"
judge_peers=()
for s in "${suites[@]}"; do
  [ -n "${PEERS[$s]:-}" ] || { echo "unknown suite $s (have: ${ALL[*]})"; exit 2; }
  for p in ${PEERS[$s]}; do judge_peers+=(--peer "$p"); done
done

# Downloads first, one suite at a time.
for s in "${suites[@]}"; do
  grep -q -- '--install-only' "$HERE/$s/run.sh" || continue
  echo "=== $s: install"
  "$HERE/$s/run.sh" --install-only 2>&1 | sed -u "s/^/  /" || { echo "=== $s: install failed"; }
done

# Longest first (seconds of a recent CI run), so the last to start are short ones.
declare -A EXPECTED_S=(
  [kafka-tools]=230 [franz-go]=120 [kafkajs]=110 [java-client]=100 [share-groups]=95 [kafka-streams]=90
  [security]=75 [cluster-failover]=65 [kerberos]=55 [kafka-python]=55 [platformatic-kafka]=47 [confluent-kafka-pypi]=45
  [kafka-connect]=40 [node-runtimes]=290
)
mapfile -t queue < <(for s in "${suites[@]}"; do echo "${EXPECTED_S[$s]:-60} $s"; done | sort -rn | cut -d' ' -f2)
jobs_max="${COMPAT_JOBS:-2}"
declare -A started=() pid_suite=()

finish() { # prints a finished suite's output and records its duration
  local s="$1" rc="$2"
  local inst
  inst=$(awk -F'\t' '{s+=$1} END {print s+0}' "$COMPAT_OUT/$s.install" 2>/dev/null || echo 0)
  echo "=== $s"
  sed "s/^/  /" "$COMPAT_OUT/$s.out" | grep -v -E '^\s+(==|  ok |  pending|  KNOWN|  FAIL|  XPASS|  UNLISTED|compat:|$)' || true
  printf '%s\t%s\t%s\t%s\n' "$s" "$inst" "$((SECONDS - started[$s]))" "$rc" >>"$COMPAT_OUT/durations.tsv"
  echo "=== $s: ${inst}s install, $((SECONDS - started[$s]))s in all, exit $rc"
}

# Ctrl-C or a kill of this script ends the suites it started (each stops its own brokers on exit).
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
running=0
for s in "${queue[@]}"; do
  if [ "$running" -ge "$jobs_max" ]; then
    wait -n -p done_pid; rc=$?
    finish "${pid_suite[$done_pid]}" "$rc"
    running=$((running - 1))
  fi
  started[$s]=$SECONDS
  "$HERE/$s/run.sh" >"$COMPAT_OUT/$s.out" 2>&1 &
  pid_suite[$!]=$s
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n -p done_pid; rc=$?
  finish "${pid_suite[$done_pid]}" "$rc"
  running=$((running - 1))
done

echo
echo "=== durations (seconds)"
column -t -s $'\t' "$COMPAT_OUT/durations.tsv" 2>/dev/null || cat "$COMPAT_OUT/durations.tsv"
echo "all suites: $((SECONDS - t_all))s"
node "$HERE/lib/judge.mjs" "${judge_peers[@]}" --results "$COMPAT_OUT" --markdown "$COMPAT_OUT/matrix.md"
