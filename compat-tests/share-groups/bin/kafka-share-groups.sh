#!/usr/bin/env bash
exec "$(dirname "${BASH_SOURCE[0]}")/../../kafka-tools/bin/kafka-run-class.sh" org.apache.kafka.tools.consumer.group.ShareGroupCommand "$@"
