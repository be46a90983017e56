"""confluent-kafka-python over a secured kbroker listener: argv[1] = bootstrap, argv[2] = JSON of
client settings (security.protocol, sasl.*, ssl.*), argv[3] = topic. Produces 3 records, reads them
back with assign() from offset 0 and prints a JSON summary; an error is printed as {"error": ...}."""
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, settings, topic = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
base = {"bootstrap.servers": bootstrap, **settings}
try:
    errors = []
    # Authentication failures come through error_cb (librdkafka keeps retrying the connection).
    p = Producer({**base, "acks": "all", "message.timeout.ms": 10000,
                  "error_cb": lambda err: errors.append(str(err))})
    for i in range(3):
        p.produce(topic, value=f"secure-{i}".encode(), partition=0,
                  on_delivery=lambda err, msg: errors.append(str(err)) if err else None)
    left = p.flush(20)
    if left or errors:
        print(json.dumps({"error": errors[0] if errors else f"{left} not delivered"}))
        sys.exit(0)
    c = Consumer({**base, "group.id": "secure-py", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    for _ in range(100):
        m = c.poll(0.5)
        if m is None:
            if len(got) >= 3:
                break
            continue
        if m.error():
            raise KafkaException(m.error())
        got.append(m.value().decode())
        if len(got) >= 3:
            break
    c.close()
    print(json.dumps({"consumed": got}))
except KafkaException as e:
    print(json.dumps({"error": str(e)}))
