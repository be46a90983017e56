#!/usr/bin/env bash
# Kafka's own command-line tools (org.apache.kafka:kafka-tools from Maven Central) against a fresh
# kbroker: the session a user runs (create/describe a topic, console producer with keys, console
# consumer with a group, consumer-groups describe/reset, configs, offsets, perf tests,
# transactions, delete-records, kafka-acls --list, kafka-leader-election) and kafka-dump-log over every segment kbroker wrote;
# then three brokers in one process (compat_start_cluster): replication factor 3, kafka-reassign-partitions
# under a producer, under-replicated and unavailable partitions with a broker stopped.
#
#   compat-tests/kafka-tools/run.sh [--install-only]
# Env: KAFKA_TOOLS_VERSION (default 4.4.0), COMPAT_CACHE, COMPAT_OUT.
source "$(dirname "$0")/../lib/common.sh"
compat_init kafka-tools
HERE="$REPO/compat-tests/kafka-tools"
export KAFKA_TOOLS_VERSION="${KAFKA_TOOLS_VERSION:-4.4.0}"
DUMPLOG39_VERSION=3.9.1
export KAFKA_TOOLS_LIB="$CACHE/kafka-tools-$KAFKA_TOOLS_VERSION/lib"
DUMPLOG39_LIB="$CACHE/kafka-dumplog-$DUMPLOG39_VERSION/lib"
BIN="$HERE/bin"

install() {
  local pom="$1" version="$2" dest="$3"
  compat_maven_copy "$pom" "$dest" "$dest" -Dkafka.version="$version"
}
compat_timed_install "kafka-tools $KAFKA_TOOLS_VERSION (Maven Central)" install "$HERE/pom.xml" "$KAFKA_TOOLS_VERSION" "$KAFKA_TOOLS_LIB"
compat_timed_install "kafka_2.13 $DUMPLOG39_VERSION for DumpLogSegments (Maven Central)" install "$HERE/pom-dumplog-3.9.xml" "$DUMPLOG39_VERSION" "$DUMPLOG39_LIB"
[ "${1:-}" = "--install-only" ] && exit 0

# Topics that the producers auto-create get 3 partitions, so the consume scenarios do not depend
# on CreateTopics; small segments so kafka-dump-log sees rolled segments and several index entries.
compat_start_broker --override num.partitions=3 --override log.segment.bytes=65536 --override log.cleaner.backoff.ms=200
B="$BOOTSTRAP"
T=30 # seconds a tool may take before it counts as hung
WORK="$(mktemp -d)"
trap 'compat_cleanup; rm -rf "$WORK"' EXIT

tool() { local t="$1"; shift; timeout -k 5 "$T" "$BIN/$t" "$@"; }
fail() { echo "FAILED: $*" >&2; return 1; }
# Sum of the last column of kafka-get-offsets output ("topic:partition:offset" lines).
offsets_sum() { tool kafka-get-offsets.sh --bootstrap-server "$B" --topic "$1" --time "$2" | awk -F: '{s+=$3} END {print s+0}'; }

# The keyed lines the user types: key:value, 5 keys.
for i in $(seq 1 30); do echo "k$((i % 5)):value-$i"; done >"$WORK/keyed.txt"
# What console-consumer prints with print.key=true: key<TAB>value. Kafka 4.x also prints a
# deprecation notice for --property (now --formatter-property) on stdout: dropped before comparing.
records() { grep -v '^Option --property is deprecated' "$@"; }
sed 's/:/\t/' "$WORK/keyed.txt" | sort >"$WORK/keyed.expected"

f_api_versions() {
  tool kafka-broker-api-versions.sh --bootstrap-server "$B" | tee "$WORK/apiversions.txt"
  grep -q 'Produce(0): ' "$WORK/apiversions.txt" && grep -q 'Fetch(1): ' "$WORK/apiversions.txt"
}

f_topics_create() {
  tool kafka-topics.sh --bootstrap-server "$B" --create --topic orders --partitions 3 --replication-factor 1
}

f_topics_describe() {
  tool kafka-topics.sh --bootstrap-server "$B" --describe --topic orders | tee "$WORK/describe.txt"
  grep -q 'PartitionCount: 3' "$WORK/describe.txt" || fail "no 'PartitionCount: 3'"
  [ "$(grep -c 'Partition: [0-9]' "$WORK/describe.txt")" -eq 3 ] || fail "not 3 partition lines"
  grep -q 'Leader: 1' "$WORK/describe.txt" || fail "no leader"
}

f_topics_list() {
  tool kafka-topics.sh --bootstrap-server "$B" --list | tee "$WORK/list.txt"
  grep -qx orders "$WORK/list.txt"
}

# The console producer as Kafka configures it, except idempotence (needs InitProducerId).
f_console_producer_keyed() {
  tool kafka-console-producer.sh --bootstrap-server "$B" --topic orders \
    --property parse.key=true --property key.separator=: \
    --producer-property enable.idempotence=false <"$WORK/keyed.txt" 2>&1 | tee "$WORK/producer.txt"
  ! grep -qiE 'error|exception' "$WORK/producer.txt" || fail "producer reported errors"
  [ "$(offsets_sum orders -1)" -eq 30 ] || fail "log end offsets of orders do not add up to 30"
}

# Exactly as a user types it: Kafka's defaults, so an idempotent producer.
f_console_producer_default() {
  tool kafka-console-producer.sh --bootstrap-server "$B" --topic orders-idem \
    --property parse.key=true --property key.separator=: <"$WORK/keyed.txt" 2>&1 | tee "$WORK/producer-idem.txt"
  ! grep -qiE 'error|exception' "$WORK/producer-idem.txt" || fail "producer reported errors"
  [ "$(offsets_sum orders-idem -1)" -eq 30 ] || fail "log end offsets of orders-idem do not add up to 30"
}

f_get_offsets() {
  tool kafka-get-offsets.sh --bootstrap-server "$B" --topic orders --time -1 | tee "$WORK/latest.txt"
  [ "$(wc -l <"$WORK/latest.txt")" -eq 3 ] || fail "not 3 partitions"
  [ "$(offsets_sum orders -2)" -eq 0 ] || fail "earliest offsets not 0"
  [ "$(offsets_sum orders -1)" -eq 30 ] || fail "latest offsets do not add up to 30"
  # By timestamp: a time before everything gives offset 0 per partition.
  [ "$(offsets_sum orders 1000)" -eq 0 ] || fail "offsets for timestamp 1000 not 0"
}

# Without a group: --partition makes the console consumer assign() instead of subscribe().
f_console_consumer_partition() {
  : >"$WORK/assigned.txt"
  local p n
  for p in 0 1 2; do
    n=$(tool kafka-get-offsets.sh --bootstrap-server "$B" --topic orders --partitions "$p" --time -1 | cut -d: -f3)
    [ "$n" -gt 0 ] || continue
    tool kafka-console-consumer.sh --bootstrap-server "$B" --topic orders --partition "$p" --offset earliest \
      --max-messages "$n" --timeout-ms 20000 --property print.key=true >>"$WORK/assigned.txt"
  done
  records "$WORK/assigned.txt" | sort | diff "$WORK/keyed.expected" - || fail "consumed records differ from produced"
}

f_console_consumer_group() {
  tool kafka-console-consumer.sh --bootstrap-server "$B" --topic orders --from-beginning --group g \
    --property print.key=true --max-messages 30 --timeout-ms 20000 >"$WORK/group.txt"
  records "$WORK/group.txt" | sort | diff "$WORK/keyed.expected" - || fail "consumed records differ from produced"
}

f_consumer_groups_describe() {
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --describe --group g | tee "$WORK/cg.txt"
  # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...: committed at the end, lag 0.
  [ "$(awk '$2=="orders" && $4==$5 && $6==0' "$WORK/cg.txt" | wc -l)" -eq 3 ] || fail "not 3 partitions with lag 0"
}

f_consumer_groups_list() {
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --list | tee "$WORK/cgl.txt"
  grep -qx g "$WORK/cgl.txt"
}

f_consumer_groups_reset() {
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --reset-offsets --to-earliest --execute \
    --group g --topic orders | tee "$WORK/reset.txt"
  [ "$(awk '$2=="orders" && $4=="0"' "$WORK/reset.txt" | wc -l)" -eq 3 ] || fail "NEW-OFFSET not 0 for 3 partitions"
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --describe --group g | tee "$WORK/cg2.txt"
  [ "$(awk '$2=="orders" && $4==0 && $6==$5' "$WORK/cg2.txt" | wc -l)" -eq 3 ] || fail "offsets not reset to 0"
  # Consuming again with the group reads everything again.
  tool kafka-console-consumer.sh --bootstrap-server "$B" --topic orders --group g \
    --property print.key=true --max-messages 30 --timeout-ms 20000 >"$WORK/again.txt"
  records "$WORK/again.txt" | sort | diff "$WORK/keyed.expected" -
}

# KIP-848: the console consumer with group.protocol=consumer (ConsumerGroupHeartbeat), then
# kafka-consumer-groups describing it (ConsumerGroupDescribe + offsets) and listing by type.
f_consumer_groups_848() {
  tool kafka-console-consumer.sh --bootstrap-server "$B" --topic orders --from-beginning --group g848 \
    --command-property group.protocol=consumer \
    --property print.key=true --max-messages 30 --timeout-ms 20000 >"$WORK/g848.txt"
  records "$WORK/g848.txt" | sort | diff "$WORK/keyed.expected" - || fail "consumed records differ from produced"
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --describe --group g848 | tee "$WORK/cg848.txt"
  [ "$(awk '$2=="orders" && $4==$5 && $6==0' "$WORK/cg848.txt" | wc -l)" -eq 3 ] || fail "not 3 partitions with lag 0"
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --describe --group g848 --state | tee "$WORK/cg848s.txt"
  # ConsumerGroupDescribe's assignor (the broker's "uniform"), where a classic group shows its protocol.
  awk '$1=="g848" && $4=="uniform" && $5=="Empty"' "$WORK/cg848s.txt" | grep -q . || fail "describe --state: not the consumer group"
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --list --type consumer | tee "$WORK/cgl848.txt"
  grep -q "^g848 " "$WORK/cgl848.txt" || fail "--list --type consumer lacks g848"
  ! grep -q "^g " "$WORK/cgl848.txt" || fail "--list --type consumer lists the classic group g"
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --list --type classic | tee "$WORK/cglc.txt"
  grep -q "^g " "$WORK/cglc.txt" || fail "--list --type classic lacks g"
}

f_configs_describe() {
  tool kafka-configs.sh --bootstrap-server "$B" --describe --entity-type topics --entity-name orders | tee "$WORK/cfg.txt"
  grep -q "Dynamic configs for topic orders" "$WORK/cfg.txt"
  tool kafka-configs.sh --bootstrap-server "$B" --describe --all --entity-type topics --entity-name orders | tee "$WORK/cfgall.txt"
  grep -q 'cleanup.policy=delete' "$WORK/cfgall.txt" || fail "no cleanup.policy in --all"
}

f_configs_alter() {
  tool kafka-configs.sh --bootstrap-server "$B" --alter --entity-type topics --entity-name orders \
    --add-config retention.ms=86400000
  tool kafka-configs.sh --bootstrap-server "$B" --describe --entity-type topics --entity-name orders | tee "$WORK/cfg2.txt"
  grep -q 'retention.ms=86400000' "$WORK/cfg2.txt"
}

# Client quotas (KIP-546): kafka-configs --alter / --describe for clients, users, user+client,
# defaults and IPs, --delete-config, and a value the broker refuses.
f_client_quotas() {
  local cfg=(tool kafka-configs.sh --bootstrap-server "$B")
  "${cfg[@]}" --alter --entity-type clients --entity-name app1 --add-config 'producer_byte_rate=1048576,consumer_byte_rate=2097152'
  "${cfg[@]}" --alter --entity-type users --entity-name alice --entity-type clients --entity-name app1 --add-config request_percentage=50
  "${cfg[@]}" --alter --entity-type users --entity-default --add-config producer_byte_rate=500000
  "${cfg[@]}" --alter --entity-type ips --entity-name 127.0.0.1 --add-config connection_creation_rate=100
  "${cfg[@]}" --describe --entity-type clients --entity-name app1 | tee "$WORK/q-client.txt"
  grep -q "Quota configs for client-id 'app1' are .*consumer_byte_rate=2097152" "$WORK/q-client.txt" || fail "client quota not listed"
  grep -q "producer_byte_rate=1048576" "$WORK/q-client.txt" || fail "client producer_byte_rate not listed"
  "${cfg[@]}" --describe --entity-type users --entity-default | tee "$WORK/q-default.txt"
  grep -q "Quota configs for the default user-principal are producer_byte_rate=500000" "$WORK/q-default.txt" || fail "default user quota not listed"
  "${cfg[@]}" --describe --entity-type users --entity-name alice --entity-type clients --entity-name app1 | tee "$WORK/q-pair.txt"
  grep -q "request_percentage=50" "$WORK/q-pair.txt" || fail "user+client quota not listed"
  "${cfg[@]}" --describe --entity-type users | tee "$WORK/q-users.txt"
  grep -q "default user-principal" "$WORK/q-users.txt" || fail "--entity-type users does not list the default"
  "${cfg[@]}" --describe --entity-type ips --entity-name 127.0.0.1 | tee "$WORK/q-ip.txt"
  grep -q "connection_creation_rate=100" "$WORK/q-ip.txt" || fail "ip quota not listed"
  "${cfg[@]}" --alter --entity-type clients --entity-name app1 --delete-config producer_byte_rate
  "${cfg[@]}" --describe --entity-type clients --entity-name app1 | tee "$WORK/q-client2.txt"
  ! grep -q "producer_byte_rate" "$WORK/q-client2.txt" || fail "deleted quota still listed"
  grep -q "consumer_byte_rate=2097152" "$WORK/q-client2.txt" || fail "the other quota went too"
  # The broker's checks (Kafka's ClientQuotaControlManager): a fractional byte rate.
  "${cfg[@]}" --alter --entity-type clients --entity-name app2 --add-config producer_byte_rate=1.5 >"$WORK/q-bad.txt" 2>&1 || true
  grep -q "producer_byte_rate cannot be a fractional value" "$WORK/q-bad.txt" || { cat "$WORK/q-bad.txt"; fail "fractional rate not refused"; }
  # The quotas that would reach the later scenarios' clients go (the default user's, the IP's).
  "${cfg[@]}" --alter --entity-type users --entity-default --delete-config producer_byte_rate
  "${cfg[@]}" --alter --entity-type ips --entity-name 127.0.0.1 --delete-config connection_creation_rate
  "${cfg[@]}" --describe --entity-type users --entity-default | tee "$WORK/q-default2.txt"
  ! grep -q "producer_byte_rate" "$WORK/q-default2.txt" || fail "default user quota not deleted"
}

# A Java producer under producer_byte_rate=100000 (its client.id): kafka-producer-perf-test
# sending 2.5 MB as fast as it can is held — Kafka takes the rate over at least 10 of the 11
# one-second windows, so about 1 MB goes at once and the rest at 100 kB/s (~0.17 MB/s overall;
# unthrottled it runs at about 1 MB/s here) — and its produce-throttle-time metrics show the
# broker's throttle_time_ms.
f_client_quota_throttle() {
  # A default-user quota would come first in Kafka's precedence (client-quotas sets one and
  # deletes it; kafka-configs refuses to delete a key that is not set).
  if tool kafka-configs.sh --bootstrap-server "$B" --describe --entity-type users --entity-default | grep -q producer_byte_rate; then
    tool kafka-configs.sh --bootstrap-server "$B" --alter --entity-type users --entity-default --delete-config producer_byte_rate
  fi
  tool kafka-configs.sh --bootstrap-server "$B" --alter --entity-type clients --entity-name perf-quota --add-config producer_byte_rate=100000
  local T=60 mbs max
  tool kafka-producer-perf-test.sh --topic quota-perf --num-records 2500 --record-size 1000 --throughput -1 --print-metrics \
    --producer-props bootstrap.servers="$B" client.id=perf-quota acks=1 | tee "$WORK/q-perf.txt"
  grep -q '^2500 records sent' "$WORK/q-perf.txt" || fail "perf test did not send 2500 records"
  mbs=$(grep '^2500 records sent' "$WORK/q-perf.txt" | sed -E 's/.*\(([0-9.]+) MB\/sec\).*/\1/')
  max=$(awk '$1 == "producer-metrics:produce-throttle-time-max:{client-id=perf-quota}" {print $3}' "$WORK/q-perf.txt")
  echo "rate $mbs MB/s, produce-throttle-time-max $max ms"
  awk -v r="$mbs" 'BEGIN { exit !(r < 0.3) }' || fail "not held: $mbs MB/s"
  awk -v m="$max" 'BEGIN { exit !(m > 0) }' || fail "no throttle time seen by the producer"
}

# request_percentage as the Java producer meets it: a quota far below any request's time on the broker,
# so each answer carries a throttle time, bounded to one quota window (1 s) as Kafka's request quota.
f_request_quota() {
  tool kafka-configs.sh --bootstrap-server "$B" --alter --entity-type clients --entity-name perf-request-quota --add-config request_percentage=0.001
  tool kafka-configs.sh --bootstrap-server "$B" --describe --entity-type clients --entity-name perf-request-quota | tee "$WORK/rq-describe.txt"
  grep -q 'request_percentage=0.001' "$WORK/rq-describe.txt" || fail "quota not described"
  local max
  tool kafka-producer-perf-test.sh --topic request-quota --num-records 50 --record-size 100 --throughput -1 --print-metrics \
    --producer-props bootstrap.servers="$B" client.id=perf-request-quota acks=1 | tee "$WORK/rq-perf.txt"
  grep -q '^50 records sent' "$WORK/rq-perf.txt" || fail "perf test did not send 50 records"
  max=$(awk '$1 == "producer-metrics:produce-throttle-time-max:{client-id=perf-request-quota}" {print $3}' "$WORK/rq-perf.txt")
  echo "produce-throttle-time-max $max ms"
  awk -v m="$max" 'BEGIN { exit !(m > 0 && m <= 1000) }' || fail "throttle time $max ms: not in (0, 1000]"
}

# controller_mutation_rate (KIP-599) as kafka-topics meets it: the first topic spends the client's burst
# (11 × 1 partition a second) and more, the next is refused — Kafka's ThrottlingQuotaExceededException, as
# the admin client's 5 s timeout is shorter than the throttle time — and is not created.
f_controller_mutation_quota() {
  tool kafka-configs.sh --bootstrap-server "$B" --alter --entity-type clients --entity-name mutation-quota --add-config controller_mutation_rate=1
  tool kafka-configs.sh --bootstrap-server "$B" --describe --entity-type clients --entity-name mutation-quota | tee "$WORK/mq-describe.txt"
  grep -q 'controller_mutation_rate=1.0' "$WORK/mq-describe.txt" || fail "quota not described"
  printf 'client.id=mutation-quota\ndefault.api.timeout.ms=5000\nrequest.timeout.ms=5000\n' >"$WORK/mq.properties"
  tool kafka-topics.sh --bootstrap-server "$B" --command-config "$WORK/mq.properties" --create --topic mq-big --partitions 60
  if tool kafka-topics.sh --bootstrap-server "$B" --command-config "$WORK/mq.properties" --create --topic mq-next --partitions 1 >"$WORK/mq-next.txt" 2>&1; then
    cat "$WORK/mq-next.txt"; fail "a topic past the spent quota was created"; return 1
  fi
  cat "$WORK/mq-next.txt"
  grep -q 'ThrottlingQuotaExceededException' "$WORK/mq-next.txt" || fail "no ThrottlingQuotaExceededException"
  # The same topic from a client without the quota goes through.
  tool kafka-topics.sh --bootstrap-server "$B" --create --topic mq-next --partitions 1
}

f_producer_perf_test() {
  local c
  for c in none gzip snappy lz4 zstd; do
    tool kafka-producer-perf-test.sh --topic perf --num-records 5000 --record-size 200 --throughput -1 \
      --producer-props bootstrap.servers="$B" acks=all enable.idempotence=false compression.type="$c" linger.ms=5 \
      | tee "$WORK/perf-$c.txt"
    grep -q '^5000 records sent' "$WORK/perf-$c.txt" || fail "perf test with $c did not send 5000 records"
  done
  [ "$(offsets_sum perf -1)" -eq 25000 ] || fail "log end offsets of perf do not add up to 25000"
}

f_consumer_perf_test() {
  tool kafka-consumer-perf-test.sh --bootstrap-server "$B" --topic perf --messages 25000 --timeout 20000 \
    | tee "$WORK/cperf.txt"
  # data.consumed.in.nMsg is the 5th CSV column.
  [ "$(tail -1 "$WORK/cperf.txt" | cut -d, -f5 | tr -d ' ')" -eq 25000 ] || fail "did not consume 25000 records"
}

f_transactions() {
  tool kafka-producer-perf-test.sh --topic txn --num-records 1000 --record-size 100 --throughput -1 \
    --transactional-id perf-tx --transaction-duration-ms 100 \
    --producer-props bootstrap.servers="$B" | tee "$WORK/txperf.txt"
  grep -q '^1000 records sent' "$WORK/txperf.txt" || fail "transactional perf test did not send 1000 records"
  tool kafka-transactions.sh --bootstrap-server "$B" list | tee "$WORK/txlist.txt"
  grep -q perf-tx "$WORK/txlist.txt" || fail "perf-tx not listed"
  tool kafka-transactions.sh --bootstrap-server "$B" describe --transactional-id perf-tx | tee "$WORK/txdesc.txt"
  grep -q perf-tx "$WORK/txdesc.txt"
}

f_features_describe() {
  # Kafka 4's feature levels in ApiVersions: transactions V2 (KIP-890) finalized.
  tool kafka-features.sh --bootstrap-server "$B" describe | tee "$WORK/features.txt"
  grep -Eq 'Feature: transaction.version[[:space:]]+SupportedMinVersion: 0[[:space:]]+SupportedMaxVersion: 2[[:space:]]+FinalizedVersionLevel: 2' \
    "$WORK/features.txt" || fail "transaction.version 2 not finalized"
}

f_delete_records() {
  echo '{"version":1,"partitions":[{"topic":"perf","partition":0,"offset":100}]}' >"$WORK/del.json"
  tool kafka-delete-records.sh --bootstrap-server "$B" --offset-json-file "$WORK/del.json" | tee "$WORK/del.txt"
  grep -q 'low_watermark: 100' "$WORK/del.txt" || fail "no low_watermark: 100"
  [ "$(tool kafka-get-offsets.sh --bootstrap-server "$B" --topic perf --partitions 0 --time -2 | cut -d: -f3)" = 100 ] \
    || fail "earliest offset of perf-0 is not 100"
}

# kafka-acls --list against a broker without an authorizer: Kafka's answer is SECURITY_DISABLED,
# which the tool reports (exit 1) as "SecurityDisabledException: No Authorizer is configured on the
# broker"; a broker that does not serve DescribeAcls makes it an UnsupportedVersionException.
f_acls_list() {
  local rc=0
  tool kafka-acls.sh --bootstrap-server "$B" --list >"$WORK/acls.txt" 2>&1 || rc=$?
  head -1 "$WORK/acls.txt"
  [ "$rc" -eq 1 ] || fail "kafka-acls exited $rc, Kafka's tool exits 1 on SECURITY_DISABLED"
  grep -q 'SecurityDisabledException: No Authorizer is configured on the broker' "$WORK/acls.txt" \
    || fail "no SecurityDisabledException: $(head -1 "$WORK/acls.txt")"
}

# kafka-leader-election (ElectLeaders): on one broker every partition already has its preferred
# leader, which Kafka answers ELECTION_NOT_NEEDED and the tool reports as a no-op, exit 0; an
# unclean election over every partition needs none either.
f_leader_election() {
  tool kafka-leader-election.sh --bootstrap-server "$B" --election-type preferred --topic orders --partition 0 \
    | tee "$WORK/elect.txt"
  grep -q 'Valid replica already elected for partitions orders-0' "$WORK/elect.txt" \
    || fail "no 'Valid replica already elected': $(head -1 "$WORK/elect.txt")"
  tool kafka-leader-election.sh --bootstrap-server "$B" --election-type unclean --all-topic-partitions \
    >"$WORK/elect-all.txt" 2>&1 || fail "unclean election over all partitions: $(head -3 "$WORK/elect-all.txt")"
}

f_topics_alter_delete() {
  tool kafka-topics.sh --bootstrap-server "$B" --alter --topic orders --partitions 4
  tool kafka-topics.sh --bootstrap-server "$B" --describe --topic orders | grep -q 'PartitionCount: 4' || fail "not 4 partitions"
  tool kafka-topics.sh --bootstrap-server "$B" --create --topic doomed --partitions 2 --replication-factor 1
  # A group with offsets on orders and doomed (reset-offsets commits them for an inactive group).
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --reset-offsets --to-earliest --execute \
    --group gd --topic orders --topic doomed >/dev/null
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --describe --group gd >"$WORK/cgd.txt"
  [ "$(awk '$2=="doomed"' "$WORK/cgd.txt" | wc -l)" -eq 2 ] || fail "gd has no offsets on doomed"
  tool kafka-topics.sh --bootstrap-server "$B" --delete --topic doomed
  ! tool kafka-topics.sh --bootstrap-server "$B" --list | grep -qx doomed || fail "doomed still listed"
  # Re-created under the same name, it does not inherit the old offsets (Kafka's onPartitionsDeleted).
  tool kafka-topics.sh --bootstrap-server "$B" --create --topic doomed --partitions 2 --replication-factor 1
  tool kafka-consumer-groups.sh --bootstrap-server "$B" --describe --group gd | tee "$WORK/cgd2.txt"
  [ "$(awk '$2=="doomed"' "$WORK/cgd2.txt" | wc -l)" -eq 0 ] || fail "gd still lists partitions of the deleted doomed"
  [ "$(awk '$2=="orders"' "$WORK/cgd2.txt" | wc -l)" -eq 4 ] || fail "gd lost its offsets on orders"
}

# Compaction (issue 14): a compact topic gets 100 keys x 50 versions and 10 tombstones from the console
# producer (null.marker); once segment.ms has rolled it and the log cleaner has run, the console consumer
# reads exactly the latest value of each key. kafka-dump-log then goes over its cleaned segments too.
f_compaction() {
  tool kafka-topics.sh --bootstrap-server "$B" --create --topic compacted --partitions 1 --replication-factor 1 \
    --config cleanup.policy=compact --config segment.ms=1000
  for v in $(seq 1 50); do for k in $(seq 0 99); do echo "key$k:v$v-of-key$k"; done; done >"$WORK/compact.txt"
  for k in $(seq 0 9); do echo "key$k:NULL"; done >>"$WORK/compact.txt"
  tool kafka-console-producer.sh --bootstrap-server "$B" --topic compacted \
    --property parse.key=true --property key.separator=: --property null.marker=NULL <"$WORK/compact.txt"
  awk -F: '{v[$1]=$2} END {for (k in v) print k "\t" (v[k]=="NULL" ? "null" : v[k])}' "$WORK/compact.txt" | sort >"$WORK/compact.expected"
  local i
  for i in $(seq 1 30); do
    tool kafka-console-consumer.sh --bootstrap-server "$B" --topic compacted --from-beginning --timeout-ms 4000 \
      --property print.key=true 2>/dev/null | records | sort >"$WORK/compact.got" || true
    if cmp -s "$WORK/compact.got" "$WORK/compact.expected"; then
      echo "read exactly the 100 latest records (10 tombstones) after cleaning, from 5010 produced"
      return 0
    fi
    sleep 1
  done
  echo "got $(wc -l <"$WORK/compact.got") records, expected 100:" >&2
  diff "$WORK/compact.expected" "$WORK/compact.got" | head -20 >&2
  return 1
}

# kafka-dump-log over every .log/.index/.timeindex kbroker wrote (after a clean shutdown), with
# the 4.x Java tool and Kafka 3.9's Scala tool. Problems go to stdout with exit code 0, so the
# output is searched for them (see shared storage-format notes §9).
dumplog_check() {
  local label="$1" main="$2" lib="$3" out="$WORK/dump-$1" base logs idx
  logs=$(ls "$BROKER_DATA"/*-[0-9]*/*.log | paste -sd,)
  idx=$(ls "$BROKER_DATA"/*-[0-9]*/*.index "$BROKER_DATA"/*-[0-9]*/*.timeindex | paste -sd,)
  run() { KAFKA_TOOLS_LIB="$lib" timeout -k 5 120 "$BIN/kafka-run-class.sh" "$main" "$@"; }
  run --files "$logs" --deep-iteration >"$out.log.txt" 2>"$out.log.err" || fail "$label: dump of the logs exited non-zero: $(tail -3 "$out.log.err")"
  run --files "$idx" >"$out.idx.txt" 2>"$out.idx.err" || fail "$label: dump of the indexes exited non-zero: $(tail -3 "$out.idx.err")"
  run --files "$idx" --index-sanity-check >"$out.san.txt" 2>"$out.san.err" || fail "$label: --index-sanity-check exited non-zero"
  if grep -E 'Exception|Error' "$out".*.err | grep -v SLF4J >&2; then fail "$label: errors on stderr"; fi
  # Kafka's 4.3+ Java DumpLogSegments starts its consecutive-offset check at -1 (KAFKA-14579 port),
  # so every segment whose base offset is not 0 gets "-1 is followed by <base>"; the 3.9 tool
  # checks from the first record. Only that exact line is tolerated, and only from the 4.x tool.
  local bad
  bad=$(grep -E 'isvalid: false|invalid bytes|Non-consecutive|is followed by|Mismatches in|not found in the log|timestamp mismatch|out of order timestamp|failed sanity' \
    "$out.log.txt" "$out.idx.txt" "$out.san.txt" || true)
  if [ "$label" = java ]; then
    for base in $(ls "$BROKER_DATA"/*-[0-9]*/*.log | xargs -n1 basename | sed 's/\.log$//; s/^0*//' | sort -u); do
      bad=$(printf '%s\n' "$bad" | grep -v -E "Non-consecutive offsets in .*/0*$base\.log$" | grep -v -E ":  -1 is followed by $base$" || true)
    done
  fi
  # A compacted log has offset gaps by design (Kafka's tool lists them for Kafka's own cleaned logs too):
  # the "Non-consecutive offsets in .../compacted-0/..." header and the pairs under it are dropped.
  bad=$(printf '%s\n' "$bad" | awk '/Non-consecutive offsets in .*\/compacted-0\// {skip=1; next}
    /Non-consecutive offsets in/ {skip=0} /is followed by/ && skip {next} !/is followed by/ {skip=0} {print}')
  bad=$(printf '%s\n' "$bad" | grep -v '^$' || true)
  [ -z "$bad" ] || fail "$label: kafka-dump-log found problems:"$'\n'"$bad"
  local nidx nsane
  nidx=$(awk -F, '{print NF}' <<<"$idx")
  # An index without entries (a segment smaller than index.interval.bytes) prints "is empty."
  nsane=$(grep -c -E 'passed sanity check|\.(index|timeindex) is empty\.$' "$out.san.txt" || true)
  [ "$nsane" -eq "$nidx" ] || fail "$label: $nsane of $nidx indexes passed the sanity check"
  [ "$(grep -c '^Dumping ' "$out.log.txt")" -eq "$(awk -F, '{print NF}' <<<"$logs")" ] || fail "$label: not every log dumped"
  { grep -h '^| offset: ' "$out.log.txt" || true; } | wc -l
}

f_dump_log() {
  compat_stop_broker # clean shutdown: indexes trimmed, everything flushed
  local segs n_java n_39
  segs=$(ls "$BROKER_DATA"/*-[0-9]*/*.log | wc -l)
  n_java=$(dumplog_check java org.apache.kafka.tools.DumpLogSegments "$KAFKA_TOOLS_LIB")
  n_39=$(dumplog_check scala39 kafka.tools.DumpLogSegments "$DUMPLOG39_LIB")
  [ "$n_java" = "$n_39" ] || fail "record counts differ between the tools: $n_java vs $n_39"
  echo "dumped $segs segments in $(ls -d "$BROKER_DATA"/*-[0-9]*/ | wc -l) partitions, $n_java records: clean"
  # Producer-state snapshots and transaction indexes (written by idempotent/transactional producers):
  # the tool reads them (.snapshot: version and CRC checked); no exception, nothing corrupt.
  local other
  other=$( { ls "$BROKER_DATA"/*-[0-9]*/*.snapshot "$BROKER_DATA"/*-[0-9]*/*.txnindex 2>/dev/null || true; } | paste -sd,)
  if [ -n "$other" ]; then
    timeout -k 5 120 "$BIN/kafka-dump-log.sh" --files "$other" >"$WORK/dump-other.txt" 2>"$WORK/dump-other.err" \
      || fail "dump of .snapshot/.txnindex exited non-zero: $(tail -3 "$WORK/dump-other.err")"
    if grep -v SLF4J "$WORK/dump-other.err" | grep -i -E 'exception|error' >&2; then fail "errors dumping .snapshot/.txnindex"; fi
    if grep -i -E 'corrupt|invalid|mismatch|exception' "$WORK/dump-other.txt" >&2; then fail "problems in .snapshot/.txnindex"; fi
    echo "dumped $(awk -F, '{print NF}' <<<"$other") .snapshot/.txnindex files ($(grep -c 'producerId' "$WORK/dump-other.txt" || true) producer entries): clean"
  fi
  [ "$segs" -gt 10 ] || fail "expected many segments (rolled at 64 KiB)"
  [ "$n_java" -ge 25030 ] || fail "expected at least 25030 records in the dumps (orders + perf)"
}

# ---- Issue 13: three brokers in one process (compat_start_cluster, as `kbroker start --brokers 3`) ----
C="" # the cluster's bootstrap, set below

# The classic walkthrough's first steps: replication factor 3, leaders spread over the brokers.
f_cluster_topics_describe() {
  tool kafka-topics.sh --bootstrap-server "$C" --create --topic orders3 --partitions 6 --replication-factor 3
  tool kafka-topics.sh --bootstrap-server "$C" --describe --topic orders3 | tee "$WORK/describe3.txt"
  grep -q 'ReplicationFactor: 3' "$WORK/describe3.txt" || fail "no 'ReplicationFactor: 3'"
  [ "$(grep -c 'Partition: [0-9]' "$WORK/describe3.txt")" -eq 6 ] || fail "not 6 partition lines"
  local line reps isr
  while read -r line; do
    reps=$(grep -o 'Replicas: [0-9,]*' <<<"$line" | cut -d' ' -f2 | tr ',' '\n' | sort -u | paste -sd,)
    isr=$(grep -o 'Isr: [0-9,]*' <<<"$line" | cut -d' ' -f2 | tr ',' '\n' | sort -u | paste -sd,)
    [ "$reps" = 1,2,3 ] || fail "replicas $reps, not 1,2,3: $line"
    [ "$isr" = 1,2,3 ] || fail "isr $isr, not 1,2,3: $line"
  done < <(grep 'Partition: [0-9]' "$WORK/describe3.txt")
  [ "$(grep -o 'Leader: [0-9]*' "$WORK/describe3.txt" | sort -u | wc -l)" -eq 3 ] || fail "leaders not spread over 3 brokers"
}

# The rest of the walkthrough on the cluster: keyed lines with the console producer (Kafka's
# defaults: idempotent, acks=all), read back with a group, kafka-consumer-groups --describe: lag 0.
f_cluster_walkthrough() {
  tool kafka-console-producer.sh --bootstrap-server "$C" --topic orders3 \
    --property parse.key=true --property key.separator=: <"$WORK/keyed.txt" 2>&1 | tee "$WORK/producer3.txt"
  ! grep -qiE 'error|exception' "$WORK/producer3.txt" || fail "producer reported errors"
  tool kafka-console-consumer.sh --bootstrap-server "$C" --topic orders3 --group g3 --from-beginning \
    --property print.key=true --max-messages 30 --timeout-ms 30000 >"$WORK/orders3.txt"
  records "$WORK/orders3.txt" | sort | diff "$WORK/keyed.expected" -
  tool kafka-consumer-groups.sh --bootstrap-server "$C" --describe --group g3 | tee "$WORK/cg3.txt"
  local rows lagging committed
  rows=$(awk '$2=="orders3"' "$WORK/cg3.txt" | wc -l)
  lagging=$(awk '$2=="orders3" && $6!=0' "$WORK/cg3.txt" | wc -l)
  committed=$(awk '$2=="orders3" && $4 ~ /^[0-9]+$/ {s+=$4} END {print s+0}' "$WORK/cg3.txt")
  [ "$rows" -ge 1 ] && [ "$lagging" -eq 0 ] && [ "$committed" -eq 30 ] \
    || fail "group g3: $rows partitions, $lagging lagging, $committed committed (want lag 0, 30 committed)"
}

# kafka-reassign-partitions --execute / --verify while kafka-verifiable-producer (acks=-1, idempotent)
# writes: each partition of `moving` (RF 2) moves to the two brokers other than its leader, so the
# leader is removed; every record the producer saw acknowledged is read back afterwards.
f_reassign_partitions() {
  tool kafka-topics.sh --bootstrap-server "$C" --create --topic moving --partitions 3 --replication-factor 2
  timeout -k 5 120 "$BIN/kafka-verifiable-producer.sh" --bootstrap-server "$C" --topic moving \
    --max-messages 3000 --throughput 200 --acks -1 >"$WORK/vp.out" 2>"$WORK/vp.err" &
  local vp=$! i line p leader target
  sleep 3
  tool kafka-topics.sh --bootstrap-server "$C" --describe --topic moving | tee "$WORK/moving-before.txt"
  local parts=()
  while read -r line; do
    p=$(grep -o 'Partition: [0-9]*' <<<"$line" | cut -d' ' -f2)
    leader=$(grep -o 'Leader: [0-9]*' <<<"$line" | cut -d' ' -f2)
    target=$(printf '%s\n' 1 2 3 | grep -vx "$leader" | paste -sd,)
    parts+=("{\"topic\":\"moving\",\"partition\":$p,\"replicas\":[$target]}")
  done < <(grep 'Partition: [0-9]' "$WORK/moving-before.txt")
  echo "{\"version\":1,\"partitions\":[$(IFS=,; echo "${parts[*]}")]}" | tee "$WORK/move.json"
  tool kafka-reassign-partitions.sh --bootstrap-server "$C" --reassignment-json-file "$WORK/move.json" --execute \
    | tee "$WORK/execute.txt"
  grep -q 'Successfully started partition reassignment' "$WORK/execute.txt" || fail "not started"
  for i in $(seq 1 60); do
    tool kafka-reassign-partitions.sh --bootstrap-server "$C" --reassignment-json-file "$WORK/move.json" --verify \
      >"$WORK/verify.txt" 2>&1 || true
    [ "$(grep -c 'Reassignment of partition moving-[0-9] is completed' "$WORK/verify.txt")" -eq 3 ] && break
    sleep 1
  done
  cat "$WORK/verify.txt"
  [ "$(grep -c 'Reassignment of partition moving-[0-9] is completed' "$WORK/verify.txt")" -eq 3 ] || fail "reassignment not completed"
  wait "$vp" || fail "verifiable producer exited non-zero: $(tail -3 "$WORK/vp.err")"
  tool kafka-topics.sh --bootstrap-server "$C" --describe --topic moving | tee "$WORK/moving-after.txt"
  while read -r line; do
    p=$(grep -o 'Partition: [0-9]*' <<<"$line" | cut -d' ' -f2)
    target=$(grep -o "\"partition\":$p,\"replicas\":\[[0-9,]*\]" "$WORK/move.json" | grep -o '\[.*\]' | tr -d '[]')
    grep -q "Replicas: $target" <<<"$line" || fail "partition $p replicas are not $target: $line"
  done < <(grep 'Partition: [0-9]' "$WORK/moving-after.txt")
  # Every acknowledged value is in the topic.
  grep -o '"name":"producer_send_success"[^}]*"value":"[0-9]*"' "$WORK/vp.out" | grep -o '"value":"[0-9]*"' \
    | cut -d'"' -f4 | sort -u >"$WORK/acked.txt"
  local acked
  acked=$(wc -l <"$WORK/acked.txt")
  [ "$acked" -ge 2000 ] || fail "only $acked records acknowledged"
  tool kafka-console-consumer.sh --bootstrap-server "$C" --topic moving --from-beginning --timeout-ms 15000 \
    2>/dev/null | records | sort -u >"$WORK/moved.txt" || true
  local lost
  lost=$(comm -23 "$WORK/acked.txt" "$WORK/moved.txt" | wc -l)
  echo "moved 3 partitions (leaders removed) under kafka-verifiable-producer: $acked acknowledged, $lost lost"
  [ "$lost" -eq 0 ] || fail "$lost acknowledged records lost"
}

# A broker stopped: kafka-topics --under-replicated-partitions lists the partitions with a replica
# there, --unavailable-partitions the one whose only replica it held; back, they are in sync again.
f_cluster_broker_down() {
  tool kafka-topics.sh --bootstrap-server "$C" --create --topic solo3 --replica-assignment 3
  compat_cluster stop 3
  tool kafka-topics.sh --bootstrap-server "$C" --describe --under-replicated-partitions | tee "$WORK/under.txt"
  [ "$(grep -c 'Topic: orders3.*Partition: [0-9]' "$WORK/under.txt")" -eq 6 ] || fail "not the 6 partitions of orders3"
  ! grep 'Partition: [0-9]' "$WORK/under.txt" | grep -o 'Isr: [0-9,]*' | grep -q 3 || fail "broker 3 still in an ISR"
  tool kafka-topics.sh --bootstrap-server "$C" --describe --unavailable-partitions | tee "$WORK/unavailable.txt"
  grep -q 'Topic: solo3.*Partition: 0.*Leader: none' "$WORK/unavailable.txt" || fail "solo3-0 not unavailable"
  ! grep -q 'Topic: orders3' "$WORK/unavailable.txt" || fail "orders3 listed unavailable"
  compat_cluster start 3
  local i
  for i in $(seq 1 60); do
    tool kafka-topics.sh --bootstrap-server "$C" --describe --under-replicated-partitions --topic orders3 >"$WORK/under2.txt"
    [ "$(grep -c 'Partition: [0-9]' "$WORK/under2.txt")" -eq 0 ] && break
    sleep 1
  done
  [ "$(grep -c 'Partition: [0-9]' "$WORK/under2.txt")" -eq 0 ] || fail "orders3 still under-replicated after broker 3 is back"
  tool kafka-topics.sh --bootstrap-server "$C" --describe --unavailable-partitions | tee "$WORK/unavailable2.txt"
  ! grep -q 'Topic: solo3' "$WORK/unavailable2.txt" || fail "solo3 still unavailable"
}

compat_feature api-versions f_api_versions
compat_feature topics-create f_topics_create
compat_feature console-producer-keyed f_console_producer_keyed
compat_feature console-producer-default f_console_producer_default
compat_feature topics-describe f_topics_describe
compat_feature topics-list f_topics_list
compat_feature get-offsets f_get_offsets
compat_feature console-consumer-partition f_console_consumer_partition
compat_feature console-consumer-group f_console_consumer_group
compat_feature consumer-groups-describe f_consumer_groups_describe
compat_feature consumer-groups-list f_consumer_groups_list
compat_feature consumer-groups-reset f_consumer_groups_reset
compat_feature consumer-groups-848 f_consumer_groups_848
compat_feature configs-describe f_configs_describe
compat_feature configs-alter f_configs_alter
compat_feature client-quotas f_client_quotas
compat_feature client-quota-throttle f_client_quota_throttle
compat_feature controller-mutation-quota f_controller_mutation_quota
compat_feature request-quota f_request_quota
compat_feature producer-perf-test f_producer_perf_test
compat_feature consumer-perf-test f_consumer_perf_test
compat_feature transactions f_transactions
compat_feature features-describe f_features_describe
compat_feature delete-records f_delete_records
compat_feature acls-list f_acls_list
compat_feature leader-election f_leader_election
compat_feature topics-alter-delete f_topics_alter_delete
compat_feature compaction f_compaction
compat_feature dump-log f_dump_log
if [ -z "${COMPAT_ONLY:-}" ] || [[ ",$COMPAT_ONLY," == *,cluster-*,* || ",$COMPAT_ONLY," == *,reassign-partitions,* ]]; then
  compat_start_cluster 3 replica.fetch.wait.max.ms=100 broker.session.timeout.ms=2000
  C="$CLUSTER_BOOTSTRAP"
fi
compat_feature cluster-topics-describe f_cluster_topics_describe
compat_feature cluster-walkthrough f_cluster_walkthrough
compat_feature reassign-partitions f_reassign_partitions
compat_feature cluster-broker-down f_cluster_broker_down
compat_stop_cluster
compat_finish
