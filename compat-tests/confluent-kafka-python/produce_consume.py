#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) round trip against a kbroker.

Usage: produce_consume.py BOOTSTRAP TOPIC COUNT COMPRESSION

Produces COUNT messages (keys, null keys, binary values, headers, acks=all) to partition 0 in two
rounds separated in time, then checks with the real client:
  - delivery reports: no error, offsets 0..COUNT-1 in order;
  - list_topics(): the topic, its partition 0 and leader, the broker's host/port;
  - get_watermark_offsets(): (0, COUNT);
  - consume with assign() at offset 0 (no group subscription): every key/value/header byte-identical,
    offsets in order, CreateTime timestamps;
  - offsets_for_times(): the first offset at or after several timestamps, -1 past the end.
Prints one JSON summary line on stdout; any mismatch raises (exit code 1) with a precise message.
"""

import json
import sys
import time

from confluent_kafka import OFFSET_END, Consumer, KafkaException, Producer, TopicPartition, TIMESTAMP_CREATE_TIME

DEADLINE_S = 30.0


def fail(msg):
    raise AssertionError(msg)


def message(i):
    key = None if i % 5 == 0 else ("key-%d" % i).encode()
    # Compressible text plus every-byte-value binary, so even small batches shrink when compressed.
    value = None if i % 17 == 3 else (b"value-%d " % i) * (1 + i % 40) + bytes((i * 31 + j) % 256 for j in range(i % 300))
    headers = [("idx", str(i).encode()), ("bin", bytes([0, 255, i % 256]))]
    if i % 4 == 0:
        headers.append(("empty", b""))
    if i % 6 == 0:
        headers.append(("idx", b"dup"))
    return key, value, headers


def main():
    bootstrap, topic, count, compression = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    host, port = bootstrap.rsplit(":", 1)
    summary = {"librdkafka": __import__("confluent_kafka").libversion()[0], "compression": compression}

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "compression.type": compression,
        "linger.ms": 5,
        "message.timeout.ms": 20000,
        "socket.timeout.ms": 10000,
    })
    delivered = []

    def on_delivery(err, msg):
        if err is not None:
            delivered.append(("error", str(err)))
        else:
            delivered.append((msg.offset(), msg.partition()))

    half = count // 2
    for rnd, indexes in enumerate((range(0, half), range(half, count))):
        for i in indexes:
            key, value, headers = message(i)
            producer.produce(topic, value=value, key=key, headers=headers, partition=0, on_delivery=on_delivery)
        remaining = producer.flush(DEADLINE_S)
        if remaining:
            fail("flush(): %d messages still undelivered after %ss" % (remaining, DEADLINE_S))
        if rnd == 0:
            time.sleep(0.05)
    errors = [d for d in delivered if d[0] == "error"]
    if errors:
        fail("delivery errors: %r" % errors[:5])
    if [d[0] for d in delivered] != list(range(count)):
        fail("delivery offsets %r, expected 0..%d in order" % ([d[0] for d in delivered][:20], count - 1))
    summary["delivered"] = len(delivered)

    md = producer.list_topics(timeout=10)
    if topic not in md.topics:
        fail("list_topics(): %s missing from %r" % (topic, sorted(md.topics)))
    tmd = md.topics[topic]
    if tmd.error is not None:
        fail("list_topics(): topic error %s" % tmd.error)
    if 0 not in tmd.partitions:
        fail("list_topics(): partition 0 missing: %r" % list(tmd.partitions))
    leader = tmd.partitions[0].leader
    if leader not in md.brokers:
        fail("list_topics(): leader %r not among brokers %r" % (leader, list(md.brokers)))
    b = md.brokers[leader]
    if (b.host, b.port) != (host, int(port)):
        fail("list_topics(): leader broker is %s:%s, expected %s" % (b.host, b.port, bootstrap))
    summary["partitions"] = len(tmd.partitions)
    summary["broker"] = "%s:%d" % (b.host, b.port)
    summary["brokerId"] = b.id

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "kbroker-compat-unused",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "check.crcs": True,
        "socket.timeout.ms": 10000,
    })
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        if (low, high) != (0, count):
            fail("get_watermark_offsets(): (%d, %d), expected (0, %d)" % (low, high, count))
        summary["watermarks"] = [low, high]

        consumer.assign([TopicPartition(topic, 0, 0)])
        got = []
        deadline = time.time() + DEADLINE_S
        while len(got) < count and time.time() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == -191:  # _PARTITION_EOF
                    continue
                fail("consume error: %s" % msg.error())
            got.append(msg)
        if len(got) != count:
            fail("consumed %d of %d messages within %ss" % (len(got), count, DEADLINE_S))
        timestamps = []
        for i, msg in enumerate(got):
            key, value, headers = message(i)
            if msg.offset() != i:
                fail("message %d has offset %d" % (i, msg.offset()))
            if msg.key() != key:
                fail("offset %d: key %r, expected %r" % (i, msg.key(), key))
            if msg.value() != value:
                fail("offset %d: value %r, expected %r" % (i, (msg.value() or b"")[:40], (value or b"")[:40]))
            if (msg.headers() or []) != headers:
                fail("offset %d: headers %r, expected %r" % (i, msg.headers(), headers))
            ts_type, ts = msg.timestamp()
            if ts_type != TIMESTAMP_CREATE_TIME or ts < 1_600_000_000_000:
                fail("offset %d: timestamp %r" % (i, msg.timestamp()))
            timestamps.append(ts)
        summary["consumed"] = len(got)

        def for_time(ts):
            res = consumer.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            if res[0].error is not None:
                fail("offsets_for_times(%d): %s" % (ts, res[0].error))
            return res[0].offset

        probes = [timestamps[0] - 1000, timestamps[0], timestamps[half], timestamps[half] - 1, timestamps[-1]]
        checked = []
        for ts in probes:
            want = next(i for i, t in enumerate(timestamps) if t >= ts)
            got_offset = for_time(ts)
            if got_offset != want:
                fail("offsets_for_times(%d): %d, expected %d (timestamps %r)" % (ts, got_offset, want, timestamps[:3]))
            checked.append([ts, got_offset])
        past = for_time(timestamps[-1] + 60_000)
        if past not in (-1, OFFSET_END):
            fail("offsets_for_times(after the last record): %d, expected -1" % past)
        summary["offsetsForTimes"] = checked
        summary["offsetPastEnd"] = past
    finally:
        consumer.close()

    print(json.dumps(summary))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, KafkaException) as e:
        print("FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
