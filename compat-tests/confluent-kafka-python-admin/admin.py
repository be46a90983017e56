#!/usr/bin/python3
"""confluent-kafka-python AdminClient (librdkafka) against a kbroker.

Usage: admin.py BOOTSTRAP PREFIX

Creates a topic with configs, lists it, describes its configs, alters them (AlterConfigs v0,
non-incremental), creates partitions, checks the error of an existing topic and a bad config, and
deletes the topic; each step is checked by reading the state back. DeleteRecords is not in this
confluent-kafka release (AdminClient.delete_records arrived in 2.4). Prints one JSON summary line.
"""

import json
import sys
import time

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic


def fail(msg):
    raise AssertionError(msg)


def wait(futures):
    return {k: f.result(timeout=20) for k, f in futures.items()}


def main():
    bootstrap, prefix = sys.argv[1], sys.argv[2]
    topic = prefix + "-admin"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    summary = {}

    wait(admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1,
                                       config={"retention.ms": "3600000", "cleanup.policy": "compact"})]))
    md = admin.list_topics(timeout=10)
    if topic not in md.topics:
        fail("created topic not listed")
    summary["partitions"] = len(md.topics[topic].partitions)

    # Existing topic and bad config values come back with Kafka's codes.
    errors = {}
    for name, new in [("exists", NewTopic(topic, 1, 1)),
                      ("badconfig", NewTopic(prefix + "-bad", 1, 1, config={"retention.ms": "soon"})),
                      ("badrf", NewTopic(prefix + "-rf", 1, 3))]:
        try:
            wait(admin.create_topics([new]))
            errors[name] = None
        except KafkaException as e:
            err = e.args[0]
            errors[name] = [err.name(), err.str()]
    summary["errors"] = errors

    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    described = list(wait(admin.describe_configs([res])).values())[0]
    summary["described"] = {k: [v.value, int(v.source)] for k, v in described.items()
                            if k in ("retention.ms", "cleanup.policy", "segment.bytes")}

    # AlterConfigs replaces every override.
    alter = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.bytes": "1048576"})
    wait(admin.alter_configs([alter]))
    described = list(wait(admin.describe_configs([res])).values())[0]
    summary["altered"] = {k: [v.value, int(v.source)] for k, v in described.items()
                          if k in ("retention.ms", "retention.bytes", "cleanup.policy")}

    wait(admin.create_partitions([NewPartitions(topic, 5)]))
    deadline = time.time() + 10
    while len(admin.list_topics(topic=topic, timeout=10).topics[topic].partitions) != 5:
        if time.time() > deadline:
            fail("partitions did not grow to 5")
        time.sleep(0.1)
    summary["grown"] = 5

    wait(admin.delete_topics([topic]))
    deadline = time.time() + 10
    while topic in admin.list_topics(timeout=10).topics:
        if time.time() > deadline:
            fail("deleted topic still listed")
        time.sleep(0.1)
    summary["deleted"] = True
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
