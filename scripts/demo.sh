#!/usr/bin/env bash
# The main job at this stage: compile an example kernel from C to WebAssembly
# with clang-22, import it into the twasm dialect, and print the IR before and
# after canonicalization.
set -euo pipefail

build=${1:-build/default}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$build/demo"
mkdir -p "$out"

echo "== Compiling examples/saxpy/saxpy.c to WebAssembly (clang-22, wasm32)"
clang-22 --target=wasm32 -nostdlib -O2 -Wl,--no-entry \
  "$root/examples/saxpy/saxpy.c" -o "$out/saxpy.wasm"
echo "   $out/saxpy.wasm: $(stat -c %s "$out/saxpy.wasm") bytes"

echo
echo "== Importing it into the twasm dialect (twasm-opt saxpy.wasm)"
"$build/bin/twasm-opt" "$out/saxpy.wasm" | tee "$out/saxpy.mlir"

echo
echo "== After canonicalization (twasm-opt saxpy.wasm --canonicalize)"
"$build/bin/twasm-opt" "$out/saxpy.wasm" --canonicalize
echo
echo "The lowering to PTX and to native code comes next (issues 3 and 4)."
