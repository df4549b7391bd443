#!/usr/bin/env bash
# Install the real tools the server tests and benchmarks drive: Prometheus Alertmanager (and amtool) and
# Prometheus, from Debian/Ubuntu's packages. Idempotent: does nothing when both binaries are present.
# Needs root (CI runs as root); fails loudly when it cannot install.
set -euo pipefail

ALERTMANAGER=/usr/bin/prometheus-alertmanager
PROMETHEUS=/usr/bin/prometheus
AMTOOL=/usr/bin/amtool

if [[ -x "$ALERTMANAGER" && -x "$PROMETHEUS" && -x "$AMTOOL" ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install_tools.sh: $ALERTMANAGER, $AMTOOL or $PROMETHEUS is missing and installing needs root;" >&2
  echo "  run: sudo bash scripts/install_tools.sh" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_tools.sh: apt-get not found; install prometheus-alertmanager and prometheus by hand" >&2
  exit 1
fi

echo "installing prometheus-alertmanager and prometheus"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends prometheus-alertmanager prometheus

# The packages start services on the default ports (9090, 9093) where an init system runs; the tests
# start their own instances on free ports, so these are not needed, but they are left alone.
for binary in "$ALERTMANAGER" "$AMTOOL" "$PROMETHEUS"; do
  if [[ ! -x "$binary" ]]; then
    echo "install_tools.sh: $binary is still missing after the install" >&2
    exit 1
  fi
done
"$ALERTMANAGER" --version 2>&1 | head -n 1
"$PROMETHEUS" --version 2>&1 | head -n 1
