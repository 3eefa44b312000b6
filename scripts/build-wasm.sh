#!/usr/bin/env bash
# Compile the AssemblyScript kernels (src/engine/as/index.ts) into two wasm builds:
#   engine_simd.wasm     plain 128-bit SIMD (runs everywhere wasm SIMD does)
#   engine_relaxed.wasm  + relaxed SIMD (fused multiply-add); chosen at start-up when the runtime accepts it
#   engine_*_shared.wasm the same two over an imported shared memory (max 4 GiB), for an Engine whose
#                        kernels a second thread also runs (src/engine/twin.ts: the two-thread forecast)
# Output goes to src/engine/wasm/ (used when running from source) and dist/engine/wasm/ (the package).
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/engine/wasm
mkdir -p "$out" dist/engine/wasm
asc() { node node_modules/assemblyscript/bin/asc.js "$@"; }
common=(src/engine/as/index.ts -O3 --noAssert --runtime stub --initialMemory 32 --exportStart _initialize)
asc "${common[@]}" --enable simd -o "$out/engine_simd.wasm"
asc "${common[@]}" --enable simd --enable relaxed-simd -o "$out/engine_relaxed.wasm"
shared=(--enable threads --importMemory --sharedMemory --maximumMemory 65536)
asc "${common[@]}" "${shared[@]}" --enable simd -o "$out/engine_simd_shared.wasm"
asc "${common[@]}" "${shared[@]}" --enable simd --enable relaxed-simd -o "$out/engine_relaxed_shared.wasm"
cp "$out"/*.wasm dist/engine/wasm/
