#!/usr/bin/env bash
# Security with clients nobody here wrote (issue 15): Kafka's own tools (4.4.0 from Maven Central,
# the kafka-tools suite's launchers and jars) and kcat / librdkafka against a kbroker with TLS,
# SASL and Kafka's StandardAuthorizer:
#   - SCRAM credentials made and listed by kafka-configs --entity-type users (--command-config);
#   - ACLs added, listed and removed by kafka-acls;
#   - the console producer/consumer as the SCRAM-SHA-512 user over SASL_SSL: allowed topic and
#     group work, another topic gets TopicAuthorizationException;
#   - mTLS: the client certificate's CN (ssl.principal.mapping.rules) is the principal;
#   - kcat over SASL_SSL/SCRAM-SHA-512 and mTLS; a wrong password fails with Kafka's message.
# Certificates: a dev CA made by kbroker's own helper (openssl CLI).
#
#   compat-tests/security/run.sh [--install-only]
source "$(dirname "$0")/../lib/common.sh"
compat_init security
compat_kafka_tools "${KAFKA_TOOLS_VERSION:-4.4.0}"
[ "${1:-}" = "--install-only" ] && exit 0
command -v openssl >/dev/null || { echo "openssl is needed for the dev certificates"; exit 1; }

WORK="$(mktemp -d)"
trap 'compat_cleanup; rm -rf "$WORK"' EXIT
node -e "import('$REPO/dist/security/dev-certs.js').then((m) => m.makeDevCerts('$WORK/certs', { clients: ['alice', 'mallory'] }))"
C="$WORK/certs"

PLAIN_JAAS='org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";'
cat >"$WORK/server.properties" <<PROPS
listeners=SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0
ssl.keystore.type=PEM
ssl.keystore.location=$C/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$C/ca.pem
listener.name.ssl.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]+),.*\$/\$1/L,DEFAULT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512,SCRAM-SHA-256
listener.name.sasl_ssl.plain.sasl.jaas.config=$PLAIN_JAAS
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
# KIP-368: every SASL session lasts 4 s, so the Java clients of every feature re-authenticate.
connections.max.reauth.ms=4000
delegation.token.secret.key=compat-token-secret
PROPS
# The CLI's --host/--port would replace listeners: the file sets them.
BROKER_DATA="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-security.XXXXXX")"
BROKER_LOG="$COMPAT_OUT/security.broker.log"
node "$REPO/bin/kbroker.js" start --config "$WORK/server.properties" --data-dir "$BROKER_DATA" \
  --log-level "${COMPAT_BROKER_LOG_LEVEL:-warn}" >"$BROKER_LOG" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 200); do grep -q 'listener SSL' "$BROKER_LOG" 2>/dev/null && break; kill -0 "$BROKER_PID" || break; sleep 0.1; done
SASL_SSL="$(grep -o 'listener SASL_SSL (SASL_SSL) on [^ ]*' "$BROKER_LOG" | awk '{print $5}')"
MTLS="$(grep -o 'listener SSL (SSL) on [^ ]*' "$BROKER_LOG" | awk '{print $5}')"
[ -n "$SASL_SSL" ] && [ -n "$MTLS" ] || { echo "kbroker did not start:"; cat "$BROKER_LOG"; exit 1; }
compat_log "kbroker pid $BROKER_PID: SASL_SSL $SASL_SSL, SSL (mTLS) $MTLS"

client_props() { # file mechanism user password
  cat >"$1" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=$2
sasl.jaas.config=org.apache.kafka.common.security.$([ "$2" = PLAIN ] && echo plain.PlainLoginModule || echo scram.ScramLoginModule) required username="$3" password="$4";
ssl.truststore.type=PEM
ssl.truststore.location=$C/ca.pem
PROPS
}
client_props "$WORK/admin.properties" PLAIN admin admin-secret
client_props "$WORK/alice.properties" SCRAM-SHA-512 alice alice-secret
client_props "$WORK/wrong.properties" SCRAM-SHA-512 alice not-her-password
cat >"$WORK/alice-mtls.properties" <<PROPS
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=$C/ca.pem
ssl.keystore.type=PEM
ssl.keystore.location=$C/alice.pem
PROPS
sed "s/alice/mallory/g" "$WORK/alice-mtls.properties" >"$WORK/mallory-mtls.properties"

T=40
tool() { local t="$1"; shift; timeout -k 5 "$T" "$BIN/$t" "$@"; }
fail() { echo "FAILED: $*" >&2; return 1; }
admin() { local t="$1"; shift; tool "$t" --bootstrap-server "$SASL_SSL" --command-config "$WORK/admin.properties" "$@"; }

f_scram_credentials() {
  # One mechanism per request: Kafka's ScramControlManager answers a user altered twice in one
  # request DUPLICATE_RESOURCE (checked: kbroker does too).
  admin kafka-configs.sh --alter --entity-type users --entity-name alice \
    --add-config 'SCRAM-SHA-512=[iterations=8192,password=alice-secret]'
  admin kafka-configs.sh --alter --entity-type users --entity-name alice \
    --add-config 'SCRAM-SHA-256=[password=alice-secret]'
  ! grep -rq 'alice-secret' "$BROKER_DATA" || fail "the password is stored in the data dir"
}

# kafka-configs --describe --entity-type users asks DescribeClientQuotas as well as
# DescribeUserScramCredentials: a quota set on alice (AlterClientQuotas) is listed beside her
# SCRAM credentials.
f_scram_describe() {
  admin kafka-configs.sh --alter --entity-type users --entity-name alice --add-config producer_byte_rate=1048576
  admin kafka-configs.sh --describe --entity-type users --entity-name alice | tee "$WORK/users.txt"
  grep -q 'SCRAM-SHA-512=iterations=8192' "$WORK/users.txt" || fail "no SCRAM-SHA-512 credential listed"
  grep -q 'SCRAM-SHA-256=iterations=4096' "$WORK/users.txt" || fail "no SCRAM-SHA-256 credential listed"
  grep -q "Quota configs for user-principal 'alice' are producer_byte_rate=1048576" "$WORK/users.txt" || fail "alice's quota not listed"
  # Not a super user: alice may not describe them (ALTER_CONFIGS / DESCRIBE_CONFIGS on the cluster).
  tool kafka-configs.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/alice.properties" \
    --describe --entity-type users --entity-name alice >"$WORK/users-alice.txt" 2>&1 || true
  grep -q 'ClusterAuthorizationException' "$WORK/users-alice.txt" || { cat "$WORK/users-alice.txt"; fail "alice was not refused"; }
  admin kafka-configs.sh --alter --entity-type users --entity-name alice --delete-config producer_byte_rate
}

f_acls_add_list() {
  admin kafka-topics.sh --create --topic a-orders --partitions 2
  admin kafka-topics.sh --create --topic b-orders --partitions 1
  admin kafka-acls.sh --add --allow-principal User:alice --operation Write --operation Read \
    --topic a- --resource-pattern-type prefixed
  admin kafka-acls.sh --add --allow-principal User:alice --operation Read --group g
  admin kafka-acls.sh --list | tee "$WORK/acls.txt"
  grep -q 'name=a-, patternType=PREFIXED' "$WORK/acls.txt" || fail "prefixed topic ACL not listed"
  grep -q 'principal=User:alice, host=\*, operation=WRITE, permissionType=ALLOW' "$WORK/acls.txt" || fail "WRITE ACL not listed"
  grep -q 'resourceType=GROUP, name=g' "$WORK/acls.txt" || fail "group ACL not listed"
}

f_scram_produce_consume() {
  seq 1 20 | sed 's/^/line-/' >"$WORK/lines.txt"
  tool kafka-console-producer.sh --bootstrap-server "$SASL_SSL" --producer.config "$WORK/alice.properties" \
    --topic a-orders <"$WORK/lines.txt"
  tool kafka-console-consumer.sh --bootstrap-server "$SASL_SSL" --consumer.config "$WORK/alice.properties" \
    --topic a-orders --group g --from-beginning --max-messages 20 --timeout-ms 20000 >"$WORK/consumed.txt"
  sort "$WORK/lines.txt" | diff - <(grep '^line-' "$WORK/consumed.txt" | sort) || fail "consumed lines differ"
}

f_scram_denied() {
  echo nope | tool kafka-console-producer.sh --bootstrap-server "$SASL_SSL" --producer.config "$WORK/alice.properties" \
    --topic b-orders --producer-property max.block.ms=5000 >"$WORK/denied.txt" 2>&1 || true
  grep -q 'TopicAuthorizationException' "$WORK/denied.txt" || { cat "$WORK/denied.txt"; fail "no TopicAuthorizationException"; }
  tool kafka-topics.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/alice.properties" --list | tee "$WORK/alice-list.txt"
  grep -qx a-orders "$WORK/alice-list.txt" || fail "alice does not see a-orders"
  ! grep -qx b-orders "$WORK/alice-list.txt" || fail "alice sees b-orders"
}

# A producer that runs ~10 s on one connection must re-authenticate twice (sessions of 4 s); a
# client that did not would meet the broker closing its connection ("SASL session expired").
f_sasl_reauth() {
  admin kafka-topics.sh --create --topic a-reauth --partitions 1
  tool kafka-producer-perf-test.sh --bootstrap-server "$SASL_SSL" --topic a-reauth --num-records 2000 --record-size 100 --throughput 200 \
    --producer.config "$WORK/alice.properties" --producer-props acks=all 2>&1 | tee "$WORK/reauth.txt"
  grep -q '^2000 records sent' "$WORK/reauth.txt" || fail "perf test did not send 2000 records"
  ! grep -qiE 'exception|error' "$WORK/reauth.txt" || fail "errors during the run"
  local n
  n=$(tool kafka-get-offsets.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/admin.properties" --topic a-reauth --time -1 | awk -F: '{s+=$3} END {print s+0}')
  [ "$n" -eq 2000 ] || fail "a-reauth holds $n records, not 2000"
  ! grep -q 'SASL session expired' "$COMPAT_OUT/security.broker.log" || fail "a client let its SASL session expire"
}

# Delegation tokens (KIP-48) as kafka-delegation-tokens makes them and the Java clients use them: alice
# creates one (admin may renew it), describes it, produces and consumes with SCRAM as the token
# (tokenauth=true: user name the token id, password the HMAC) under her own ACLs; admin renews it;
# alice expires it, and the token no longer authenticates.
f_delegation_tokens() {
  local id hmac
  admin kafka-topics.sh --create --topic a-tokens --partitions 1
  tool kafka-delegation-tokens.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/alice.properties" \
    --create --max-life-time-period -1 --renewer-principal User:admin | tee "$WORK/token.txt"
  id=$(sed -n 's/^Created delegation token with tokenId : //p' "$WORK/token.txt")
  hmac=$(awk -v id="$id" '$1 == id {print $2}' "$WORK/token.txt")
  [ -n "$id" ] && [ -n "$hmac" ] || fail "no token id and HMAC printed"
  grep -q "User:alice" "$WORK/token.txt" || fail "alice is not the owner"
  # Without --owner-principal the tool sends an empty owner list, which Kafka answers with no token.
  tool kafka-delegation-tokens.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/alice.properties" \
    --describe --owner-principal User:alice | tee "$WORK/token-describe.txt"
  grep -q "^$id " "$WORK/token-describe.txt" || fail "the token is not described"
  cat >"$WORK/token.properties" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$id" password="$hmac" tokenauth="true";
ssl.truststore.type=PEM
ssl.truststore.location=$C/ca.pem
PROPS
  seq 1 10 | sed 's/^/token-line-/' >"$WORK/token-lines.txt"
  tool kafka-console-producer.sh --bootstrap-server "$SASL_SSL" --producer.config "$WORK/token.properties" \
    --topic a-tokens <"$WORK/token-lines.txt"
  tool kafka-console-consumer.sh --bootstrap-server "$SASL_SSL" --consumer.config "$WORK/token.properties" \
    --topic a-tokens --group g --from-beginning --max-messages 10 --timeout-ms 20000 >"$WORK/token-consumed.txt"
  diff "$WORK/token-lines.txt" <(grep '^token-line-' "$WORK/token-consumed.txt") || fail "lines read with the token differ"
  admin kafka-delegation-tokens.sh --renew --renew-time-period -1 --hmac "$hmac" | tee "$WORK/token-renew.txt"
  grep -q 'Completed renew operation' "$WORK/token-renew.txt" || fail "admin (a renewer) could not renew"
  tool kafka-delegation-tokens.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/alice.properties" \
    --expire --expiry-time-period -1 --hmac "$hmac" | tee "$WORK/token-expire.txt"
  grep -q 'Completed expire operation' "$WORK/token-expire.txt" || fail "alice could not expire her token"
  echo late | tool kafka-console-producer.sh --bootstrap-server "$SASL_SSL" --producer.config "$WORK/token.properties" \
    --topic a-tokens --producer-property max.block.ms=5000 >"$WORK/token-late.txt" 2>&1 || true
  grep -q 'SaslAuthenticationException' "$WORK/token-late.txt" || { cat "$WORK/token-late.txt"; fail "the expired token still authenticates"; }
}

f_wrong_password() {
  tool kafka-topics.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/wrong.properties" --list >"$WORK/wrong.txt" 2>&1 || true
  grep -q 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512' "$WORK/wrong.txt" \
    || { cat "$WORK/wrong.txt"; fail "no SaslAuthenticationException with Kafka's message"; }
}

f_mtls_principal() {
  echo mtls-line | tool kafka-console-producer.sh --bootstrap-server "$MTLS" --producer.config "$WORK/alice-mtls.properties" --topic a-orders
  echo nope | tool kafka-console-producer.sh --bootstrap-server "$MTLS" --producer.config "$WORK/mallory-mtls.properties" \
    --topic a-orders --producer-property max.block.ms=5000 >"$WORK/mallory.txt" 2>&1 || true
  grep -q 'TopicAuthorizationException' "$WORK/mallory.txt" || { cat "$WORK/mallory.txt"; fail "mallory was not refused"; }
}

kcat_scram() { timeout 30 kcat -b "$SASL_SSL" -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 \
  -X sasl.username=alice -X "sasl.password=$1" -X ssl.ca.location="$C/ca.pem" "${@:2}"; }

f_kcat_sasl_ssl() {
  # alice may not CREATE topics (auto-creation needs it too): the admin makes a-kcat.
  admin kafka-topics.sh --create --topic a-kcat --partitions 1
  printf 'k1\nk2\nk3\n' | kcat_scram alice-secret -P -t a-kcat -p 0
  kcat_scram alice-secret -C -t a-kcat -p 0 -o beginning -c 3 -e >"$WORK/kcat.txt"
  diff <(printf 'k1\nk2\nk3\n') "$WORK/kcat.txt" || fail "kcat read back differs"
  ! kcat_scram wrong -L >"$WORK/kcat-wrong.txt" 2>&1 || fail "wrong password accepted"
  grep -qi 'Authentication failed' "$WORK/kcat-wrong.txt" || { cat "$WORK/kcat-wrong.txt"; fail "no authentication failure reported"; }
}

f_kcat_mtls() {
  timeout 30 kcat -b "$MTLS" -X security.protocol=SSL -X ssl.ca.location="$C/ca.pem" \
    -X ssl.certificate.location="$C/alice-cert.pem" -X ssl.key.location="$C/alice-key.pem" -L -t a-orders | tee "$WORK/kcat-mtls.txt"
  grep -q 'topic "a-orders" with 2 partitions' "$WORK/kcat-mtls.txt" || fail "alice (mTLS) does not see a-orders"
  ! timeout 15 kcat -b "$MTLS" -X security.protocol=SSL -X ssl.ca.location="$C/ca.pem" -L -m 5 >/dev/null 2>&1 \
    || fail "a client without a certificate was accepted"
}

f_acls_remove() {
  admin kafka-acls.sh --remove --force --allow-principal User:alice --operation Write --operation Read \
    --topic a- --resource-pattern-type prefixed
  admin kafka-acls.sh --list --topic a- --resource-pattern-type prefixed | tee "$WORK/acls-after.txt"
  ! grep -q 'User:alice' "$WORK/acls-after.txt" || fail "alice's topic ACLs still listed"
  tool kafka-topics.sh --bootstrap-server "$SASL_SSL" --command-config "$WORK/alice.properties" --list | tee "$WORK/alice-list2.txt"
  ! grep -qx a-orders "$WORK/alice-list2.txt" || fail "alice still sees a-orders"
}

compat_feature scram-credentials f_scram_credentials
compat_feature scram-describe f_scram_describe
compat_feature acls-add-list f_acls_add_list
compat_feature sasl-ssl-scram-produce-consume f_scram_produce_consume
compat_feature sasl-ssl-topic-denied f_scram_denied
compat_feature sasl-reauth f_sasl_reauth
compat_feature sasl-wrong-password f_wrong_password
compat_feature delegation-tokens f_delegation_tokens
compat_feature mtls-principal f_mtls_principal
compat_feature kcat-sasl-ssl-scram f_kcat_sasl_ssl
compat_feature kcat-mtls f_kcat_mtls
compat_feature acls-remove f_acls_remove
compat_finish
