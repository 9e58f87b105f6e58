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
  # The runtime's cubin cache (SHA-256), linked statically
  libssl-dev
  # Snapshot compression (zstd), linked statically
  libzstd-dev
)

# The CPU benchmark against Wasmtime and V8 (bench/host/): node runs V8, a
# pip package runs Wasmtime. A node already on the PATH (from nodesource,
# nvm, ...) is kept; pip comes from Debian only where python3 has none.
command -v node >/dev/null || DEBIAN_PACKAGES+=(nodejs)
python3 -m pip --version >/dev/null 2>&1 || DEBIAN_PACKAGES+=(python3-pip)
WASMTIME_VERSION=50.0.1

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

# Wasmtime's Python embedding bundles the engine (a prebuilt library in the
# wheel), so pip is all it needs. Pinned, so that the benchmark's figures
# compare with the same engine.
if python3 -c "import sys, importlib.metadata as m, wasmtime; sys.exit(m.version('wasmtime') != '$WASMTIME_VERSION')" 2>/dev/null; then
  echo "install-deps: wasmtime $WASMTIME_VERSION present"
else
  echo "install-deps: installing wasmtime $WASMTIME_VERSION (pip)"
  pip_flags=(--quiet --disable-pip-version-check --root-user-action=ignore)
  # Debian's own python3 refuses pip installs into it (PEP 668) unless told.
  if python3 -c "import sys, sysconfig, os; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"; then
    pip_flags+=(--break-system-packages)
  fi
  python3 -m pip install "${pip_flags[@]}" "wasmtime==$WASMTIME_VERSION"
fi

echo "install-deps: done"
