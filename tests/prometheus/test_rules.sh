#!/bin/sh
# promtool check rules / test rules on examples/prometheus (Debian's `prometheus` package).
# Exits 77 (ctest SKIP) when promtool is not installed.
set -eu
dir="${1:?usage: test_rules.sh <examples/prometheus dir>}"
if ! command -v promtool >/dev/null 2>&1; then
  echo "SKIP: promtool not found (apt-get install prometheus, or scripts/install-deps)"
  exit 77
fi
cd "$dir"
promtool check rules flowlier-rules.yml
promtool check config scrape.yml
promtool test rules flowlier-rules.test.yml
