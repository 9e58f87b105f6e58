#!/usr/bin/env bash
# Installs every package TensorWasm's build and tests use; idempotent, the only install step.
set -euo pipefail

DEBIAN_PACKAGES=(
  # Build
  cmake ninja-build ccache pkg-config git make python3
  # LLVM/MLIR 22 (compiler), clang/lld 22 (kernels in C -> wasm32; libFuzzer)
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-22 lld-22 libclang-rt-22-dev clang-format-22 clang-tidy-22
  # Wasm front end: wabt's library (text/binary reader, validator, reference
  # interpreter) and its tools (wast2json for the spec suite)
  wabt
  # Tests
  libgtest-dev libgmock-dev librapidcheck-dev
  # The GPU harness reads kernel manifests (JSON); nvcc, where the CUDA
  # toolkit is installed, uses the host C++ compiler for the benchmark twins
  nlohmann-json3-dev g++
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

echo "install-deps: done"
