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
artifacts="$build/fuzz-artifacts"
mkdir -p "$seeds" "$artifacts"

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

# fuzz NAME TARGET SEEDS SECONDS: one libFuzzer target, its corpus kept
# under the build.
fuzz() {
  local corpus="$build/fuzz-corpus-$1"
  mkdir -p "$corpus"
  echo "fuzz: $1, $4 s"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$build/bin/$2" "$corpus" "$3" \
    -max_total_time="$4" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$artifacts/" -print_final_stats=1
}

echo "fuzz: $(ls "$seeds" | wc -l) importer seeds"
fuzz importer twasm-import-fuzzer "$seeds" "$seconds"
fuzz artifact-manifest twasm-artifact-manifest-fuzzer \
  "$root/test/fuzz/artifact-manifest-seeds" "$((seconds / 2))"
fuzz snapshot twasm-snapshot-fuzzer "$root/test/fuzz/snapshot-seeds" \
  "$((seconds / 2))"
