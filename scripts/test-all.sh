#!/usr/bin/env bash
# The README's test command (`npm test`): build, install and start every service the tests need
# (MariaDB, Slurm with slurmdbd, InfluxDB, Chromium) from this project's own scripts, run all tests, stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PCM_SERVICES_DIR=${PCM_SERVICES_DIR:-$PWD/.pcm/services}
npm run --silent build
# static checks first: strict types over src, test, bench and harness; lint + format
npx tsc -p tsconfig.test.json
npx biome check src test bench harness
# npm audit of the runtime dependencies: high or critical fail (scripts/audit.sh)
bash scripts/audit.sh
bash scripts/services/install.sh
bash scripts/services/install-chromium.sh
bash scripts/services/up.sh
trap 'bash scripts/services/down.sh || true' EXIT
source "$PCM_SERVICES_DIR/env.sh"
bash scripts/run-tests.sh all
