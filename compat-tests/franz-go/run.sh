#!/usr/bin/env bash
# franz-go (kgo + kadm from the Go module proxy, pinned in go.mod/go.sum) against a fresh kbroker,
# then (secure.go) over SASL_SSL with SCRAM-SHA-512 and over mTLS against a second, secure kbroker.
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
compat_feature fetch-sessions compat_fetch_sessions

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

# Security (issue 15), secure.go: a second kbroker with a SASL_SSL listener (SCRAM-SHA-512 for
# alice, whose credential the PLAIN user admin creates with AlterUserScramCredentials) and an SSL
# listener with ssl.client.auth=required; certificates from kbroker's dev CA helper (openssl CLI).
compat_stop_broker
[ -n "${COMPAT_KEEP_DATA:-}" ] || rm -rf "$BROKER_DATA"
command -v openssl >/dev/null || { echo "openssl is needed for the dev certificates"; exit 1; }
SEC="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-franz-go-sec.XXXXXX")"
trap 'compat_cleanup; rm -rf "$SEC"' EXIT
node -e "import('$REPO/dist/security/dev-certs.js').then((m) => m.makeDevCerts('$SEC/certs', { clients: ['alice'] }))"
cat >"$SEC/server.properties" <<PROPS
listeners=SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0
num.partitions=3
ssl.keystore.type=PEM
ssl.keystore.location=$SEC/certs/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SEC/certs/ca.pem
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";
PROPS
BROKER_DATA="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-franz-go.XXXXXX")"
BROKER_LOG="$COMPAT_OUT/franz-go.secure-broker.log"
node "$REPO/bin/kbroker.js" start --config "$SEC/server.properties" --data-dir "$BROKER_DATA" \
  --log-level "${COMPAT_BROKER_LOG_LEVEL:-warn}" >"$BROKER_LOG" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 200); do grep -q 'listener SSL' "$BROKER_LOG" 2>/dev/null && break; kill -0 "$BROKER_PID" || break; sleep 0.1; done
SASL_SSL="$(grep -o 'listener SASL_SSL (SASL_SSL) on [^ ]*' "$BROKER_LOG" | awk '{print $5}')"
MTLS="$(grep -o 'listener SSL (SSL) on [^ ]*' "$BROKER_LOG" | awk '{print $5}')"
[ -n "$SASL_SSL" ] && [ -n "$MTLS" ] || { echo "secure kbroker did not start:"; cat "$BROKER_LOG"; exit 1; }
compat_log "secure kbroker pid $BROKER_PID: SASL_SSL $SASL_SSL, SSL (mTLS) $MTLS"
FGO_CA="$SEC/certs/ca.pem" FGO_MTLS="$MTLS" FGO_CERT="$SEC/certs/alice-cert.pem" FGO_KEY="$SEC/certs/alice-key.pem" \
  timeout -k 10 300 "$BIN" "$SASL_SSL" "$@" >"$COMPAT_OUT/franz-go.secure.log" 2>&1 \
  || compat_log "secure scenario exited $? (see $COMPAT_OUT/franz-go.secure.log)"
grep '^RESULT ' "$COMPAT_OUT/franz-go.secure.log" | cut -c8- | sed 's/^/  /' || true
compat_finish
