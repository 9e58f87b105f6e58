#!/bin/bash
# On a GPU machine: replays batches packed by scripts/oracle.sh (compiled
# for the GPU, with the reference's expectations) in SHARDS processes, each
# with its own CUDA context, so that the driver compiles their PTX in
# parallel; sums what they report.
#
#   replay-on-gpu.sh twasm-oracle-replay batches.tar.xz OUT [SHARDS] [MEMORY]
set -uo pipefail
replay=$1 packed=$2 out=$3 shards=${4:-12} memory=${5:-managed}
work=$(mktemp -d)
tar -C "$work" -xJf "$packed"
mkdir -p "$out/dumps"
nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total \
  --format=csv > "$out/gpu.txt" 2>&1 || true
start=$(date +%s)
pids=()
for dir in "$work"/batches/*; do
  for ((k = 0; k < shards; k++)); do
    name=$(basename "$dir")-$k
    "$replay" "$dir" --device cuda --memory "$memory" --shard "$k/$shards" \
      --dumps "$out/dumps" > "$out/replay-$name.log" 2> "$out/replay-$name.err" &
    pids+=($!)
  done
  # One directory at a time: each holds one seed's batches.
  for pid in "${pids[@]}"; do wait "$pid"; done
  pids=()
done
end=$(date +%s)
grep -h "^DIVERGENCE" "$out"/replay-*.log | head -50
awk '/cases in/ {cases += $1; d = $NF; divergent += d}
     END {printf "%d cases, %d divergences\n", cases, divergent}' \
  "$out"/replay-*.log | tee "$out/summary.txt"
echo "wall time: $((end - start)) s" | tee -a "$out/summary.txt"
cat "$out/gpu.txt"
