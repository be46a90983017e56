#!/usr/bin/env bash
# franz-go (kgo + kadm from the Go module proxy, pinned in go.mod/go.sum) against a fresh kbroker.
#   compat-tests/franz-go/run.sh [--install-only] [feature...]
source "$(dirname "$0")/../lib/common.sh"
compat_init franz-go
HERE="$REPO/compat-tests/franz-go"
BIN="$CACHE/franz-go/franz-go-compat"
install_only=""; [ "${1:-}" = "--install-only" ] && { install_only=1; shift; }
build() {
  mkdir -p "$CACHE/franz-go"
  (cd "$HERE" && go mod download && go build -o "$BIN" .)
}
compat_timed_install "franz-go $(grep 'twmb/franz-go v' "$HERE/go.mod" | awk '{print $2}') (Go module proxy) + go build" build
[ -n "$install_only" ] && exit 0
compat_start_broker --override num.partitions=3
timeout -k 10 900 "$BIN" "$BOOTSTRAP" "$@" >"$COMPAT_OUT/franz-go.log" 2>&1 || compat_log "scenario exited $? (see $COMPAT_OUT/franz-go.log)"
grep '^RESULT ' "$COMPAT_OUT/franz-go.log" | cut -c8- | sed 's/^/  /' || true
compat_finish
