#!/usr/bin/env bash
# Installs the Debian packages Argus needs to build, run and test (plus the
# developer tools with --dev, the benchmark tools with --bench), when any
# is missing. Safe to run again: it does nothing when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config curl
  libcaf-dev libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev
  # Event bodies parsed without a DOM (simdjson On-Demand, issue 15).
  libsimdjson-dev
  # The in-memory indexes' text hash: XXH3, header only (issue 15).
  libxxhash-dev
  # The server's allocator: tcmalloc_minimal from gperftools (issue 15).
  libgoogle-perftools-dev
  catch2 libsqlite3-dev libssl-dev openssl zlib1g-dev
  libpq-dev postgresql postgresql-15 libcurl4-openssl-dev
  # /metrics: prometheus-cpp's core registry and text serializer.
  prometheus-cpp-dev
  # Maintenance windows: time zones from the system's tz database through
  # Howard Hinnant's date/tz library.
  libhowardhinnant-date-dev tzdata
  # Request bodies sent with Content-Encoding: br.
  libbrotli-dev
  # The integration tests drive the real senders: a Prometheus server and
  # amtool (from Alertmanager's package) pointed at Argus.
  prometheus prometheus-alertmanager
  # The web console's browser test: Debian's headless Chromium, driven by
  # puppeteer-core (tests/browser, installed by npm ci from its lock file).
  chromium
)
# Node and npm for that test, unless some Node (Debian's or another
# vendor's, which bundles npm) is installed already.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
case "${1:-}" in
  --dev) packages+=(clang-format clang-tidy gcovr) ;;
  # make bench: wrk as a cross-check, the driver (Alertmanager, side by side,
  # is already in the test packages), valgrind for instructions_ab.py and
  # perf for the profiles.
  --bench) packages+=(wrk python3 valgrind linux-perf) ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
