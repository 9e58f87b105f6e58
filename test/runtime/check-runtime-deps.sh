#!/bin/sh
# Fails if a binary linked with the runtime library carries the compiler:
# a shared LLVM, MLIR or Binaryen library among its dependencies, or code of
# theirs linked in statically (symbols in the llvm::, mlir:: namespaces or
# Binaryen's C API).
#   check-runtime-deps.sh BINARY
set -eu
binary=$1
[ -f "$binary" ] || { echo "no such binary: $binary" >&2; exit 2; }

needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "shared libraries: $(echo $needed)"
if echo "$needed" | grep -Ei 'llvm|mlir|binaryen|clang'; then
  echo "FAIL: $binary depends on the compiler's libraries above" >&2
  exit 1
fi

symbols=$(nm -C "$binary" | grep -Ec ' (llvm|mlir|wasm)::|Binaryen[A-Z]' || true)
if [ "$symbols" -ne 0 ]; then
  nm -C "$binary" | grep -E ' (llvm|mlir|wasm)::|Binaryen[A-Z]' | head >&2
  echo "FAIL: $binary contains $symbols compiler symbols" >&2
  exit 1
fi
echo "OK: no LLVM, MLIR or Binaryen in $binary"
