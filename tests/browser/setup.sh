#!/usr/bin/env bash
# CTest fixture of the browser test: puts the test and its package files in
# DIR and installs puppeteer-core there with `npm ci` from the committed
# lock file (the npm registry only: puppeteer-core downloads no browser).
# Skips the install when DIR already holds that exact lock file's modules.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
cp "$src/package.json" "$src/package-lock.json" "$src/console.test.mjs" "$dir/"
stamp="$dir/node_modules/.argus-lock"
if [[ -f $stamp ]] && cmp -s "$stamp" "$dir/package-lock.json"; then
  exit 0
fi
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
