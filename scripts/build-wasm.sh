#!/usr/bin/env bash
# Compile the AssemblyScript kernels (src/engine/as/index.ts) into two wasm builds:
#   engine_simd.wasm     plain 128-bit SIMD (runs everywhere wasm SIMD does)
#   engine_relaxed.wasm  + relaxed SIMD (fused multiply-add); chosen at start-up when the runtime accepts it
# Output goes to src/engine/wasm/ (used when running from source) and dist/engine/wasm/ (the package).
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/engine/wasm
mkdir -p "$out" dist/engine/wasm
asc() { node node_modules/assemblyscript/bin/asc.js "$@"; }
common=(src/engine/as/index.ts -O3 --noAssert --runtime stub --initialMemory 32 --exportStart _initialize)
asc "${common[@]}" --enable simd -o "$out/engine_simd.wasm"
asc "${common[@]}" --enable simd --enable relaxed-simd -o "$out/engine_relaxed.wasm"
cp "$out"/*.wasm dist/engine/wasm/
