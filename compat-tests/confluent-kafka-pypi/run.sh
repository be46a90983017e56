#!/usr/bin/env bash
# The current confluent-kafka wheel from PyPI (bundles a current librdkafka) in a venv in the
# cache, against a fresh kbroker. (Debian's 1.7.0 / librdkafka 2.0.2: compat-tests/confluent-kafka-python.)
#   compat-tests/confluent-kafka-pypi/run.sh [--install-only] [feature...]
source "$(dirname "$0")/../lib/common.sh"
compat_init confluent-kafka-pypi
HERE="$REPO/compat-tests/confluent-kafka-pypi"
VENV="$CACHE/confluent-kafka-venv-$(cut -d= -f3 "$HERE/requirements.txt")"
install_only=""; [ "${1:-}" = "--install-only" ] && { install_only=1; shift; }
install() {
  [ -f "$VENV/.complete" ] && return 0
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
  touch "$VENV/.complete"
}
compat_timed_install "confluent-kafka $(cut -d= -f3 "$HERE/requirements.txt") (PyPI venv)" install
[ -n "$install_only" ] && exit 0
compat_start_broker --override num.partitions=3
(cd "$CACHE" && timeout -k 10 900 "$VENV/bin/python" "$HERE/scenario.py" "$BOOTSTRAP" "$@") >"$COMPAT_OUT/$PEER.log" 2>&1 \
  || compat_log "scenario exited $? (see $COMPAT_OUT/$PEER.log)"
grep '^RESULT ' "$COMPAT_OUT/$PEER.log" | cut -c8- | sed 's/^/  /' || true
compat_finish
