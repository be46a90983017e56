"""One member of a consumer group (confluent-kafka-python / librdkafka) for librdkafka-groups.test.ts.

Usage: group_consumer.py BOOTSTRAP GROUP TOPIC STRATEGY SESSION_TIMEOUT_MS

Prints one JSON line per event on stdout:
  {"ev": "assign", "parts": [...], "owned": [...]}   on_assign (incremental under cooperative-sticky)
  {"ev": "revoke", "parts": [...], "owned": [...]}   on_revoke (incremental under cooperative-sticky)
  {"ev": "lost", "parts": [...], "owned": [...]}     on_lost
  {"ev": "msgs", "m": [[partition, offset, value], ...]}
A batch of messages is printed only after its offsets were committed synchronously, so the lines
printed by all members together are the messages consumed exactly once. When a commit fails (the
group is rebalancing), the consumer seeks back to the batch so that whoever owns the partitions
next reads it again. SIGTERM closes the consumer (LeaveGroup) and exits 0.
"""
import json
import signal
import sys

from confluent_kafka import Consumer, KafkaException, TopicPartition

bootstrap, group, topic, strategy, session_timeout = sys.argv[1:6]
owned = set()


def out(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


cooperative = strategy == 'cooperative-sticky'


def on_assign(consumer, parts):
    ps = sorted(p.partition for p in parts)
    if cooperative:
        owned.update(ps)
    else:
        owned.clear()
        owned.update(ps)
    out({'ev': 'assign', 'parts': ps, 'owned': sorted(owned)})


def on_revoke(consumer, parts):
    ps = sorted(p.partition for p in parts)
    owned.difference_update(ps)
    out({'ev': 'revoke', 'parts': ps, 'owned': sorted(owned)})


def on_lost(consumer, parts):
    ps = sorted(p.partition for p in parts)
    owned.difference_update(ps)
    out({'ev': 'lost', 'parts': ps, 'owned': sorted(owned)})


running = True


def stop(_sig, _frame):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)

consumer = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'client.id': 'py-' + group,
    'partition.assignment.strategy': strategy,
    'session.timeout.ms': int(session_timeout),
    'heartbeat.interval.ms': 250,
    'max.poll.interval.ms': 30000,
    'enable.auto.commit': False,
    'auto.offset.reset': 'earliest',
    'fetch.wait.max.ms': 100,
    'topic.metadata.refresh.interval.ms': 1000,
})
# The binding assigns (incrementally under the cooperative protocol) after these callbacks return.
consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)

while running:
    msgs = consumer.consume(num_messages=200, timeout=0.2)
    batch = []
    first = {}
    last = {}
    for m in msgs:
        if m.error() is not None:
            continue
        batch.append([m.partition(), m.offset(), m.value().decode()])
        first.setdefault(m.partition(), m.offset())
        last[m.partition()] = m.offset()
    if not batch:
        continue
    try:
        consumer.commit(offsets=[TopicPartition(topic, p, o + 1) for p, o in last.items()], asynchronous=False)
    except KafkaException as e:
        sys.stderr.write(f'commit failed ({e}); seeking back\n')
        for p, o in first.items():
            try:
                consumer.seek(TopicPartition(topic, p, o))
            except KafkaException:
                pass  # no longer ours: the next owner starts at the committed offset
        continue
    out({'ev': 'msgs', 'm': batch})

consumer.close()
sys.exit(0)
