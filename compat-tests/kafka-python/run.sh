#!/usr/bin/env bash
# kafka-python against a fresh kbroker, twice: 2.0.2 from Debian (old, fixed protocol versions:
# Metadata v1, Fetch v4, Produce v7, ListOffsets v1, JoinGroup v2...) and the current 3.x from
# PyPI. Scenario: scenario.py.
#
#   compat-tests/kafka-python/run.sh [--install-only] [feature...]
# The Debian packages are unpacked (apt-get download + dpkg -x) into the cache, not installed,
# and run with Debian's /usr/bin/python3 they were built for.
source "$(dirname "$0")/../lib/common.sh"
compat_init kafka-python
HERE="$REPO/compat-tests/kafka-python"
DEB_VERSION=2.0.2
DEB_DIR="$CACHE/kafka-python-debian-$DEB_VERSION"
VENV="$CACHE/kafka-python-venv-$(grep -E '^kafka-python==' "$HERE/requirements-3.txt" | cut -d= -f3)"
install_only=""; [ "${1:-}" = "--install-only" ] && { install_only=1; shift; }

install_debian() {
  [ -f "$DEB_DIR/.complete" ] && return 0
  rm -rf "$DEB_DIR"; mkdir -p "$DEB_DIR/debs"
  local pkgs=(python3-kafka python3-lz4 python3-snappy libsnappy1v5 python3-zstandard)
  (cd "$DEB_DIR/debs" && { apt-get download "${pkgs[@]}" 2>/dev/null || { apt-get update -qq && apt-get download "${pkgs[@]}"; }; })
  local v; v=$(dpkg-deb -f "$DEB_DIR"/debs/python3-kafka_*.deb Version)
  [[ "$v" == "$DEB_VERSION"-* ]] || { echo "Debian's python3-kafka is $v, not $DEB_VERSION"; return 1; }
  for d in "$DEB_DIR"/debs/*.deb; do dpkg -x "$d" "$DEB_DIR/root"; done
  touch "$DEB_DIR/.complete"
}
install_pypi() {
  [ -f "$VENV/.complete" ] && return 0
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements-3.txt"
  touch "$VENV/.complete"
}
compat_timed_install "python3-kafka $DEB_VERSION + codecs (Debian)" install_debian
compat_timed_install "kafka-python 3.x + codecs (PyPI venv)" install_pypi
[ -n "$install_only" ] && exit 0

status=0
run_peer() {
  local peer="$1"; shift
  RESULTS="$COMPAT_OUT/$peer.tsv"; : >"$RESULTS"; export COMPAT_RESULTS="$RESULTS"
  cp "$COMPAT_OUT/kafka-python.install" "$COMPAT_OUT/$peer.install" 2>/dev/null || true
  compat_start_broker --override num.partitions=3
  (cd "$CACHE" && timeout -k 10 900 "$@" "$HERE/scenario.py" "$BOOTSTRAP" $FEATURES) >"$COMPAT_OUT/$peer.log" 2>&1 \
    || compat_log "scenario exited $? (see $COMPAT_OUT/$peer.log)"
  compat_stop_broker
  rm -rf "$BROKER_DATA"
  node "$REPO/compat-tests/lib/judge.mjs" --peer "$peer" --results "$COMPAT_OUT" || status=1
}
FEATURES="$*"
PYTHONPATH="$DEB_DIR/root/usr/lib/python3/dist-packages" LD_LIBRARY_PATH="$DEB_DIR/root/usr/lib/x86_64-linux-gnu" run_peer kafka-python-2.0 /usr/bin/python3
run_peer kafka-python-3 "$VENV/bin/python"
exit $status
