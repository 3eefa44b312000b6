#!/usr/bin/env bash
# Build: AssemblyScript kernels -> wasm (plain SIMD and relaxed SIMD builds), then TypeScript -> dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/build-wasm.sh ] && [ -f src/engine/as/index.ts ]; then bash scripts/build-wasm.sh; fi
npx tsc -p tsconfig.json
# static files the compiled code serves or loads
rm -rf dist/service/dashboard && mkdir -p dist/service && cp -r src/service/dashboard dist/service/
chmod +x dist/cli/main.js 2>/dev/null || true
