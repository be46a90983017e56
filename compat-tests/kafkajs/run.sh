#!/usr/bin/env bash
# kafkajs (devDependency, installed by npm ci from the npm registry) against a fresh kbroker.
#   compat-tests/kafkajs/run.sh [feature...]
source "$(dirname "$0")/../lib/common.sh"
compat_init kafkajs
[ -d "$REPO/node_modules/kafkajs" ] || { echo "kafkajs not installed: npm ci"; exit 1; }
compat_start_broker --override num.partitions=3
timeout -k 10 900 node "$REPO/compat-tests/kafkajs/scenario.mjs" "$BOOTSTRAP" "$@" >"$COMPAT_OUT/kafkajs.log" 2>&1 \
  || compat_log "scenario exited $? (see $COMPAT_OUT/kafkajs.log)"
grep '^RESULT ' "$COMPAT_OUT/kafkajs.log" | cut -c8- | sed 's/^/  /' || true
compat_finish
