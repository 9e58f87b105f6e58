#!/usr/bin/env bash
# Runs the libFuzzer targets: the importer for a number of seconds, seeded
# with every module of the spec test suite (when present) and of the lit
# tests; then the artifact manifest parser for half as long, seeded with
# test/fuzz/artifact-manifest-seeds, and the snapshot decoder for half as
# long, seeded with test/fuzz/snapshot-seeds. Exits non-zero if a fuzzer finds a
# crash, a leak, a sanitizer report or a timeout; the failing input is kept
# under <build>/fuzz-artifacts.
set -euo pipefail

build=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
suite=${SPEC_SUITE:-$root/../shared/wasm-spec-testsuite}
seeds="$build/fuzz-seeds"
corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
mkdir -p "$seeds" "$corpus" "$artifacts"

if [[ -z "$(ls -A "$seeds")" ]]; then
  if [[ -d $suite ]] && command -v wast2json >/dev/null; then
    for wast in "$suite"/*.wast; do
      name=$(basename "$wast" .wast)
      [[ $name == simd* ]] && continue
      (cd "$seeds" && wast2json "$wast" -o "$name.json" >/dev/null 2>&1) || true
    done
    rm -f "$seeds"/*.json
  else
    echo "fuzz: no spec suite at $suite; seeding from the lit tests only"
  fi
  cp "$root"/test/lit/Target/Wasm/*.wat "$seeds"/
fi

echo "fuzz: $(ls "$seeds" | wc -l) seeds, $seconds s"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$build/bin/twasm-import-fuzzer" "$corpus" "$seeds" \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$artifacts/" -print_final_stats=1

manifest_corpus="$build/fuzz-corpus-artifact-manifest"
mkdir -p "$manifest_corpus"
echo "fuzz: artifact manifests, $((seconds / 2)) s"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$build/bin/twasm-artifact-manifest-fuzzer" "$manifest_corpus" \
  "$root/test/fuzz/artifact-manifest-seeds" \
  -max_total_time="$((seconds / 2))" -max_len=65536 -timeout=10 \
  -rss_limit_mb=4096 -artifact_prefix="$artifacts/" -print_final_stats=1

snapshot_corpus="$build/fuzz-corpus-snapshot"
mkdir -p "$snapshot_corpus"
echo "fuzz: snapshots, $((seconds / 2)) s"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$build/bin/twasm-snapshot-fuzzer" "$snapshot_corpus" \
  "$root/test/fuzz/snapshot-seeds" \
  -max_total_time="$((seconds / 2))" -max_len=65536 -timeout=10 \
  -rss_limit_mb=4096 -artifact_prefix="$artifacts/" -print_final_stats=1
