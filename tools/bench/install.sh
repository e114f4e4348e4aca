#!/usr/bin/env bash
# Installs what `make bench` needs beyond tools/deps.sh: python3 for the
# driver, prometheus-alertmanager for the side-by-side runs and wrk for the
# load generator cross-check. Only `make bench` calls this; when apt cannot
# install something, the suite still runs and skips the parts that need it.
set -uo pipefail

packages=(prometheus-alertmanager wrk)
command -v python3 >/dev/null || packages+=(python3)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bench: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Where systemd runs, the package starts its own service on :9093; the suite
# does not use it (it starts its own on a free port with a temp dir).
$sudo apt-get update -qq &&
  $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null ||
  echo "bench: could not install ${missing[*]}; the parts that need them are skipped"
command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 1; }
exit 0
