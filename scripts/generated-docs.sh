#!/usr/bin/env bash
# Generates the dialect and pass docs from ODS (mlir-tblgen via add_mlir_doc)
# and either copies them into docs/dialect ("update") or fails if the
# committed copies differ ("check"), so the docs never go stale.
set -euo pipefail

build=$1
mode=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cmake --build "$build" --target mlir-doc >/dev/null

declare -A generated=(
  [TwasmDialect.md]="$build/docs/Dialects/TwasmDialect.md"
  [TwasmPasses.md]="$build/docs/Passes/TwasmPasses.md"
  [TwasmConversionPasses.md]="$build/docs/Passes/TwasmConversionPasses.md"
)
stale=0
mkdir -p "$root/docs/dialect"
for name in "${!generated[@]}"; do
  source=${generated[$name]}
  target="$root/docs/dialect/$name"
  if [[ $mode == update ]]; then
    cp "$source" "$target"
    echo "updated docs/dialect/$name"
  elif ! diff -q "$source" "$target" >/dev/null 2>&1; then
    echo "docs/dialect/$name is stale: run 'make doc' and commit the result"
    stale=1
  fi
done
exit $stale
