#!/usr/bin/env bash
# @platformatic/kafka (devDependency, pinned in package.json, installed by npm ci from the npm registry) against a fresh kbroker.
#   compat-tests/platformatic-kafka/run.sh [feature...]
source "$(dirname "$0")/../lib/common.sh"
compat_init platformatic-kafka
[ -d "$REPO/node_modules/@platformatic/kafka" ] || { echo "@platformatic/kafka not installed: npm ci"; exit 1; }
compat_start_broker --override num.partitions=3
timeout -k 10 900 node "$REPO/compat-tests/platformatic-kafka/scenario.mjs" "$BOOTSTRAP" "$@" >"$COMPAT_OUT/platformatic-kafka.log" 2>&1 \
  || compat_log "scenario exited $? (see $COMPAT_OUT/platformatic-kafka.log)"
grep '^RESULT ' "$COMPAT_OUT/platformatic-kafka.log" | cut -c8- | sed 's/^/  /' || true
compat_finish
