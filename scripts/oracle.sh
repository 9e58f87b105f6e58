#!/bin/bash
# The differential oracle at scale (docs/testing.md): CASES random kernels
# split over JOBS processes, each with its own seed.
#
#   scripts/oracle.sh BUILD CASES SEED JOBS cpu OUT
#       the CPU backend against wabt's interpreter; divergences, shrunk,
#       land in OUT/failures-*.
#   scripts/oracle.sh BUILD CASES SEED JOBS sm_90 OUT
#       compiles the cases for the GPU and records wabt's outcomes in
#       OUT/batches, then packs OUT/batches.tar.xz for a GPU machine, where
#       test/oracle/replay-on-gpu.sh runs them.
set -euo pipefail
build=$1 cases=$2 seed=$3 jobs=$4 target=$5 out=$6
mkdir -p "$out"
per=$(( (cases + jobs - 1) / jobs ))
pids=()
for ((i = 0; i < jobs; i++)); do
  # Seeds a billion apart: the processes' cases never coincide.
  job_seed=$(( seed + i * 1000000000 ))
  if [[ $target == cpu ]]; then
    args=(--failures "$out/failures-$i")
  else
    args=(--emit "$out/batches/$i" --target "$target" --batch 100
          --failures "$out/failures-$i")
  fi
  "$build/bin/twasm-oracle" --cases "$per" --seed "$job_seed" "${args[@]}" \
    > "$out/job-$i.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
grep -h "cases (seed" "$out"/job-*.log
grep -h -A3 "^DIVERGENCE" "$out"/job-*.log || true
if [[ $target != cpu && $status == 0 ]]; then
  tar -C "$out" -cf - batches | xz -T"$jobs" -6 > "$out/batches.tar.xz"
  echo "packed $(du -h "$out/batches.tar.xz" | cut -f1) for the GPU machine"
fi
exit $status
