"""kafka-python (2.0.2 from Debian, or 3.x from PyPI) against kbroker.

usage: python scenario.py BOOTSTRAP [feature...]

Each feature runs with a deadline and appends one line to $COMPAT_RESULTS:
"feature<TAB>pass|fail<TAB>seconds<TAB>detail". Features the client version does not have
(2.0.2: transactions, idempotence, delete-records) are not run and not reported; matrix.json
lists only what each version can do.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from features import run_features  # noqa: E402

import kafka
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

VERSION = kafka.__version__
V3 = int(VERSION.split('.')[0]) >= 3
BOOTSTRAP = sys.argv[1]
ONLY = set(sys.argv[2:])
PREFIX = 'kp%s-%d' % (VERSION.replace('.', ''), int(time.time() * 1000) % 100000)
PARTITIONS = 3  # kbroker started with num.partitions=3 for auto-created topics
TIMEOUT_S = 90


class CheckFailed(Exception):
    pass


def check(ok, what):
    if not ok:
        raise CheckFailed(what)


def producer(**extra):
    cfg = dict(bootstrap_servers=BOOTSTRAP, acks='all', linger_ms=5, request_timeout_ms=15000, max_block_ms=30000)
    if V3:
        # 3.x is idempotent by default (needs InitProducerId); produce-idempotent covers that.
        cfg['enable_idempotence'] = False
    cfg.update(extra)
    return KafkaProducer(**cfg)


def consumer(**extra):
    cfg = dict(bootstrap_servers=BOOTSTRAP, auto_offset_reset='earliest', enable_auto_commit=False,
               request_timeout_ms=31000, session_timeout_ms=10000, heartbeat_interval_ms=1000,
               consumer_timeout_ms=1000)
    cfg.update(extra)
    return KafkaConsumer(**cfg)


def admin():
    return KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=30000)


def produce_records(p, topic, n, tag):
    """Sends n records (keys, some null keys/values, headers, explicit timestamps); returns what was sent."""
    base = int(time.time() * 1000) - 60000
    futs, sent = [], []
    for i in range(n):
        key = None if i % 17 == 3 else ('key-%d' % (i % 7)).encode()
        value = None if i % 23 == 5 and key is not None else ('%s-value-%d-%s' % (tag, i, 'x' * (i % 50))).encode()
        partition = i % PARTITIONS if key is None else None
        headers = [('h', ('hv-%d' % i).encode())]
        futs.append((key, value, headers, base + i,
                     p.send(topic, key=key, value=value, partition=partition, timestamp_ms=base + i, headers=headers)))
    p.flush(timeout=30)
    for key, value, headers, ts, fut in futs:
        md = fut.get(timeout=30)
        sent.append(dict(partition=md.partition, offset=md.offset, key=key, value=value, headers=headers, ts=ts))
    by_part = {}
    for s in sent:
        by_part.setdefault(s['partition'], []).append(s['offset'])
    for part, offs in by_part.items():
        check(offs == list(range(offs[0], offs[0] + len(offs))), 'offsets not consecutive in partition %d' % part)
    return sent


def read_all(c, topic, expected, deadline_s=30):
    parts = c.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    got = []
    deadline = time.time() + deadline_s
    while len(got) < expected and time.time() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            got.extend(recs)
    return got


def compare(sent, got):
    check(len(got) == len(sent), 'consumed %d records, produced %d' % (len(got), len(sent)))
    by_pos = {(s['partition'], s['offset']): s for s in sent}
    last = {}
    for r in got:
        s = by_pos.get((r.partition, r.offset))
        where = '%d@%d' % (r.partition, r.offset)
        check(s is not None, 'unexpected record at ' + where)
        check(s['key'] == r.key, 'key differs at ' + where)
        check(s['value'] == r.value, 'value differs at ' + where)
        check(s['ts'] == r.timestamp, 'timestamp differs at ' + where)
        check([(k, v) for k, v in r.headers] == s['headers'], 'headers differ at ' + where)
        prev = last.get(r.partition)
        check(prev is None or prev + 1 == r.offset, 'out of order in partition %d' % r.partition)
        last[r.partition] = r.offset


STATE = {}


def f_metadata():
    topic = PREFIX + '-meta'
    p = producer()
    p.send(topic, key=b'k', value=b'v').get(timeout=30)
    p.close()
    c = consumer()
    parts = c.partitions_for_topic(topic)
    check(parts == set(range(PARTITIONS)), 'partitions_for_topic: %r' % parts)
    check(topic in c.topics(), 'topics() lacks ' + topic)
    c.close()
    a = admin()
    check(topic in a.list_topics(), 'admin list_topics lacks ' + topic)
    a.close()


def f_produce():
    topic = PREFIX + '-plain'
    p = producer()
    sent = produce_records(p, topic, 600, 'plain')
    p.close()
    check(len({s['partition'] for s in sent}) == PARTITIONS, 'not all partitions used')
    STATE['produced'] = sent
    c = consumer()
    compare(sent, read_all(c, topic, len(sent)))
    c.close()


def f_consume_assign():
    sent = STATE.get('produced')
    check(sent is not None, 'produce did not run')
    topic = PREFIX + '-plain'
    c = consumer(max_poll_records=7, fetch_max_bytes=2000, max_partition_fetch_bytes=1000)
    compare(sent, read_all(c, topic, len(sent)))
    tp0 = TopicPartition(topic, 0)
    p0 = [s for s in sent if s['partition'] == 0]
    mid = len(p0) // 2
    c.assign([tp0])
    c.seek(tp0, mid)
    got = []
    deadline = time.time() + 20
    while len(got) < len(p0) - mid and time.time() < deadline:
        for recs in c.poll(timeout_ms=300).values():
            got.extend(recs)
    check(len(got) == len(p0) - mid, 'after seek(%d) got %d of %d' % (mid, len(got), len(p0) - mid))
    check(got[0].offset == mid, 'first offset after seek is %d' % got[0].offset)
    check(c.position(tp0) == len(p0), 'position %d != end %d' % (c.position(tp0), len(p0)))
    c.close()


def f_list_offsets():
    sent = STATE.get('produced')
    check(sent is not None, 'produce did not run')
    topic = PREFIX + '-plain'
    c = consumer()
    tps = [TopicPartition(topic, i) for i in range(PARTITIONS)]
    begin = c.beginning_offsets(tps)
    end = c.end_offsets(tps)
    for tp in tps:
        n = len([s for s in sent if s['partition'] == tp.partition])
        check(begin[tp] == 0, 'beginning of %s is %s' % (tp, begin[tp]))
        check(end[tp] == n, 'end of %s is %s, produced %d' % (tp, end[tp], n))
    probe = sent[len(sent) // 2]
    tp = TopicPartition(topic, probe['partition'])
    ot = c.offsets_for_times({tp: probe['ts']})[tp]
    want = min(s['offset'] for s in sent if s['partition'] == probe['partition'] and s['ts'] >= probe['ts'])
    check(ot is not None and ot.offset == want, 'offsets_for_times gave %r, want offset %d' % (ot, want))
    future = c.offsets_for_times({tps[0]: int(time.time() * 1000) + 3600000})[tps[0]]
    check(future is None, 'offsets_for_times(future) = %r' % (future,))
    c.close()


def f_compression():
    codecs = ['gzip', 'snappy', 'lz4']
    if not VERSION.startswith('1.'):
        codecs.append('zstd')
    for codec in codecs:
        topic = PREFIX + '-codec-' + codec
        p = producer(compression_type=codec, linger_ms=20)
        sent = produce_records(p, topic, 300, codec)
        p.close()
        c = consumer()
        try:
            compare(sent, read_all(c, topic, len(sent)))
        except CheckFailed as e:
            raise CheckFailed('%s: %s' % (codec, e))
        c.close()


def f_produce_idempotent():
    topic = PREFIX + '-idem'
    p = producer(enable_idempotence=True)
    sent = produce_records(p, topic, 500, 'idem')
    p.close()
    c = consumer()
    compare(sent, read_all(c, topic, len(sent)))
    c.close()


def describe_topic(a, topic):
    return [t for t in a.describe_topics([topic]) if t.get('topic', t.get('name')) == topic][0]


def f_admin_topics():
    topic = PREFIX + '-admin'
    a = admin()
    if V3:
        a.create_topics({topic: {'num_partitions': 2, 'replication_factor': 1, 'configs': {'retention.ms': '3600000'}}})
    else:
        from kafka.admin import NewTopic
        a.create_topics([NewTopic(topic, 2, 1, topic_configs={'retention.ms': '3600000'})])
    check(topic in a.list_topics(), 'created topic not listed')
    d = describe_topic(a, topic)
    check(len(d['partitions']) == 2, 'describe: %d partitions' % len(d['partitions']))
    try:
        if V3:
            a.create_topics({topic: {'num_partitions': 1, 'replication_factor': 1}})
        else:
            from kafka.admin import NewTopic
            a.create_topics([NewTopic(topic, 1, 1)])
        raise CheckFailed('creating an existing topic succeeded')
    except kafka.errors.TopicAlreadyExistsError:
        pass
    if V3:
        a.create_partitions({topic: 4})
    else:
        from kafka.admin import NewPartitions
        a.create_partitions({topic: NewPartitions(4)})
    deadline = time.time() + 15
    while True:
        d = describe_topic(a, topic)
        if len(d['partitions']) == 4:
            break
        check(time.time() < deadline, 'after create_partitions: %d partitions' % len(d['partitions']))
        time.sleep(0.2)
    a.delete_topics([topic])
    deadline = time.time() + 15
    while topic in a.list_topics():
        check(time.time() < deadline, 'deleted topic still listed')
        time.sleep(0.2)
    a.close()


def configs_of(a, resource, **kw):
    """{name: value} of one resource, from either version's describe_configs result."""
    res = a.describe_configs([resource], **kw)
    out = {}
    if isinstance(res, dict):  # 3.x: {'topic': {resource_name: {config_name: {'value': ...}}}}
        for by_name in res.values():
            for entries in by_name.values():
                for name, entry in entries.items():
                    out[name] = entry['value']
        return out
    for resp in res:  # 2.0.2: a list of DescribeConfigsResponse
        for r in resp.resources:
            for entry in r[4]:
                out[entry[0]] = entry[1]
    return out


def f_admin_configs():
    from kafka.admin import ConfigResource, ConfigResourceType
    topic = PREFIX + '-cfg'
    p = producer()
    p.send(topic, key=b'k', value=b'v').get(timeout=30)
    p.close()
    a = admin()
    kw = {'config_filter': 'all'} if V3 else {}
    cfg = configs_of(a, ConfigResource(ConfigResourceType.TOPIC, topic), **kw)
    check(cfg.get('cleanup.policy') == 'delete', 'cleanup.policy: %r (of %d configs)' % (cfg.get('cleanup.policy'), len(cfg)))
    a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={'retention.ms': '7200000'})])
    cfg = configs_of(a, ConfigResource(ConfigResourceType.TOPIC, topic), **kw)
    check(cfg.get('retention.ms') == '7200000', 'retention.ms after alter: %r' % cfg.get('retention.ms'))
    a.close()


def f_manual_commit():
    topic = PREFIX + '-commit'
    group = PREFIX + '-manual'
    p = producer()
    produce_records(p, topic, 90, 'commit')
    p.close()
    tp = TopicPartition(topic, 0)
    c = consumer(group_id=group)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got = []
    deadline = time.time() + 20
    while len(got) < 5 and time.time() < deadline:
        for recs in c.poll(timeout_ms=300).values():
            got.extend(recs)
    check(len(got) >= 5, 'read only %d' % len(got))
    oam = OffsetAndMetadata(5, 'meta-5', -1) if len(OffsetAndMetadata._fields) == 3 else OffsetAndMetadata(5, 'meta-5')
    c.commit({tp: oam})
    committed = c.committed(tp)
    check(committed == 5, 'committed: %r' % committed)
    c.close()
    c = consumer(group_id=group)
    c.assign([tp])
    first = None
    deadline = time.time() + 20
    while first is None and time.time() < deadline:
        for recs in c.poll(timeout_ms=300).values():
            first = first if first is not None else recs[0].offset
    check(first == 5, 'did not resume at offset 5 (got %r)' % first)
    c.close()


def f_consumer_group():
    topic = PREFIX + '-group'
    group = PREFIX + '-g'
    p = producer()
    sent = produce_records(p, topic, 300, 'group')
    p.close()
    # One thread per member: a consumer is polled by the thread that owns it, as applications do
    # (kafka-python 2.0.2's poll() blocks in JoinGroup until the rebalance completes, which needs
    # the other members to poll and rejoin meanwhile).
    seen = {}
    assigned = [set() for _ in range(3)]
    lock = threading.Lock()
    done = threading.Event()
    errors = []

    def member(i):
        try:
            c = consumer(group_id=group)
            c.subscribe([topic])
            deadline = time.time() + 60
            while not done.is_set() and time.time() < deadline:
                for recs in c.poll(timeout_ms=200).values():
                    with lock:
                        for r in recs:
                            seen[(r.partition, r.offset)] = r
                with lock:
                    assigned[i] = {tp.partition for tp in c.assignment()}
                    if len(seen) >= len(sent) and all(len(a) == 1 for a in assigned):
                        done.set()
            c.commit()
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
    p = producer()
    more = produce_records(p, topic, 30, 'group-more')
    p.close()
    c = consumer(group_id=group)
    c.subscribe([topic])
    got = []
    deadline = time.time() + 30
    while len(got) < len(more) and time.time() < deadline:
        for recs in c.poll(timeout_ms=300).values():
            got.extend(recs)
    check(sorted(r.value or b'' for r in got) == sorted(s['value'] or b'' for s in more),
          'after restart read %d records, want the %d new ones only' % (len(got), len(more)))
    c.close()


def f_admin_groups():
    topic = PREFIX + '-ag'
    group = PREFIX + '-ag'
    p = producer()
    produce_records(p, topic, 30, 'ag')
    p.close()
    tp = TopicPartition(topic, 0)
    c = consumer(group_id=group)
    c.subscribe([topic])
    deadline = time.time() + 30
    while not c.assignment() and time.time() < deadline:
        c.poll(timeout_ms=200)
    c.commit({tp: OffsetAndMetadata(3, '', -1) if len(OffsetAndMetadata._fields) == 3 else OffsetAndMetadata(3, '')})
    a = admin()
    if V3:
        groups = a.list_groups()
        ids = [g['group_id'] if isinstance(g, dict) else g[0] for g in groups]
        desc = a.describe_groups([group])
    else:
        ids = [g[0] for g in a.list_consumer_groups()]
        desc = a.describe_consumer_groups([group])
    check(group in ids, 'list groups lacks %s: %r' % (group, ids))
    d = desc[group] if isinstance(desc, dict) else desc[0]
    members = d['members'] if isinstance(d, dict) else d.members
    check(len(members) == 1, 'describe: %d members' % len(members))
    c.close()
    if V3:
        offs = a.list_group_offsets({group: None})
        offs = offs.get(group, offs)
    else:
        offs = a.list_consumer_group_offsets(group)
    check(tp in offs and offs[tp].offset == 3, 'group offsets: %r' % offs)
    if V3:
        a.alter_group_offsets(group, {tp: OffsetAndMetadata(1, '', -1)})
        offs = a.list_group_offsets({group: None})
        offs = offs.get(group, offs)
        check(offs[tp].offset == 1, 'after alter_group_offsets: %r' % offs)
    res = a.delete_groups([group]) if V3 else a.delete_consumer_groups([group])
    errors = [err for _, err in (res.items() if isinstance(res, dict) else res)]
    check(all(err is None or err == 'OK' or getattr(err, 'errno', None) == 0 for err in errors), 'delete_groups: %r' % res)
    ids = [g['group_id'] if isinstance(g, dict) else g[0] for g in (a.list_groups() if V3 else a.list_consumer_groups())]
    check(group not in ids, 'deleted group still listed')
    a.close()


def f_transactions():
    topic = PREFIX + '-txn'
    p = producer(transactional_id=PREFIX + '-tx', enable_idempotence=True)
    p.init_transactions()
    p.begin_transaction()
    for i in range(30):
        p.send(topic, key=b'k%d' % i, value=b'committed-1-%d' % i)
    p.commit_transaction()
    p.begin_transaction()
    for i in range(30):
        p.send(topic, key=b'k%d' % i, value=b'aborted-%d' % i)
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    for i in range(30):
        p.send(topic, key=b'k%d' % i, value=b'committed-2-%d' % i)
    p.commit_transaction()
    p.close()
    c = consumer(isolation_level='read_committed')
    got = read_all(c, topic, 60)
    check(len(got) == 60, 'read_committed read %d records, want 60' % len(got))
    check(all(r.value.startswith(b'committed-') for r in got), 'read_committed saw aborted records')
    c.close()
    c = consumer(isolation_level='read_uncommitted')
    got = read_all(c, topic, 90)
    check(len(got) == 90, 'read_uncommitted read %d records, want 90' % len(got))
    c.close()


def f_delete_records():
    topic = PREFIX + '-del'
    p = producer()
    produce_records(p, topic, 60, 'del')
    p.close()
    tp = TopicPartition(topic, 0)
    a = admin()
    a.delete_records({tp: 4})
    a.close()
    c = consumer()
    check(c.beginning_offsets([tp])[tp] == 4, 'beginning offset after delete_records: %r' % c.beginning_offsets([tp]))
    c.close()


FEATURES = [
    ('metadata', f_metadata, True),
    ('produce', f_produce, True),
    ('consume-assign', f_consume_assign, True),
    ('list-offsets', f_list_offsets, True),
    ('compression', f_compression, True),
    ('produce-idempotent', f_produce_idempotent, V3),
    ('admin-topics', f_admin_topics, True),
    ('admin-configs', f_admin_configs, True),
    ('manual-commit', f_manual_commit, True),
    ('consumer-group', f_consumer_group, True),
    ('admin-groups', f_admin_groups, True),
    ('transactions', f_transactions, V3),
    ('delete-records', f_delete_records, V3),
]


def main():
    if os.environ.get('COMPAT_DEBUG'):
        import logging
        logging.basicConfig(level=logging.DEBUG, format='%(asctime)s %(threadName)s %(name)s %(message)s')
    print('kafka-python %s -> %s' % (VERSION, BOOTSTRAP), flush=True)
    run_features('kafka-python %s' % VERSION, [(n, f) for n, f, available in FEATURES if available], ONLY, TIMEOUT_S)


if __name__ == '__main__':
    main()
