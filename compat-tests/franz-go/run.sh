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

# franz-go's own integration tests (package pkg/kgo of the pinned module, from the module cache) pointed
# at kbroker with KGO_SEEDS. Tests listed in kgo-tests-skip.txt (one name per line, # comments) are
# excluded; today it lists none: every test that does not skip itself passes.
kgo_tests() {
  local v src skip
  v=$(grep 'twmb/franz-go v' "$HERE/go.mod" | awk '{print $2}')
  src="$CACHE/franz-go/src-$v"
  if [ ! -d "$src" ]; then
    cp -r "$(cd "$HERE" && go mod download -json "github.com/twmb/franz-go@$v" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')" "$src"
    chmod -R u+w "$src"
  fi
  skip=$( { grep -v -E '^\s*(#|$)' "$HERE/kgo-tests-skip.txt" || true; } | paste -sd'|')
  (cd "$src/pkg/kgo" && KGO_SEEDS="$BOOTSTRAP" KGO_TEST_RF=1 KGO_TEST_RECORDS=20000 KGO_LOG_LEVEL=none \
    go test -count=1 -timeout 480s -json ${skip:+-skip "^($skip)\$"} .) >"$COMPAT_OUT/franz-go.kgo-tests.json" || true
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
    const r = {}; let pkg = null;
    for (const l of lines) { let e; try { e = JSON.parse(l); } catch { continue; }
      if (e.Test && !e.Test.includes("/") && ["pass", "fail", "skip"].includes(e.Action)) r[e.Test] = e.Action;
      if (!e.Test && ["pass", "fail"].includes(e.Action)) pkg = e.Action; }
    const by = (a) => Object.keys(r).filter((t) => r[t] === a);
    console.log(`kgo tests: ${by("pass").length} passed, ${by("fail").length} failed, ${by("skip").length} skipped (${by("skip").join(" ")})`);
    if (by("fail").length) console.log(`failed: ${by("fail").join(" ")}`);
    process.exit(pkg === "pass" && by("fail").length === 0 && by("pass").length > 0 ? 0 : 1);
  ' "$COMPAT_OUT/franz-go.kgo-tests.json"
}
compat_feature integration-tests kgo_tests
compat_finish
