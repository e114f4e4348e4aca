#!/usr/bin/env bash
# Installs what `make bench` needs beyond the build: prometheus-alertmanager
# for the side-by-side runs, wrk for the load generator cross-check and
# python3 for the driver. When apt cannot install something, the suite still
# runs and skips the parts that need it. (Where systemd runs, the Alertmanager
# package starts its own service on :9093; the suite does not use it.)
set -uo pipefail
cd "$(dirname "$0")/../.."
tools/deps.sh --bench ||
  echo "bench: could not install the benchmark tools; the parts that need them are skipped"
command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 1; }
exit 0
