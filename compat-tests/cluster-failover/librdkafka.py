"""librdkafka (confluent-kafka from PyPI) across a leader change of a 3-broker kbroker process.

usage: python librdkafka.py BOOTSTRAP TOPIC SECONDS

Creates TOPIC (3 partitions, replication factor 3, min.insync.replicas=2), then for SECONDS sends
numbered records "<partition>-<n>" with an idempotent producer (acks=all) while a consumer group
reads them; run.sh kills the leader of partition 0 meanwhile and starts it again. Then: the group
has consumed every acknowledged record, and a second group reading the topic from the beginning
finds every acknowledged record exactly once, no record twice, and each partition's acknowledged
records in the order they were sent. Prints one summary line; exit code 0 when all holds.
"""
import sys
import threading
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

BOOTSTRAP, TOPIC, SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
PARTITIONS = 3

admin = AdminClient({'bootstrap.servers': BOOTSTRAP})
admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3, config={'min.insync.replicas': '2'})])[TOPIC].result(30)

acked = [[] for _ in range(PARTITIONS)]
failed = []
lock = threading.Lock()


def delivered(err, msg):
    with lock:
        if err is None:
            acked[msg.partition()].append(msg.value().decode())
        else:
            failed.append(str(err))


def consume(group, want, stop, deadline_s):
    """Values read by a group member from the beginning, per partition, until `stop()` or `want()` holds."""
    c = Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': group, 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': True, 'auto.commit.interval.ms': 500})
    c.subscribe([TOPIC])
    got = [[] for _ in range(PARTITIONS)]
    deadline = time.time() + deadline_s
    try:
        while time.time() < deadline and not (stop() and want(got)):
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            got[m.partition()].append(m.value().decode())
    finally:
        c.close()
    return got


done_producing = threading.Event()
group_result = {}
ack_snapshot = lambda: [list(a) for a in acked]  # noqa: E731


def covers(got):
    seen = set(v for p in got for v in p)
    with lock:
        return all(v in seen for p in acked for v in p)


t = threading.Thread(target=lambda: group_result.update(
    got=consume(TOPIC + '-group', covers, done_producing.is_set, SECONDS + 120)))
t.start()

p = Producer({'bootstrap.servers': BOOTSTRAP, 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 5})
n = 0
end = time.time() + SECONDS
while time.time() < end:
    for _ in range(10):
        part = n % PARTITIONS
        p.produce(TOPIC, value=('%d-%d' % (part, n // PARTITIONS)).encode(), partition=part, on_delivery=delivered)
        n += 1
    p.poll(0)
    time.sleep(0.02)
left = p.flush(120)
done_producing.set()
t.join()

acks = ack_snapshot()
total = sum(len(a) for a in acks)
group_got = group_result.get('got', [[] for _ in range(PARTITIONS)])
group_seen = set(v for part in group_got for v in part)
missing_in_group = [v for part in acks for v in part if v not in group_seen]

# Everything from the beginning with a fresh group: exactly once, in order.
check = consume(TOPIC + '-verify', lambda got: sum(len(x) for x in got) >= total, lambda: True, 60)
problems = []
for part in range(PARTITIONS):
    read = check[part]
    counts = {}
    for v in read:
        counts[v] = counts.get(v, 0) + 1
    twice = [v for v, c in counts.items() if c > 1]
    lost = [v for v in acks[part] if v not in counts]
    ackset = set(acks[part])
    first = []
    for v in read:
        if v in ackset and v not in first:
            first.append(v)
    if lost:
        problems.append('p%d: %d acknowledged missing %s' % (part, len(lost), lost[:5]))
    if twice:
        problems.append('p%d: %d records twice %s' % (part, len(twice), twice[:5]))
    if first != [v for v in acks[part] if v in counts]:
        problems.append('p%d: acknowledged records out of order' % part)
if missing_in_group:
    problems.append('group: %d acknowledged never consumed %s' % (len(missing_in_group), missing_in_group[:5]))
if left or failed:
    problems.append('%d unflushed, %d failed deliveries %s' % (left, len(failed), failed[:3]))
print('librdkafka: sent %d, acknowledged %d, group consumed %d distinct, verify read %d; %s' % (
    n, total, len(group_seen), sum(len(x) for x in check), '; '.join(problems) or 'OK'))
sys.exit(1 if problems or total == 0 else 0)
