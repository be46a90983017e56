"""confluent-kafka from PyPI (its wheel bundles a current librdkafka) against kbroker.

usage: python scenario.py BOOTSTRAP [feature...]

Each feature runs with a deadline and appends "feature<TAB>pass|fail<TAB>seconds<TAB>detail" to
$COMPAT_RESULTS. (Debian's python3-confluent-kafka 1.7.0 / librdkafka 2.0.2 is covered by
compat-tests/confluent-kafka-python.)
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from features import run_features  # noqa: E402

import confluent_kafka
from confluent_kafka import (OFFSET_BEGINNING, Consumer, ConsumerGroupTopicPartitions, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions,
                                   NewTopic, OffsetSpec)

_v = confluent_kafka.version()
VERSION = '%s (librdkafka %s)' % (_v[0] if isinstance(_v, tuple) else _v, confluent_kafka.libversion()[0])
BOOTSTRAP = sys.argv[1]
ONLY = set(sys.argv[2:])
PREFIX = 'ckp-%d' % (int(time.time() * 1000) % 100000)
PARTITIONS = 3  # kbroker started with num.partitions=3 for auto-created topics
TIMEOUT_S = 90
STATE = {}


class CheckFailed(Exception):
    pass


def check(ok, what):
    if not ok:
        raise CheckFailed(what)


def producer(**extra):
    cfg = {'bootstrap.servers': BOOTSTRAP, 'acks': 'all', 'linger.ms': 5, 'message.timeout.ms': 30000}
    cfg.update(extra)
    return Producer(cfg)


def consumer(**extra):
    cfg = {'bootstrap.servers': BOOTSTRAP, 'group.id': PREFIX + '-reader', 'auto.offset.reset': 'earliest',
           'enable.auto.commit': False, 'session.timeout.ms': 10000, 'heartbeat.interval.ms': 1000,
           'check.crcs': True}
    cfg.update(extra)
    return Consumer(cfg)


def admin():
    return AdminClient({'bootstrap.servers': BOOTSTRAP})


def wait(futures, timeout=30):
    return {k: f.result(timeout=timeout) for k, f in futures.items()}


def produce_records(p, topic, n, tag):
    base = int(time.time() * 1000) - 60000
    sent, errors = [], []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:  # the delivery report has no headers: the value names the header that was sent
            i = int(msg.value().split(b'-value-')[1].split(b'-')[0])
            sent.append(dict(partition=msg.partition(), offset=msg.offset(), key=msg.key(), value=msg.value(),
                             headers=[('h', ('hv-%d' % i).encode())], ts=msg.timestamp()[1]))

    for i in range(n):
        key = None if i % 17 == 3 else ('key-%d' % (i % 7)).encode()
        value = ('%s-value-%d-%s' % (tag, i, 'x' * (i % 50))).encode()
        kw = {'partition': i % PARTITIONS} if key is None else {}
        p.produce(topic, key=key, value=value, headers=[('h', ('hv-%d' % i).encode())], timestamp=base + i,
                  on_delivery=on_delivery, **kw)
        p.poll(0)
    left = p.flush(30)
    check(left == 0 and not errors, 'delivery failed: %d undelivered, errors %r' % (left, errors[:3]))
    return sent


def read_all(topic, n, **extra):
    c = consumer(**extra)
    md = c.list_topics(topic, timeout=10)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in md.topics[topic].partitions])
    got = []
    deadline = time.time() + 30
    while len(got) < n and time.time() < deadline:
        for m in c.consume(num_messages=500, timeout=0.5):
            if m.error():
                raise KafkaException(m.error())
            got.append(m)
    c.close()
    return got


def compare(sent, got):
    check(len(got) == len(sent), 'consumed %d records, produced %d' % (len(got), len(sent)))
    by_pos = {(s['partition'], s['offset']): s for s in sent}
    last = {}
    for m in got:
        where = '%d@%d' % (m.partition(), m.offset())
        s = by_pos.get((m.partition(), m.offset()))
        check(s is not None, 'unexpected record at ' + where)
        check(s['key'] == m.key() and s['value'] == m.value(), 'key/value differ at ' + where)
        check(s['ts'] == m.timestamp()[1], 'timestamp differs at ' + where)
        check(m.headers() == [('h', s['headers'][0][1])], 'headers differ at ' + where)
        prev = last.get(m.partition())
        check(prev is None or prev + 1 == m.offset(), 'out of order in partition %d' % m.partition())
        last[m.partition()] = m.offset()


def f_metadata():
    topic = PREFIX + '-meta'
    p = producer()
    produce_records(p, topic, 3, 'meta')
    a = admin()
    md = a.list_topics(timeout=10)
    check(len(md.brokers) == 1, 'brokers: %r' % md.brokers)
    check(len(md.topics[topic].partitions) == PARTITIONS, '%d partitions' % len(md.topics[topic].partitions))
    dc = a.describe_cluster().result(timeout=30)
    check(len(dc.nodes) == 1 and dc.controller is not None, 'describe_cluster: %r' % dc)


def f_produce():
    topic = PREFIX + '-plain'
    sent = produce_records(producer(), topic, 600, 'plain')
    check(len({s['partition'] for s in sent}) == PARTITIONS, 'not all partitions used')
    STATE['produced'] = sent
    compare(sent, read_all(topic, len(sent)))


def f_consume_assign():
    sent = STATE.get('produced')
    check(sent is not None, 'produce did not run')
    topic = PREFIX + '-plain'
    compare(sent, read_all(topic, len(sent), **{'fetch.max.bytes': 2000, 'message.max.bytes': 1000,
                                                            'max.partition.fetch.bytes': 1000}))
    p0 = [s for s in sent if s['partition'] == 0]
    mid = len(p0) // 2
    c = consumer()
    c.assign([TopicPartition(topic, 0, mid)])
    got = []
    deadline = time.time() + 20
    while len(got) < len(p0) - mid and time.time() < deadline:
        got.extend(m for m in c.consume(num_messages=100, timeout=0.5) if not m.error())
    c.close()
    check(len(got) == len(p0) - mid and got[0].offset() == mid, 'after seek to %d got %d records' % (mid, len(got)))


def f_list_offsets():
    sent = STATE.get('produced')
    check(sent is not None, 'produce did not run')
    topic = PREFIX + '-plain'
    c = consumer()
    for p in range(PARTITIONS):
        n = len([s for s in sent if s['partition'] == p])
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        check((lo, hi) == (0, n), 'watermarks of %d: %r, want (0, %d)' % (p, (lo, hi), n))
    probe = sent[len(sent) // 2]
    want = min(s['offset'] for s in sent if s['partition'] == probe['partition'] and s['ts'] >= probe['ts'])
    r = c.offsets_for_times([TopicPartition(topic, probe['partition'], probe['ts'])], timeout=10)
    check(r[0].offset == want, 'offsets_for_times: %d, want %d' % (r[0].offset, want))
    c.close()
    a = admin()
    tp = TopicPartition(topic, 1)
    res = wait(a.list_offsets({tp: OffsetSpec.latest()}))
    n = len([s for s in sent if s['partition'] == 1])
    check(res[tp].offset == n, 'AdminClient.list_offsets latest: %d, want %d' % (res[tp].offset, n))


def f_compression():
    for codec in ['gzip', 'snappy', 'lz4', 'zstd']:
        topic = PREFIX + '-codec-' + codec
        sent = produce_records(producer(**{'compression.type': codec, 'linger.ms': 20}), topic, 300, codec)
        try:
            compare(sent, read_all(topic, len(sent)))
        except CheckFailed as e:
            raise CheckFailed('%s: %s' % (codec, e))


def f_produce_idempotent():
    topic = PREFIX + '-idem'
    sent = produce_records(producer(**{'enable.idempotence': True}), topic, 500, 'idem')
    compare(sent, read_all(topic, len(sent)))


def f_admin_topics():
    topic = PREFIX + '-admin'
    a = admin()
    wait(a.create_topics([NewTopic(topic, 2, 1, config={'retention.ms': '3600000'})]))
    try:
        wait(a.create_topics([NewTopic(topic, 1, 1)]))
        raise CheckFailed('creating an existing topic succeeded')
    except KafkaException as e:
        check(e.args[0].code() == confluent_kafka.KafkaError.TOPIC_ALREADY_EXISTS, 'create existing: %r' % e)
    check(len(a.list_topics(topic, timeout=10).topics[topic].partitions) == 2, 'not 2 partitions')
    wait(a.create_partitions([NewPartitions(topic, 4)]))
    deadline = time.time() + 15
    while len(a.list_topics(topic, timeout=10).topics[topic].partitions) != 4:
        check(time.time() < deadline, 'not 4 partitions after create_partitions')
        time.sleep(0.2)
    wait(a.delete_topics([topic]))
    deadline = time.time() + 15
    while topic in a.list_topics(timeout=10).topics:
        check(time.time() < deadline, 'deleted topic still listed')
        time.sleep(0.2)


def f_admin_configs():
    topic = PREFIX + '-cfg'
    produce_records(producer(), topic, 1, 'cfg')
    a = admin()
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)

    def get(name):
        cfg = list(wait(a.describe_configs([res])).values())[0]
        return cfg[name].value if name in cfg else None

    check(get('cleanup.policy') == 'delete', 'cleanup.policy: %r' % get('cleanup.policy'))
    wait(a.incremental_alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
        ConfigEntry('retention.ms', '7200000', incremental_operation=AlterConfigOpType.SET)])]))
    check(get('retention.ms') == '7200000', 'retention.ms after alter: %r' % get('retention.ms'))


def f_manual_commit():
    topic = PREFIX + '-commit'
    group = PREFIX + '-manual'
    sent = produce_records(producer(), topic, 90, 'commit')
    c = consumer(**{'group.id': group})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = []
    deadline = time.time() + 20
    while len(got) < 5 and time.time() < deadline:
        got.extend(m for m in c.consume(num_messages=5, timeout=0.5) if not m.error())
    check(len(got) >= 5, 'read only %d' % len(got))
    c.commit(offsets=[TopicPartition(topic, 0, 5, metadata='meta-5')], asynchronous=False)
    committed = c.committed([TopicPartition(topic, 0)], timeout=10)[0]
    check(committed.offset == 5 and committed.metadata == 'meta-5', 'committed: %r' % committed)
    c.close()
    c = consumer(**{'group.id': group})
    c.assign([TopicPartition(topic, 0)])  # no offset: starts at the committed one
    first = None
    deadline = time.time() + 20
    while first is None and time.time() < deadline:
        for m in c.consume(num_messages=1, timeout=0.5):
            if not m.error():
                first = m.offset()
    c.close()
    check(first == 5, 'did not resume at 5 (got %r)' % first)
    del sent


def f_consumer_group():
    topic = PREFIX + '-group'
    group = PREFIX + '-g'
    sent = produce_records(producer(), topic, 300, 'group')
    seen, assigned, errors = {}, [set(), set(), set()], []
    lock, done = threading.Lock(), threading.Event()

    def member(i):
        try:
            c = consumer(**{'group.id': group})
            c.subscribe([topic])
            deadline = time.time() + 60
            while not done.is_set() and time.time() < deadline:
                for m in c.consume(num_messages=100, timeout=0.2):
                    if m.error():
                        raise KafkaException(m.error())
                    with lock:
                        seen[(m.partition(), m.offset())] = m.value()
                with lock:
                    assigned[i] = {tp.partition for tp in c.assignment()}
                    if len(seen) >= len(sent) and all(len(a) == 1 for a in assigned):
                        done.set()
            c.commit(asynchronous=False)
            c.close()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=member, args=(i,), daemon=True) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(75)
    check(not errors, 'member failed: %r' % errors)
    check(len(seen) == len(sent), 'group read %d of %d' % (len(seen), len(sent)))
    check(all(len(a) == 1 for a in assigned), 'assignment not one partition each: %r' % assigned)
    more = produce_records(producer(), topic, 30, 'group-more')
    c = consumer(**{'group.id': group})
    c.subscribe([topic])
    got = []
    deadline = time.time() + 30
    while len(got) < len(more) and time.time() < deadline:
        got.extend(m.value() for m in c.consume(num_messages=100, timeout=0.5) if not m.error())
    c.close()
    check(sorted(got) == sorted(s['value'] for s in more), 'after restart read %d, want the %d new ones' % (
        len(got), len(more)))


def f_consumer_group_848():
    """KIP-848 (group.protocol=consumer): three librdkafka members, one partition each, assigned by
    the broker (ConsumerGroupHeartbeat); each reads its partition to the end and commits; a restarted
    member reads only what came after."""
    topic = PREFIX + '-848'
    group = PREFIX + '-g848'
    sent = produce_records(producer(), topic, 300, 'g848')
    seen, assigned, caught_up, errors = {}, [set(), set(), set()], [False, False, False], []
    lock, done = threading.Lock(), threading.Event()

    def kip848_consumer():
        return Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': group, 'group.protocol': 'consumer',
                         'auto.offset.reset': 'earliest', 'enable.auto.commit': False})

    def member(i):
        try:
            c = kip848_consumer()
            c.subscribe([topic])
            deadline = time.time() + 60
            while not done.is_set() and time.time() < deadline:
                for m in c.consume(num_messages=100, timeout=0.2):
                    if m.error():
                        raise KafkaException(m.error())
                    with lock:
                        seen[(m.partition(), m.offset())] = m.value()
                mine = c.assignment()
                up = len(mine) > 0 and all(
                    p.offset >= c.get_watermark_offsets(p, timeout=10, cached=False)[1] for p in c.position(mine))
                with lock:
                    assigned[i] = {tp.partition for tp in mine}
                    caught_up[i] = up
                    if len(seen) >= len(sent) and all(len(a) == 1 for a in assigned) and all(caught_up):
                        done.set()
            c.commit(asynchronous=False)
            c.close()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=member, args=(i,), daemon=True) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(75)
    check(not errors, 'member failed: %r' % errors)
    check(len(seen) == len(sent), 'group read %d of %d' % (len(seen), len(sent)))
    check(all(len(a) == 1 for a in assigned), 'assignment not one partition each: %r' % assigned)
    more = produce_records(producer(), topic, 30, 'g848-more')
    c = kip848_consumer()
    c.subscribe([topic])
    got = []
    deadline = time.time() + 30
    while len(got) < len(more) and time.time() < deadline:
        got.extend(m.value() for m in c.consume(num_messages=100, timeout=0.5) if not m.error())
    c.close()
    check(sorted(got) == sorted(s['value'] for s in more), 'after restart read %d, want the %d new ones' % (
        len(got), len(more)))


def f_consumer_group_migration():
    """KIP-848's online migration with librdkafka: two classic members (librdkafka's default eager
    range) share a topic; a group.protocol=consumer member joins, the broker converts the group and
    the classic members go on in it (one partition each); it closes, the group is classic again and
    the two take every partition back. Every record of the three rounds is read."""
    topic = PREFIX + '-mig'
    group = PREFIX + '-gmig'
    seen = {}
    total = len(produce_records(producer(), topic, 300, 'mig1'))

    def poll_until(members, shares, what):
        deadline = time.time() + 60
        held = []
        while time.time() < deadline:
            for c in members:
                for m in c.consume(num_messages=100, timeout=0.1):
                    if m.error():
                        raise KafkaException(m.error())
                    seen[(m.partition(), m.offset())] = m.value()
            held = sorted(len(c.assignment()) for c in members)
            if len(seen) >= total and held == shares:
                return
        check(False, '%s: read %d of %d, partitions held %r, want %r' % (what, len(seen), total, held, shares))

    classics = [consumer(**{'group.id': group}) for _ in range(2)]
    modern = None
    try:
        for c in classics:
            c.subscribe([topic])
        poll_until(classics, [1, 2], 'two classic members')
        total += len(produce_records(producer(), topic, 300, 'mig2'))
        modern = Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': group, 'group.protocol': 'consumer',
                           'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
        modern.subscribe([topic])
        poll_until(classics + [modern], [1, 1, 1], 'after the upgrade')
        for c in classics + [modern]:
            try:
                c.commit(asynchronous=False)
            except KafkaException as e:  # a member that read nothing since its last commit
                if e.args[0].code() != confluent_kafka.KafkaError._NO_OFFSET:
                    raise
        modern.close()
        modern = None
        total += len(produce_records(producer(), topic, 300, 'mig3'))
        poll_until(classics, [1, 2], 'after the downgrade')
        check(len(seen) == total, 'read %d of %d' % (len(seen), total))
    finally:
        if modern is not None:
            modern.close()
        for c in classics:
            c.close()


def f_admin_groups():
    topic = PREFIX + '-ag'
    group = PREFIX + '-ag'
    produce_records(producer(), topic, 30, 'ag')
    c = consumer(**{'group.id': group})
    c.subscribe([topic])
    deadline = time.time() + 30
    while not c.assignment() and time.time() < deadline:
        c.consume(num_messages=10, timeout=0.3)
    c.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
    a = admin()
    listed = a.list_consumer_groups().result(timeout=30)
    check(any(g.group_id == group for g in listed.valid), 'list_consumer_groups lacks %s' % group)
    d = wait(a.describe_consumer_groups([group]))[group]
    check(len(d.members) == 1, 'describe: %d members' % len(d.members))
    c.close()
    offs = wait(a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])]))
    tps = list(offs.values())[0].topic_partitions
    check(tps[0].offset == 3, 'list_consumer_group_offsets: %r' % tps)
    wait(a.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 1)])]))
    offs = wait(a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])]))
    check(list(offs.values())[0].topic_partitions[0].offset == 1, 'after alter: %r' % offs)
    wait(a.delete_consumer_groups([group]))
    listed = a.list_consumer_groups().result(timeout=30)
    check(not any(g.group_id == group for g in listed.valid), 'deleted group still listed')


def f_transactions():
    topic = PREFIX + '-txn'
    p = producer(**{'transactional.id': PREFIX + '-tx'})
    p.init_transactions(30)
    for tag, commit in [('committed-1', True), ('aborted', False), ('committed-2', True)]:
        p.begin_transaction()
        for i in range(30):
            p.produce(topic, key=b'k%d' % i, value=('%s-%d' % (tag, i)).encode())
        p.flush(30)
        (p.commit_transaction if commit else p.abort_transaction)(30)
    got = read_all(topic, 60, **{'isolation.level': 'read_committed'})
    check(len(got) == 60 and all(m.value().startswith(b'committed-') for m in got),
          'read_committed read %d records (want 60 committed)' % len(got))
    check(len(read_all(topic, 90, **{'isolation.level': 'read_uncommitted'})) == 90, 'read_uncommitted not 90')
    # Consume-transform-produce with offsets in the transaction.
    out, group = PREFIX + '-txn-out', PREFIX + '-txg'
    c = consumer(**{'group.id': group, 'isolation.level': 'read_committed'})
    c.subscribe([topic])
    p2 = producer(**{'transactional.id': PREFIX + '-tx2'})
    p2.init_transactions(30)
    n = 0
    deadline = time.time() + 40
    while n < 60 and time.time() < deadline:
        msgs = [m for m in c.consume(num_messages=100, timeout=0.5) if not m.error()]
        if not msgs:
            continue
        p2.begin_transaction()
        for m in msgs:
            p2.produce(out, key=m.key(), value=m.value())
        p2.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
        p2.commit_transaction(30)
        n += len(msgs)
    c.close()
    check(n == 60, 'transformed %d of 60' % n)
    check(len(read_all(out, 60, **{'isolation.level': 'read_committed'})) == 60, 'output lacks records')


def f_delete_records():
    topic = PREFIX + '-del'
    produce_records(producer(), topic, 60, 'del')
    a = admin()
    tp = TopicPartition(topic, 0, 4)
    res = wait(a.delete_records([tp]))
    low = list(res.values())[0].low_watermark
    check(low == 4, 'low watermark %r' % low)
    c = consumer()
    lo, _ = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.close()
    check(lo == 4, 'low watermark after delete_records: %d' % lo)


FEATURES = [
    ('metadata', f_metadata), ('produce', f_produce), ('consume-assign', f_consume_assign),
    ('list-offsets', f_list_offsets), ('compression', f_compression), ('produce-idempotent', f_produce_idempotent),
    ('admin-topics', f_admin_topics), ('admin-configs', f_admin_configs), ('manual-commit', f_manual_commit),
    ('consumer-group', f_consumer_group), ('admin-groups', f_admin_groups), ('transactions', f_transactions),
    ('delete-records', f_delete_records), ('consumer-group-848', f_consumer_group_848),
    ('consumer-group-migration', f_consumer_group_migration),
]


def main():
    print('confluent-kafka %s -> %s' % (VERSION, BOOTSTRAP), flush=True)
    run_features('confluent-kafka %s' % VERSION, FEATURES, ONLY, TIMEOUT_S)


if __name__ == '__main__':
    main()
