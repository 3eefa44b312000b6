#!/usr/bin/env bash
# Run a test suite with node's built-in test runner (its summary lines are what CI reads).
#   scripts/run-tests.sh unit         unit tests only (no services needed)
#   scripts/run-tests.sh integration  tests that need MariaDB / Slurm / InfluxDB / Chromium running
#   scripts/run-tests.sh all          both
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:-unit}
case "$suite" in
  unit) dirs="test/unit" ;;
  integration) dirs="test/integration" ;;
  all) dirs="test/unit test/integration" ;;
  *) echo "unknown suite: $suite (expected unit, integration or all)" >&2; exit 2 ;;
esac
files=$(find $dirs -name '*.test.ts' 2>/dev/null | sort)
if [ -z "$files" ]; then echo "no test files in $dirs" >&2; exit 1; fi
# --test-concurrency=1 for integration: they share the services.
conc=2; [ "$suite" = unit ] || conc=1
exec node --import tsx --test --test-concurrency=$conc --test-reporter=spec $files
