#!/usr/bin/env bash
# Gathers what the GPU tests and benchmarks need into one folder that can be
# copied to a machine with a GPU but no build tools: the test and benchmark
# binaries (no LLVM, MLIR or CUDA library linked), the compiled example and
# trap kernels with their manifests (PTX, and the examples' x86-64 shared
# objects, which the same machine's CPU runs for comparison), and the nvcc
# twins, signed artifacts of the runtime's test kernels (and the snapshot
# tests' stateful module and golden files), of saxpy and of the
# artifact benchmark's kernel with the public keys that check them, and the
# demo (demo.sh with twasm-run, which runs the signed saxpy without the
# compiler), and the server (twasm-serve with the shared libraries it and
# wrk need, the load benchmark and what it runs on, prepared here). The
# folder is also packed into BUNDLE.tar.xz, which is what travels (a run
# carries at most 64 MiB). Run it there with
# `tar xJf BUNDLE.tar.xz && bash bundle/run.sh OUTDIR [tests|...|all]`.
set -euo pipefail

build=${1:-build/default}
bundle=${2:-.device/bundle}
root=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/kernels/host" "$bundle/traps" "$bundle/twins" \
  "$bundle/runtime"
cp "$build/bin/twasm-gpu-tests" "$build/bin/twasm-bench-kernels" \
  "$build/bin/twasm-cpu-example-tests" "$build/bin/twasm-runtime-tests" \
  "$build/bin/twasm-bench-runtime" "$build/bin/twasm-bench-artifact" \
  "$build/bin/twasm-run" "$build/bin/twasm-bench-snapshot" \
  "$build/bin/twasm-snapshot-tests" "$build/bin/twasm-tenancy-tests" \
  "$build/bin/twasm-bench-tenancy" "$build/bin/twasm-program-tests" \
  "$build/bin/twasm-bench-program" "$bundle/bin/"
# The runtime's tests and benchmark: their kernels beside saxpy's PTX.
cp "$build"/test/unit/runtime-kernels-gpu.* "$build"/bench/runtime/empty.* \
  "$build"/examples/kernels/saxpy.ptx "$build"/examples/kernels/saxpy.json \
  "$build"/test/unit/runtime-kernels.twa "$build"/test/unit/test-publisher.pub \
  "$build"/bench/runtime/lookup.twa "$build"/bench/runtime/lookup-publisher.pub \
  "$build"/bench/runtime/snapshot_memory.twa \
  "$build"/bench/runtime/snapshot_memory-publisher.pub \
  "$build"/test/unit/stateful.twa "$build"/test/unit/runtime-kernels.so \
  "$build"/test/unit/runtime-kernels.json \
  "$build"/bench/runtime/tenancy_kernels.twa \
  "$build"/bench/runtime/tenancy_kernels-publisher.pub \
  "$build"/test/unit/program.so "$build"/test/unit/program.json \
  "$build"/test/unit/program-gpu.ptx "$build"/test/unit/program-gpu.json \
  "$build"/bench/runtime/program_launch.so \
  "$build"/bench/runtime/program_launch.json \
  "$build"/bench/runtime/program_launch-gpu.ptx \
  "$build"/bench/runtime/program_launch-gpu.json "$bundle/runtime/"
# The PASETO specification's test vectors, for the tenancy tests.
mkdir -p "$bundle/paseto"
cp "$root"/test/data/paseto/v4-public.json "$bundle/paseto/"
# The snapshot tests' golden files.
mkdir -p "$bundle/snapshots"
cp "$root"/test/data/snapshots/* "$bundle/snapshots/"
# The demo's saxpy, signed with a key made here; only its public half goes.
rm -f "$build/demo-publisher.key" "$build/demo-publisher.pub"
"$build/bin/twasm" keygen -o "$build/demo-publisher" >/dev/null
"$build/bin/twasm" compile "$build/examples/kernels/saxpy.wasm" \
  --target sm_90 --sign "$build/demo-publisher.key" --name demo/saxpy \
  -o "$bundle/runtime/saxpy.twa" 2>/dev/null
cp "$build/demo-publisher.pub" "$bundle/runtime/publisher.pub"
# The example programs (host code and kernels in one artifact each), signed
# with the same key: run.sh programs runs each on the CPU and the GPU.
mkdir -p "$bundle/programs"
for program in saxpy sgemm softmax; do
  clang-22 --target=wasm32-wasi -Wno-deprecated --sysroot=/usr -O2 \
    -I "$root/include" "$root/examples/programs/$program.c" \
    -o "$build/$program-program.wasm"
  "$build/bin/twasm" compile "$build/$program-program.wasm" \
    --target host,sm_90 --sign "$build/demo-publisher.key" \
    --name "examples/$program" -o "$bundle/programs/$program.twa" 2>/dev/null
done
cp "$build"/examples/kernels/*.ptx "$build"/examples/kernels/*.json \
  "$bundle/kernels/"
cp "$build"/examples/kernels/host/*.so "$build"/examples/kernels/host/*.json \
  "$bundle/kernels/host/"
cp "$build"/test/gpu/kernels/traps.ptx "$build"/test/gpu/kernels/traps.json \
  "$bundle/traps/"
if compgen -G "$build/bench/twins/*.cubin" >/dev/null; then
  cp "$build"/bench/twins/*.cubin "$bundle/twins/"
fi
# The server, its load benchmark and wrk, with the shared libraries that a
# machine without our dependencies lacks (cpp-httplib and what it links,
# wrk's LuaJIT).
cp "$build/bin/twasm-serve" "$(command -v wrk)" "$bundle/bin/"
mkdir -p "$bundle/lib"
for binary in "$build/bin/twasm-serve" "$(command -v wrk)"; do
  ldd "$binary" | awk '/=> \// { print $3 }' |
    grep -E 'httplib|brotli|luajit|libssl|libcrypto' |
    xargs -r -I{} cp -L {} "$bundle/lib/"
done
cp "$root/bench/server/load_bench.py" "$bundle/"
python3 "$root/bench/server/load_bench.py" --twasm "$build/bin/twasm" \
  --artifact "$build/bench/server/saxpy.twa" \
  --publisher "$build/bench/server/saxpy-publisher.pub" \
  --prepare "$bundle/server"
# Debug information and symbols are most of their size.
strip --strip-all "$bundle"/bin/*
cp "$root/scripts/gpu-run.sh" "$bundle/run.sh"
cp "$root/scripts/demo.sh" "$bundle/demo.sh"
rm -f "$bundle.tar.xz"
tar -C "$(dirname "$bundle")" -cf - "$(basename "$bundle")" |
  xz -T2 -6 >"$bundle.tar.xz"
echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1)), packed in" \
  "$bundle.tar.xz ($(du -sh "$bundle.tar.xz" | cut -f1))"
