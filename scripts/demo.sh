#!/usr/bin/env bash
# The main job at this stage: compile the saxpy kernel from C to WebAssembly
# with clang-22, import it into the twasm dialect, compile it to PTX for an
# H100 (sm_90), check that PTX with ptxas where the CUDA toolkit is installed,
# and, where a GPU and its driver are present, run it there against a CPU
# reference and its nvcc twin.
set -euo pipefail

build=${1:-build/default}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$build/demo"
mkdir -p "$out"
kernel="$root/examples/kernels/saxpy.c"

echo "== Compiling examples/kernels/saxpy.c to WebAssembly (clang-22, wasm32)"
clang-22 --target=wasm32 -O2 -nostdlib -matomics -mbulk-memory \
  -Wl,--no-entry -I "$root/include" "$kernel" -o "$out/saxpy.wasm"
echo "   $out/saxpy.wasm: $(stat -c %s "$out/saxpy.wasm") bytes"

echo
echo "== Its kernels (twasm compile --list-kernels)"
"$build/bin/twasm" compile "$out/saxpy.wasm" --list-kernels

echo
echo "== Imported into the twasm dialect (twasm-opt saxpy.wasm --canonicalize)"
"$build/bin/twasm-opt" "$out/saxpy.wasm" --canonicalize | tee "$out/saxpy.mlir"

echo
echo "== Compiled to PTX (twasm compile saxpy.wasm --target sm_90 --time)"
"$build/bin/twasm" compile "$out/saxpy.wasm" --target sm_90 --time \
  -o "$out/saxpy.ptx"
echo "   $out/saxpy.ptx: $(wc -l <"$out/saxpy.ptx") lines; manifest $out/saxpy.json:"
cat "$out/saxpy.json"
echo
sed -n '/\.entry saxpy/,/^}/p' "$out/saxpy.ptx"

ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [[ -x $ptxas ]]; then
  echo
  echo "== Assembled by ptxas for sm_90"
  "$ptxas" -arch=sm_90 -v "$out/saxpy.ptx" -o "$out/saxpy.cubin" 2>&1 |
    sed 's/^/   /'
fi

echo
if "$build/bin/twasm-gpu-tests" --gtest_list_tests >/dev/null 2>&1 &&
  nvidia-smi >/dev/null 2>&1; then
  echo "== Running it on the GPU against a CPU reference and the nvcc twin"
  "$build/bin/twasm-gpu-tests" --kernel-dir "$build/examples/kernels" \
    --twin-dir "$build/bench/twins" \
    --gtest_filter='*ExampleKernelTest*saxpy*'
else
  echo "No GPU here: the kernel is compiled and checked, not run. Running"
  echo "kernels on the CPU comes with the CPU backend (issue 4)."
fi
