"""Consume-transform-produce with confluent-kafka-python transactions against kbroker.

Usage: eos.py BOOTSTRAP INPUT OUTPUT COUNT ABORT_EVERY

1. An idempotent producer writes COUNT records "0".."COUNT-1" to INPUT.
2. A read_committed consumer (group, no auto commit) and a transactional producer loop:
   consume a batch, produce "out-<v>" to OUTPUT, send_offsets_to_transaction, then commit —
   except every ABORT_EVERY-th transaction, which is aborted and the consumer rewound to the
   group's committed offsets (so the batch is processed again in a later transaction).
3. A fresh read_committed consumer reads OUTPUT; the script prints a JSON summary with how many
   outputs were seen, how many distinct, and what is missing or duplicated.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

bootstrap, input_topic, output_topic = sys.argv[1], sys.argv[2], sys.argv[3]
count, abort_every = int(sys.argv[4]), int(sys.argv[5])
group = 'eos-' + input_topic

# 1. the input
p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'linger.ms': 5})
for i in range(count):
    while True:
        try:
            p.produce(input_topic, value=str(i).encode(), key=str(i).encode())
            break
        except BufferError:
            p.poll(0.1)
    p.poll(0)
assert p.flush(30) == 0, 'input not fully delivered'

# 2. consume-transform-produce
consumer = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'isolation.level': 'read_committed',
    'enable.auto.commit': False,
    'auto.offset.reset': 'earliest',
})
consumer.subscribe([input_topic])
producer = Producer({
    'bootstrap.servers': bootstrap,
    'transactional.id': 'eos-txn-' + input_topic,
    'transaction.timeout.ms': 30000,
    'linger.ms': 5,
})
producer.init_transactions(30)

committed_inputs = 0
transactions = commits = aborts = 0
deadline = time.time() + 240


def rewind():
    assignment = consumer.assignment()
    for tp in consumer.committed(assignment, timeout=10):
        consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING))


while committed_inputs < count and time.time() < deadline:
    msgs = consumer.consume(num_messages=500, timeout=1.0)
    msgs = [m for m in msgs if m.error() is None]
    if not msgs:
        continue
    producer.begin_transaction()
    for m in msgs:
        producer.produce(output_topic, value=b'out-' + m.value(), key=m.key())
        producer.poll(0)
    positions = consumer.position(consumer.assignment())
    producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
    transactions += 1
    if transactions % abort_every == 0:
        producer.abort_transaction(30)
        aborts += 1
        rewind()
    else:
        producer.commit_transaction(30)
        commits += 1
        committed_inputs += len(msgs)
consumer.close()

# 3. the output, as a read_committed reader sees it
reader = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': group + '-verify',
    'isolation.level': 'read_committed',
    'enable.auto.commit': False,
    'auto.offset.reset': 'earliest',
})
reader.subscribe([output_topic])
seen = []
idle_until = time.time() + 15
while time.time() < idle_until:
    msgs = reader.consume(num_messages=1000, timeout=1.0)
    got = [m for m in msgs if m.error() is None]
    if got:
        seen.extend(m.value().decode() for m in got)
        idle_until = time.time() + 3
reader.close()

expected = {'out-%d' % i for i in range(count)}
counts = {}
for v in seen:
    counts[v] = counts.get(v, 0) + 1
print(json.dumps({
    'committedInputs': committed_inputs,
    'transactions': transactions,
    'commits': commits,
    'aborts': aborts,
    'outputs': len(seen),
    'distinct': len(counts),
    'missing': len(expected - set(counts)),
    'duplicated': sum(1 for c in counts.values() if c > 1),
    'unexpected': len(set(counts) - expected),
}))
