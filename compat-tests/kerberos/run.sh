#!/usr/bin/env bash
# SASL/GSSAPI (Kerberos 5) with clients nobody here wrote, against a real MIT KDC: Kafka's own
# tools (4.4.0 from Maven Central, the kafka-tools suite's launchers and jars; the JDK's
# Krb5LoginModule) and kcat (librdkafka over Cyrus SASL's GSSAPI plugin, MIT libgssapi).
#   - a throwaway MIT KDC (krb5kdc, kdb5_util, kadmin.local) in a temp dir, realm KBROKER.TEST, on a
#     free 127.0.0.1 port (UDP and TCP), with its own krb5.conf (KRB5_CONFIG) and kdc.conf
#     (KRB5_KDC_PROFILE): principals kafka/localhost, kafka-other/localhost, alice, bob, carol;
#   - kbroker with a SASL_PLAINTEXT and a SASL_SSL listener (advertised as localhost: the clients
#     ask the KDC for kafka/localhost; the TLS certificate from kbroker's dev CA), GSSAPI with the
#     keytab of kafka/localhost on both, StandardAuthorizer, super.users=User:alice and a
#     principal-to-local RULE mapping bob@KBROKER.TEST to robert;
#   - alice (super user) creates and lists topics, produces and consumes; bob gets ACLs as
#     User:robert and uses kcat; a stale service ticket (kcat) and a ticket for a service the
#     broker's keytab lacks (Java) are refused, and the broker goes on serving the others; alice
#     (Java) and bob (kcat) again over SASL_SSL: Kerberos inside TLS, where sessions last 4 s
#     (KIP-368, listener.name.sasl_ssl.connections.max.reauth.ms): a 10 s producer re-authenticates.
#
#   compat-tests/kerberos/run.sh [--install-only]
# Env: KRB_BROKER=kafka runs the same features against Apache Kafka (KRaft, one node) instead of
#      kbroker, with the jars of bench/kafka/pom.xml in KRB_KAFKA_LIB (default
#      compat-tests/.cache/kafka-bench-4.3.1/lib, as `npm run bench:kafka` installs them); that is
#      how this suite was validated (FINDINGS.md).
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh disable=SC1091
source "$(dirname "$0")/../lib/common.sh"
compat_init kerberos
compat_kafka_tools "${KAFKA_TOOLS_VERSION:-4.4.0}"
[ "${1:-}" = "--install-only" ] && exit 0

for c in krb5kdc kdb5_util kadmin.local kinit kvno kcat openssl; do
  command -v "$c" >/dev/null || { echo "$c is needed (apt: krb5-kdc krb5-admin-server krb5-user kcat libsasl2-modules-gssapi-mit)"; exit 1; }
done
[ -n "$(find /usr/lib -path '*/sasl2/libgssapiv2.so*' -print -quit 2>/dev/null)" ] \
  || { echo "Cyrus SASL's GSSAPI plugin is needed (apt: libsasl2-modules-gssapi-mit)"; exit 1; }

REALM=KBROKER.TEST
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-kerberos.XXXXXX")"
K="$WORK/kdc"
mkdir -p "$K"
KDC_PID=""
stop_kdc() { [ -z "$KDC_PID" ] || { kill "$KDC_PID" 2>/dev/null || true; wait "$KDC_PID" 2>/dev/null || true; KDC_PID=""; }; }
trap 'compat_cleanup; stop_kdc; rm -rf "$WORK"' EXIT
export KRB5_CONFIG="$K/krb5.conf" KRB5_KDC_PROFILE="$K/kdc.conf"
# Nothing of this machine's Kerberos: no default ccache, no /etc/krb5.keytab, no replay cache in /var/tmp.
export KRB5CCNAME="FILE:$WORK/cc.default" KRB5_KTNAME="FILE:$WORK/none.keytab" KRB5RCACHEDIR="$WORK"
KDC_LOG="$COMPAT_OUT/kerberos.kdc.log"

# krb5.conf for every client (MIT's and the JDK's, -Djava.security.krb5.conf) and kbroker:
# no DNS and no reverse DNS, so the service principal is kafka/<the host the client dialled>;
# TCP to the KDC (udp_preference_limit = 1), as the JDK and MIT agree on it.
write_krb5_conf() { # port
  cat >"$K/krb5.conf" <<CONF
[libdefaults]
  default_realm = $REALM
  dns_lookup_realm = false
  dns_lookup_kdc = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  ticket_lifetime = 1h
  forwardable = false
[realms]
  $REALM = {
    kdc = 127.0.0.1:$1
  }
[domain_realm]
  localhost = $REALM
CONF
  cat >"$K/kdc.conf" <<CONF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$1
  kdc_tcp_listen = 127.0.0.1:$1
[realms]
  $REALM = {
    database_name = $K/principal
    key_stash_file = $K/stash
    acl_file = $K/kadm5.acl
    max_life = 1h
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:$KDC_LOG
  default = FILE:$KDC_LOG
CONF
}

# The KDC: its database, the principals and keytabs, krb5kdc -n (in the foreground of its own
# background job). A port taken between compat_free_port and the bind: another port.
start_kdc() {
  local try port
  for try in 1 2 3; do
    port=$(compat_free_port)
    write_krb5_conf "$port"
    : >"$KDC_LOG"
    krb5kdc -n -P "$K/kdc.pid" >>"$KDC_LOG" 2>&1 &
    KDC_PID=$!
    for _ in $(seq 1 50); do grep -q 'commencing operation' "$KDC_LOG" && break; kill -0 "$KDC_PID" 2>/dev/null || break; sleep 0.1; done
    if grep -q 'commencing operation' "$KDC_LOG" && kill -0 "$KDC_PID" 2>/dev/null; then
      compat_log "MIT KDC pid $KDC_PID on 127.0.0.1:$port (UDP and TCP), realm $REALM (try $try)"
      return 0
    fi
    stop_kdc
  done
  echo "krb5kdc did not start:"; cat "$KDC_LOG"; return 1
}

# The database (its port-independent paths come from kdc.conf, written once for the create).
write_krb5_conf 88
kdb5_util -r "$REALM" create -s -P "master-$RANDOM$RANDOM" >"$WORK/kdb5_util.out" 2>&1 \
  || { cat "$WORK/kdb5_util.out"; exit 1; }
kadm() { kadmin.local -r "$REALM" >>"$WORK/kadmin.out" 2>&1; }
# kafka/localhost keeps kvno 1 until carol holds a ticket for it (below); ktadd re-keys (kvno 2).
kadm <<CMDS
addprinc -randkey kafka/localhost
addprinc -randkey kafka-other/localhost
addprinc -randkey alice
addprinc -randkey bob
addprinc -randkey carol
ktadd -k $K/alice.keytab alice
ktadd -k $K/bob.keytab bob
ktadd -k $K/carol.keytab carol
CMDS
start_kdc
# carol's ticket for kafka/localhost of the key before the broker's keytab was made: a stale ticket.
KRB5CCNAME="FILE:$K/cc.carol" kinit -k -t "$K/carol.keytab" "carol@$REALM"
KRB5CCNAME="FILE:$K/cc.carol" kvno "kafka/localhost@$REALM" >"$WORK/carol-kvno.txt"
kadm <<CMDS
ktadd -k $K/kafka.keytab kafka/localhost
CMDS
grep -q "kafka/localhost@$REALM: kvno = 1" "$WORK/carol-kvno.txt" || { cat "$WORK/carol-kvno.txt" "$WORK/kadmin.out"; exit 1; }
for f in alice bob carol kafka; do [ -s "$K/$f.keytab" ] || { echo "no keytab $f"; cat "$WORK/kadmin.out"; exit 1; }; done

JAAS_BROKER="com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\"$K/kafka.keytab\" principal=\"kafka/localhost@$REALM\";"
# The SASL_SSL listener's certificate (for localhost and 127.0.0.1) from kbroker's dev CA helper.
C="$WORK/certs"
node -e "import('$REPO/dist/security/dev-certs.js').then((m) => m.makeDevCerts('$C', { clients: [] }))"
# The broker's settings (kbroker reads exactly these; Kafka gets its KRaft ones besides).
BROKER_PROPS="sasl.enabled.mechanisms=GSSAPI
sasl.kerberos.service.name=kafka
listener.name.sasl_plaintext.gssapi.sasl.jaas.config=$JAAS_BROKER
listener.name.sasl_ssl.gssapi.sasl.jaas.config=$JAAS_BROKER
listener.name.sasl_ssl.connections.max.reauth.ms=4000
ssl.keystore.type=PEM
ssl.keystore.location=$C/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$C/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
sasl.kerberos.principal.to.local.rules=RULE:[1:\$1@\$0](bob@$REALM)s/.*/robert/,DEFAULT
group.initial.rebalance.delay.ms=0"

BROKER_DATA="$(mktemp -d "${TMPDIR:-/tmp}/kbroker-compat-kerberos-data.XXXXXX")"
BROKER_LOG="$COMPAT_OUT/kerberos.broker.log"
KRB_JVM="-Djava.security.krb5.conf=$K/krb5.conf"

start_kbroker() {
  cat >"$WORK/server.properties" <<PROPS
listeners=SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0
advertised.listeners=SASL_PLAINTEXT://localhost:0,SASL_SSL://localhost:0
super.users=User:alice
$BROKER_PROPS
PROPS
  HTTP_PORT=$(compat_free_port)
  node "$REPO/bin/kbroker.js" start --config "$WORK/server.properties" --data-dir "$BROKER_DATA" \
    --http-host 127.0.0.1 --http-port "$HTTP_PORT" --log-level "${COMPAT_BROKER_LOG_LEVEL:-warn}" >"$BROKER_LOG" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 200); do grep -q 'listener SASL_SSL' "$BROKER_LOG" 2>/dev/null && break; kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
  BOOTSTRAP="$(grep -o 'listener SASL_PLAINTEXT (SASL_PLAINTEXT) on [^ ]*' "$BROKER_LOG" | awk '{print $5}')"
  BOOTSTRAP_SSL="$(grep -o 'listener SASL_SSL (SASL_SSL) on [^ ]*' "$BROKER_LOG" | awk '{print $5}')"
}

# Apache Kafka, one KRaft node: the client listener as kbroker's, the controller and the
# inter-broker listener PLAINTEXT on their own ports (their principal ANONYMOUS a super user).
start_kafka() {
  local lib="${KRB_KAFKA_LIB:-$CACHE/kafka-bench-4.3.1/lib}" port sport cport iport
  [ -f "$lib/.complete" ] || { echo "no Kafka broker jars in $lib (npm run bench:kafka installs them)"; return 1; }
  port=$(compat_free_port); sport=$(compat_free_port); cport=$(compat_free_port); iport=$(compat_free_port)
  cat >"$WORK/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=SASL_PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport,INTERNAL://127.0.0.1:$iport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=SASL_PLAINTEXT://localhost:$port,SASL_SSL://localhost:$sport,INTERNAL://127.0.0.1:$iport
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
log.dirs=$BROKER_DATA/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
super.users=User:alice;User:ANONYMOUS
$BROKER_PROPS
PROPS
  cat >"$WORK/log4j2-kafka.properties" <<'PROPS'
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
logger.auth.name = org.apache.kafka.common.security.authenticator
logger.auth.level = DEBUG
logger.kerberos.name = org.apache.kafka.common.security.kerberos
logger.kerberos.level = DEBUG
PROPS
  local jvm=(-Xmx512M "$KRB_JVM" "-Dlog4j2.configurationFile=$WORK/log4j2-kafka.properties" -cp "$lib/*")
  java "${jvm[@]}" kafka.tools.StorageTool format -t "$(node -e 'let id; do id = require("crypto").randomBytes(16).toString("base64url"); while (id.startsWith("-")); console.log(id)')" \
    -c "$WORK/server.properties" >"$WORK/format.out" 2>&1 || { cat "$WORK/format.out"; return 1; }
  java "${jvm[@]}" kafka.Kafka "$WORK/server.properties" >"$BROKER_LOG" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 300); do grep -q 'Kafka Server started' "$BROKER_LOG" 2>/dev/null && break; kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
  grep -q 'Kafka Server started' "$BROKER_LOG" && BOOTSTRAP="localhost:$port" BOOTSTRAP_SSL="localhost:$sport"
}

BOOTSTRAP="" BOOTSTRAP_SSL="" HTTP_PORT=""
if [ "${KRB_BROKER:-kbroker}" = kafka ]; then start_kafka || true; else start_kbroker; fi
if [ -z "$BOOTSTRAP" ] || [ -z "$BOOTSTRAP_SSL" ]; then echo "the broker did not start:"; cat "$BROKER_LOG"; exit 1; fi
compat_log "${KRB_BROKER:-kbroker} pid $BROKER_PID on $BOOTSTRAP (SASL_PLAINTEXT) and $BOOTSTRAP_SSL (SASL_SSL), GSSAPI"

client_props() { # file principal [service name [security protocol]]
  cat >"$1" <<PROPS
security.protocol=${4:-SASL_PLAINTEXT}
sasl.mechanism=GSSAPI
sasl.kerberos.service.name=${3:-kafka}
sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="$K/$2.keytab" principal="$2@$REALM";
ssl.truststore.type=PEM
ssl.truststore.location=$C/ca.pem
PROPS
}
client_props "$WORK/alice.properties" alice
client_props "$WORK/alice-ssl.properties" alice kafka SASL_SSL
# alice asking for kafka-other/localhost: the KDC knows it, the broker's keytab does not.
client_props "$WORK/other-service.properties" alice kafka-other

T=40
export KAFKA_OPTS="$KRB_JVM"
tool() { local t="$1"; shift; timeout -k 5 "$T" "$BIN/$t" "$@"; }
fail() { echo "FAILED: $*" >&2; return 1; }
admin() { local t="$1"; shift; tool "$t" --bootstrap-server "$BOOTSTRAP" --command-config "$WORK/alice.properties" "$@"; }
admin_ssl() { local t="$1"; shift; tool "$t" --bootstrap-server "$BOOTSTRAP_SSL" --command-config "$WORK/alice-ssl.properties" "$@"; }
# kcat as bob: librdkafka runs kinit with bob's keytab into his own ccache.
BOB_GSSAPI=(-X sasl.mechanisms=GSSAPI -X sasl.kerberos.service.name=kafka -X sasl.kerberos.keytab="$K/bob.keytab"
  -X "sasl.kerberos.principal=bob@$REALM")
kcat_bob() {
  KRB5CCNAME="FILE:$K/cc.bob" timeout 30 kcat -b "$BOOTSTRAP" -X security.protocol=SASL_PLAINTEXT "${BOB_GSSAPI[@]}" "$@"
}
# The same over SASL_SSL, the broker's certificate checked against the dev CA.
kcat_bob_ssl() {
  KRB5CCNAME="FILE:$K/cc.bob" timeout 30 kcat -b "$BOOTSTRAP_SSL" -X security.protocol=SASL_SSL -X ssl.ca.location="$C/ca.pem" \
    "${BOB_GSSAPI[@]}" "$@"
}
# The KDC issued a ticket for SERVICE to CLIENT (its log: "ISSUE: ... CLIENT for SERVICE").
kdc_issued() { grep -q "ISSUE: .* $1@$REALM for $2@$REALM" "$KDC_LOG"; }

f_gssapi_admin() {
  admin kafka-topics.sh --create --topic k-alice --partitions 1
  admin kafka-topics.sh --create --topic k-bob --partitions 1
  admin kafka-topics.sh --create --topic k-other --partitions 1
  admin kafka-topics.sh --list | tee "$WORK/list.txt"
  for t in k-alice k-bob k-other; do grep -qx "$t" "$WORK/list.txt" || fail "$t not listed"; done
  kdc_issued alice kafka/localhost || fail "the KDC issued alice no ticket for kafka/localhost"
}

f_gssapi_produce_consume() {
  seq 1 20 | sed 's/^/krb-line-/' >"$WORK/lines.txt"
  tool kafka-console-producer.sh --bootstrap-server "$BOOTSTRAP" --producer.config "$WORK/alice.properties" \
    --topic k-alice <"$WORK/lines.txt"
  tool kafka-console-consumer.sh --bootstrap-server "$BOOTSTRAP" --consumer.config "$WORK/alice.properties" \
    --topic k-alice --group g-alice --from-beginning --max-messages 20 --timeout-ms 20000 >"$WORK/consumed.txt"
  diff "$WORK/lines.txt" <(grep '^krb-line-' "$WORK/consumed.txt") || fail "consumed lines differ"
}

# bob@KBROKER.TEST is User:robert by the RULE: an ACL for User:robert is his.
f_gssapi_acls() {
  admin kafka-acls.sh --add --allow-principal User:robert --operation Write --operation Read --topic k-bob
  admin kafka-acls.sh --list --topic k-bob | tee "$WORK/acls.txt"
  grep -q 'principal=User:robert, host=\*, operation=WRITE, permissionType=ALLOW' "$WORK/acls.txt" || fail "robert's WRITE ACL not listed"
  printf 'b1\nb2\nb3\n' | kcat_bob -P -t k-bob -p 0
  kcat_bob -C -t k-bob -p 0 -o beginning -c 3 -e >"$WORK/bob.txt"
  diff <(printf 'b1\nb2\nb3\n') "$WORK/bob.txt" || fail "bob's lines differ"
  echo nope | kcat_bob -P -t k-other -p 0 >"$WORK/bob-denied.txt" 2>&1 || true
  cat "$WORK/bob-denied.txt"
  grep -qi 'Topic authorization failed' "$WORK/bob-denied.txt" || { cat "$WORK/bob-denied.txt"; fail "bob was not refused k-other"; }
  kdc_issued bob kafka/localhost || fail "the KDC issued bob no ticket for kafka/localhost"
}

f_gssapi_kcat() {
  kcat_bob -L -J >"$WORK/bob-meta.json"
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const want = process.argv[2];
    if (!m.brokers.some((b) => b.name === want)) throw new Error(`no broker ${want}: ${JSON.stringify(m.brokers)}`);
    const topics = m.topics.map((t) => t.topic).sort().join(",");
    // bob may DESCRIBE k-bob only (READ/WRITE imply it): Metadata lists no other topic.
    if (topics !== "k-bob") throw new Error(`bob sees ${topics}`);
  ' "$WORK/bob-meta.json" "$BOOTSTRAP" || fail "metadata as bob: $(cat "$WORK/bob-meta.json")"
  printf 'key1:value 1\nkey2:value 2\n' | kcat_bob -P -t k-bob -p 0 -K: -z lz4 -H h=krb
  kcat_bob -C -t k-bob -p 0 -o -2 -e -f '%k=%s %h\n' >"$WORK/bob-keyed.txt"
  diff <(printf 'key1=value 1 h=krb\nkey2=value 2 h=krb\n') "$WORK/bob-keyed.txt" || fail "keyed records differ"
}

f_gssapi_bad_credentials() {
  # The JDK asks for kafka-other/localhost: the broker cannot decrypt the ticket.
  tool kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$WORK/other-service.properties" --list >"$WORK/other.txt" 2>&1 || true
  grep -v 'TGT renewal thread' "$WORK/other.txt" | head -5
  kdc_issued alice kafka-other/localhost || fail "the KDC issued no ticket for kafka-other/localhost"
  grep -q 'SaslAuthenticationException' "$WORK/other.txt" || { cat "$WORK/other.txt"; fail "no SaslAuthenticationException"; }
  grep -q 'Authentication failed during authentication due to invalid credentials with SASL mechanism GSSAPI' "$WORK/other.txt" \
    || { cat "$WORK/other.txt"; fail "not Kafka's message"; }
  # carol's cached ticket for kafka/localhost is of key version 1; the broker's keytab has 2.
  # No kinit (it would start her ccache afresh): librdkafka uses the stale ticket.
  ! KRB5CCNAME="FILE:$K/cc.carol" timeout 30 kcat -b "$BOOTSTRAP" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=GSSAPI \
    -X sasl.kerberos.service.name=kafka -X sasl.kerberos.kinit.cmd=true -L -m 5 >"$WORK/carol.txt" 2>&1 || fail "carol's stale ticket was accepted"
  head -3 "$WORK/carol.txt"
  grep -qi 'SASL authentication error' "$WORK/carol.txt" || { cat "$WORK/carol.txt"; fail "no SASL authentication error for carol"; }
  # The others are still served.
  admin kafka-topics.sh --list | grep -qx k-alice || fail "alice is no longer served"
  kcat_bob -L -t k-bob | grep -q 'topic "k-bob" with 1 partitions' || fail "bob is no longer served"
}

# Kerberos inside TLS: the same principals and ACLs over the SASL_SSL listener.
f_gssapi_sasl_ssl() {
  admin_ssl kafka-topics.sh --create --topic k-ssl --partitions 2
  admin_ssl kafka-acls.sh --add --allow-principal User:robert --operation Write --operation Read --topic k-ssl
  seq 1 10 | sed 's/^/ssl-line-/' >"$WORK/ssl-lines.txt"
  tool kafka-console-producer.sh --bootstrap-server "$BOOTSTRAP_SSL" --producer.config "$WORK/alice-ssl.properties" \
    --topic k-ssl <"$WORK/ssl-lines.txt"
  tool kafka-console-consumer.sh --bootstrap-server "$BOOTSTRAP_SSL" --consumer.config "$WORK/alice-ssl.properties" \
    --topic k-ssl --group g-alice-ssl --from-beginning --max-messages 10 --timeout-ms 20000 >"$WORK/ssl-consumed.txt"
  diff <(sort "$WORK/ssl-lines.txt") <(grep '^ssl-line-' "$WORK/ssl-consumed.txt" | sort) || fail "alice's lines over SASL_SSL differ"
  printf 'tls1\ntls2\n' | kcat_bob_ssl -P -t k-ssl -p 1
  kcat_bob_ssl -C -t k-ssl -p 1 -o -2 -e >"$WORK/bob-ssl.txt"
  diff <(printf 'tls1\ntls2\n') "$WORK/bob-ssl.txt" || fail "bob's lines over SASL_SSL differ"
  # Metadata over SASL_SSL names the brokers by their SASL_SSL address.
  kcat_bob_ssl -L -J >"$WORK/bob-ssl-meta.json"
  grep -q "\"name\":\"$BOOTSTRAP_SSL\"" "$WORK/bob-ssl-meta.json" || fail "metadata over SASL_SSL: $(cat "$WORK/bob-ssl-meta.json")"
}

# KIP-368 with Kerberos: a producer that runs ~10 s on one SASL_SSL connection (sessions of 4 s) must
# present a new AP-REQ (a fresh authenticator of its cached service ticket) twice; one that did not would
# meet the broker closing its connection. The JDK client re-authenticates; librdkafka 2.0.2 cannot (2.2+).
reauthentications() { # kbroker's successful-reauthentication-total so far, from its /metrics
  curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^kafka_server_socket_server_metrics_successful_reauthentication_total/ {print int($2)}'
}
f_gssapi_reauth() {
  local before=0
  [ -z "$HTTP_PORT" ] || before=$(reauthentications)
  admin_ssl kafka-topics.sh --create --topic k-reauth --partitions 1
  tool kafka-producer-perf-test.sh --bootstrap-server "$BOOTSTRAP_SSL" --topic k-reauth --num-records 2000 --record-size 100 \
    --throughput 200 --producer.config "$WORK/alice-ssl.properties" --producer-props acks=all 2>&1 | tee "$WORK/reauth.txt"
  grep -q '^2000 records sent' "$WORK/reauth.txt" || fail "perf test did not send 2000 records"
  ! grep -v 'TGT renewal thread' "$WORK/reauth.txt" | grep -qiE 'exception|error' || fail "errors during the run"
  local n
  n=$(admin_ssl kafka-get-offsets.sh --topic k-reauth --time -1 | awk -F: '{s+=$3} END {print s+0}')
  [ "$n" -eq 2000 ] || fail "k-reauth holds $n records, not 2000"
  # kbroker names a session that ran out (Kafka's broker closes it without an INFO line), and counts
  # re-authentications as Kafka's successful-reauthentication-total (Kafka's DEBUG log: "Set SASL server
  # state to COMPLETE during re-authentication", twice in its run).
  if [ -n "$HTTP_PORT" ]; then
    ! grep -q 'SASL session expired' "$BROKER_LOG" || fail "a client let its SASL session expire"
    local re
    re=$(( $(reauthentications) - before ))
    compat_log "successful re-authentications during the run: $re"
    [ "$re" -ge 2 ] || fail "expected at least 2 re-authentications during the run, the broker counted $re"
  fi
}

compat_feature gssapi-admin f_gssapi_admin
compat_feature gssapi-produce-consume f_gssapi_produce_consume
compat_feature gssapi-acls f_gssapi_acls
compat_feature gssapi-kcat f_gssapi_kcat
compat_feature gssapi-bad-credentials f_gssapi_bad_credentials
compat_feature gssapi-sasl-ssl f_gssapi_sasl_ssl
compat_feature gssapi-reauth f_gssapi_reauth
compat_finish
