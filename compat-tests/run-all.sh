#!/usr/bin/env bash
# Runs every compat suite (or the named ones), then judges all results against matrix.json and
# prints the peer × feature matrix. Exit code 1 only if a feature matrix.json declares "pass"
# failed (or did not report); pending/incompatible features are run and reported, never fatal.
#
#   compat-tests/run-all.sh [suite...]        suites: the folders below
# Env: COMPAT_NO_BUILD=1 (skip npm run build), COMPAT_CACHE (downloads; default compat-tests/.cache),
#      COMPAT_OUT (results; default $COMPAT_CACHE/results).
# Writes $COMPAT_OUT/matrix.md (the README's matrix, from this run) and $COMPAT_OUT/durations.tsv.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
export COMPAT_CACHE="${COMPAT_CACHE:-$HERE/.cache}"
export COMPAT_OUT="${COMPAT_OUT:-$COMPAT_CACHE/results}"
ALL=(kafka-tools java-client kafka-streams kafka-connect kafka-python confluent-kafka-pypi franz-go kafkajs platformatic-kafka security cluster-failover share-groups)
declare -A PEERS=(
  [kafka-tools]="kafka-tools" [java-client]="java-client-3.9 java-client-4.4" [kafka-streams]="kafka-streams kafka-streams-4.3"
  [kafka-python]="kafka-python-2.0 kafka-python-3" [confluent-kafka-pypi]="confluent-kafka-pypi"
  [franz-go]="franz-go" [kafkajs]="kafkajs" [platformatic-kafka]="platformatic-kafka" [kafka-connect]="kafka-connect"
  [security]="security"
  [cluster-failover]="cluster-failover"
  [share-groups]="java-share kafka-tools-share"
)
suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=("${ALL[@]}")

mkdir -p "$COMPAT_OUT"
rm -f "$COMPAT_OUT"/*.tsv "$COMPAT_OUT"/*.install "$COMPAT_OUT"/*.log
if [ -z "${COMPAT_NO_BUILD:-}" ]; then (cd "$REPO" && npm run build >/dev/null) || { echo "npm run build failed"; exit 1; }; fi

t_all=$SECONDS
printf 'suite\tinstall_s\ttotal_s\texit\n' >"$COMPAT_OUT/durations.tsv"
judge_peers=()
for s in "${suites[@]}"; do
  [ -n "${PEERS[$s]:-}" ] || { echo "unknown suite $s (have: ${ALL[*]})"; exit 2; }
  echo "=== $s"
  t0=$SECONDS
  "$HERE/$s/run.sh" 2>&1 | sed -u "s/^/  /" | grep -v -E '^\s+(==|  ok |  pending|  KNOWN|  FAIL|  XPASS|  UNLISTED|compat:|$)' || true
  rc=${PIPESTATUS[0]}
  inst=$(cat "$COMPAT_OUT/$s.install" 2>/dev/null | awk -F'\t' '{s+=$1} END {print s+0}')
  printf '%s\t%s\t%s\t%s\n' "$s" "$inst" "$((SECONDS - t0))" "$rc" >>"$COMPAT_OUT/durations.tsv"
  echo "=== $s: ${inst}s install, $((SECONDS - t0))s in all, exit $rc"
  for p in ${PEERS[$s]}; do judge_peers+=(--peer "$p"); done
done

echo
echo "=== durations (seconds)"
column -t -s $'\t' "$COMPAT_OUT/durations.tsv" 2>/dev/null || cat "$COMPAT_OUT/durations.tsv"
echo "all suites: $((SECONDS - t_all))s"
node "$HERE/lib/judge.mjs" "${judge_peers[@]}" --results "$COMPAT_OUT" --markdown "$COMPAT_OUT/matrix.md"
