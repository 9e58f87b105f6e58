#!/usr/bin/env bash
# Runs the GPU tests and/or the benchmarks from a bundle made by
# scripts/gpu-bundle.sh, writing reports into OUTDIR: `tests` (kernels and
# the runtime API on the GPU), `bench` (kernels against nvcc, the runtime
# against the driver), `runtime` (the runtime's tests and benchmark alone),
# `demo` (scripts/demo.sh on the GPU: twasm-run on the signed saxpy.twa,
# verified bit for bit with python3 and timed), `snapshot` (the snapshot
# tests with GPU -> CPU -> GPU round trips, and the snapshot benchmark in
# managed and device memory), `tenancy` (the tenancy tests with the full
# stress run, and the tenancy benchmark with and without SM groups, and on
# this machine's CPU), `tenancy-causes` (which attacks, together, slow a
# tenant on its own SM group: each mix three times, docs/tenancy.md "Not
# yet"), `server` (the HTTP API's load benchmark),
# `programs` (programs launching their kernels on the GPU: the program tests,
# the example programs on the CPU and the GPU side by side, and the launch
# benchmark from Wasm host code against the C++ API) or `all`.
set -uo pipefail

bundle=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh OUTDIR [tests|bench|runtime|demo|snapshot|tenancy|tenancy-causes|server|programs|all]}
what=${2:-all}
mkdir -p "$out"
status=0

nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total \
  --format=csv | tee "$out/device.txt"

if [[ $what == tests || $what == all ]]; then
  "$bundle/bin/twasm-gpu-tests" --kernel-dir "$bundle/kernels" \
    --trap-dir "$bundle/traps" --twin-dir "$bundle/twins" \
    --gtest_output="json:$out/gpu-tests.json" 2>&1 | tee "$out/gpu-tests.txt"
  status=$((status | PIPESTATUS[0]))
  # The same cases on this machine's CPU, then each case's result digest on
  # the two devices side by side.
  "$bundle/bin/twasm-cpu-example-tests" --kernel-dir "$bundle/kernels/host" \
    2>&1 | tee "$out/cpu-examples.txt"
  status=$((status | PIPESTATUS[0]))
  digests() { sed -n 's/^\[ checked  \] \([a-z_]*\) .*result digest \([0-9a-f]*\)$/\1 \2/p' "$1" | sort; }
  join <(digests "$out/gpu-tests.txt") <(digests "$out/cpu-examples.txt") |
    awk '{ print $1, "gpu", $2, "cpu", $3, ($2 == $3 ? "identical" : "differ") }' |
    tee "$out/cpu-vs-gpu.txt"
fi
if [[ $what == programs || $what == all ]]; then
  TWASM_TEST_DEVICE=cuda TWASM_TEST_KERNEL_DIR="$bundle/runtime" \
    TWASM_CACHE_DIR="$out/cubin-cache" "$bundle/bin/twasm-program-tests" \
    2>&1 | tee "$out/program-tests.txt"
  status=$((status | PIPESTATUS[0]))
  # Each example program on this machine's CPU and on the GPU: the same
  # output, byte for byte.
  for program in saxpy sgemm softmax; do
    for device in cpu cuda; do
      TWASM_CACHE_DIR="$out/cubin-cache" "$bundle/bin/twasm-run" \
        "$bundle/programs/$program.twa" --key "$bundle/runtime/publisher.pub" \
        --device $device > "$out/program-$program-$device.txt" \
        2> "$out/program-$program-$device.err"
      echo "$program on $device: exit $?" | tee -a "$out/programs.txt"
    done
    if cmp -s "$out/program-$program-cpu.txt" "$out/program-$program-cuda.txt"
    then
      echo "$program: identical on cpu and cuda" | tee -a "$out/programs.txt"
    else
      echo "$program: DIFFERS" | tee -a "$out/programs.txt"
      status=1
    fi
    cat "$out/program-$program-cuda.txt" "$out/program-$program-cuda.err"
  done
  TWASM_CACHE_DIR="$out/cubin-cache" "$bundle/bin/twasm-bench-program" \
    "$bundle/runtime" --device cuda --json "$out/bench-program.json" 2>&1 |
    tee "$out/bench-program.txt"
fi
if [[ $what == tests || $what == runtime || $what == all ]]; then
  # The runtime API's tests, the same as CI runs on the cpu device, on the
  # cuda device.
  TWASM_TEST_DEVICE=cuda TWASM_TEST_KERNEL_DIR="$bundle/runtime" \
    TWASM_CACHE_DIR="$out/cubin-cache" "$bundle/bin/twasm-runtime-tests" \
    --gtest_output="json:$out/runtime-tests.json" 2>&1 |
    tee "$out/runtime-tests.txt"
  status=$((status | PIPESTATUS[0]))
fi
if [[ $what == bench || $what == runtime || $what == all ]]; then
  "$bundle/bin/twasm-bench-runtime" "$bundle/runtime" \
    --json "$out/bench-runtime.json" 2>&1 | tee "$out/bench-runtime.txt"
  status=$((status | PIPESTATUS[0]))
  # Verifying and loading a 1 MB signed artifact onto the GPU.
  TWASM_CACHE_DIR="$out/cubin-cache" "$bundle/bin/twasm-bench-artifact" \
    "$bundle/runtime/lookup.twa" "$bundle/runtime/lookup-publisher.pub" \
    --device cuda --json "$out/bench-artifact.json" 2>&1 |
    tee "$out/bench-artifact.txt"
  status=$((status | PIPESTATUS[0]))
fi
if [[ $what == bench || $what == all ]]; then
  "$bundle/bin/twasm-bench-kernels" "$bundle/kernels" "$bundle/twins" \
    --json "$out/bench-kernels.json" 2>&1 | tee "$out/bench-kernels.txt"
  status=$((status | PIPESTATUS[0]))
fi
if [[ $what == snapshot || $what == all ]]; then
  TWASM_TEST_DEVICE=cuda TWASM_TEST_KERNEL_DIR="$bundle/runtime" \
    TWASM_SNAPSHOT_GOLDEN_DIR="$bundle/snapshots" \
    "$bundle/bin/twasm-snapshot-tests" \
    --gtest_output="json:$out/snapshot-tests.json" 2>&1 |
    tee "$out/snapshot-tests.txt"
  status=$((status | PIPESTATUS[0]))
  for memory in device managed; do
    "$bundle/bin/twasm-bench-snapshot" "$bundle/runtime/snapshot_memory.twa" \
      "$bundle/runtime/snapshot_memory-publisher.pub" --device cuda \
      --memory "$memory" --dir "$out/snapshot-files" \
      --json "$out/bench-snapshot-$memory.json" 2>&1 |
      tee "$out/bench-snapshot-$memory.txt"
    status=$((status | PIPESTATUS[0]))
    rm -rf "$out/snapshot-files"
  done
fi
if [[ $what == tenancy || $what == all ]]; then
  # The tenancy tests with the full stress run, with linear memory in
  # managed and in device memory; then resets of instances on the GPU.
  for memory in managed device; do
    TWASM_TEST_DEVICE=cuda TWASM_TEST_MEMORY=$memory \
      TWASM_TEST_KERNEL_DIR="$bundle/runtime" \
      TWASM_PASETO_VECTORS="$bundle/paseto/v4-public.json" \
      TWASM_TENANCY_STRESS_LAUNCHES=1000 timeout 600 \
      "$bundle/bin/twasm-tenancy-tests" \
      --gtest_output="json:$out/tenancy-tests-$memory.json" 2>&1 |
      tee "$out/tenancy-tests-$memory.txt"
    status=$((status | PIPESTATUS[0]))
  done
  TWASM_TEST_DEVICE=cuda TWASM_TEST_KERNEL_DIR="$bundle/runtime" \
    TWASM_SNAPSHOT_GOLDEN_DIR="$bundle/snapshots" timeout 300 \
    "$bundle/bin/twasm-snapshot-tests" --gtest_filter='InstanceReset.*' \
    2>&1 | tee "$out/instance-reset-tests.txt"
  status=$((status | PIPESTATUS[0]))
  run=0
  # Each attack alone and all together, each tenant on its own group of 16
  # SMs with device memory from its own capped pool (the attackers in two
  # orders, so on other groups, and three endless kernels: how many busy
  # tenants against which attack); the same in managed memory; the whole
  # GPU shared; and this machine's CPU. Each attacked phase stops after 10 s.
  groups="--device cuda --memory device --sm-group-size 16"
  for options in "$groups" "$groups --attackers bomber,crowd,trapper,looper" \
    "$groups --attackers looper,looper,looper" \
    "$groups --attackers looper" \
    "$groups --attackers trapper" "$groups --attackers crowd" \
    "$groups --attackers bomber" \
    "--device cuda --memory managed --sm-group-size 16" \
    "--device cuda --memory device" "--device cpu" \
    "--device cpu --cpu-slice-us 0 --launches 200"; do
    run=$((run + 1))
    echo "== twasm-bench-tenancy $options" | tee "$out/bench-tenancy-$run.txt"
    # shellcheck disable=SC2086 # the options are words
    timeout 60 "$bundle/bin/twasm-bench-tenancy" \
      "$bundle/runtime/tenancy_kernels.twa" \
      "$bundle/runtime/tenancy_kernels-publisher.pub" $options \
      --attack-seconds 10 --json "$out/bench-tenancy-$run.json" 2>&1 |
      tee -a "$out/bench-tenancy-$run.txt"
    status=$((status | PIPESTATUS[0]))
  done
fi
if [[ $what == tenancy-causes ]]; then
  # Three or four attackers at once cost the good tenant 1 to 16 times its
  # time alone, steady within a run, varying between runs (bench/README.md).
  # Each mix three times, each tenant on its own group of 16 SMs in the same
  # order every run (the groups are printed): endless kernels that store to
  # one word (looper) against ones that touch no linear memory (idler), so
  # the memory system against busy SMs; and which of the endless kernel,
  # the trap storm and the huge grids must be there. Each attacked phase
  # stops after 4 s or 1,000 launches.
  groups="--device cuda --memory device --sm-group-size 16"
  run=0
  for mix in looper,trapper,crowd,bomber bomber,crowd,trapper,looper \
    looper,looper,looper idler,idler,idler idler,idler,idler,idler,idler,idler \
    looper,trapper,crowd idler,trapper,crowd crowd,crowd,crowd \
    trapper,trapper,trapper looper,crowd idler,crowd looper,trapper \
    trapper,crowd; do
    for repeat in 1 2 3; do
      run=$((run + 1))
      name=$(printf 'causes-%02d' "$run")
      echo "== twasm-bench-tenancy $groups --attackers $mix (run $repeat)" |
        tee "$out/$name.txt"
      # shellcheck disable=SC2086 # the options are words
      timeout 30 "$bundle/bin/twasm-bench-tenancy" \
        "$bundle/runtime/tenancy_kernels.twa" \
        "$bundle/runtime/tenancy_kernels-publisher.pub" $groups \
        --attackers "$mix" --launches 1000 --attack-seconds 4 \
        --json "$out/$name.json" --samples "$out/$name.csv" >>"$out/$name.txt" 2>&1
      status=$((status | $?))
      grep -h 'ratio  ' "$out/$name.txt"
    done
  done
fi
if [[ $what == server || $what == all ]]; then
  # 64 clients invoking saxpy through the HTTP API for 30 s, on the GPU in
  # device memory (bench/server/load_bench.py).
  PATH="$bundle/bin:$PATH" LD_LIBRARY_PATH="$bundle/lib" timeout 300 \
    python3 "$bundle/load_bench.py" --serve "$bundle/bin/twasm-serve" \
    --prepared "$bundle/server" --device cuda --memory device \
    --seconds 30 --json "$out/bench-server.json" 2>&1 |
    tee "$out/bench-server.txt"
  status=$((status | PIPESTATUS[0]))
fi
if [[ $what == demo || $what == all ]]; then
  TWASM_RUN_COMPILED=1 TWASM_RUN="$bundle/bin/twasm-run" \
    SAXPY_MODULE="$bundle/runtime/saxpy.twa" \
    SAXPY_PROGRAM="$bundle/programs/saxpy.twa" \
    SAXPY_KEY="$bundle/runtime/publisher.pub" TWASM_DEVICE=cuda \
    DEMO_OUT="$out/demo" bash "$bundle/demo.sh" 2>&1 | tee "$out/demo.txt"
  status=$((status | PIPESTATUS[0]))
  # Its 8 MB of inputs and outputs are checked; they need not come back.
  rm -rf "$out/demo"
fi
exit $status
