#!/usr/bin/env bash
# Installs every package TensorWasm's build and tests use; idempotent, the only install step.
set -euo pipefail

DEBIAN_PACKAGES=(
  # Build
  cmake ninja-build ccache pkg-config git make python3
  # LLVM/MLIR 22 (compiler), clang/lld 22 (kernels in C -> wasm32; libFuzzer)
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-22 lld-22 libclang-rt-22-dev clang-format-22 clang-tidy-22
  # Programs in C (host code + kernels, `twasm run`): wasi-libc and the
  # compiler-rt builtins of wasm32 (printf's long double)
  wasi-libc libclang-rt-22-dev-wasm32
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
  # `twasm serve`: the HTTP server library; wrk loads it in the benchmark
  libcpp-httplib-dev wrk
)

# The CPU benchmark against Wasmtime and V8 (bench/host/): node runs V8, a
# pip package runs Wasmtime. A node already on the PATH (from nodesource,
# nvm, ...) is kept; pip comes from Debian only where python3 has none.
command -v node >/dev/null || DEBIAN_PACKAGES+=(nodejs)
python3 -m pip --version >/dev/null 2>&1 || DEBIAN_PACKAGES+=(python3-pip)

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

# Python packages, pinned so that figures and results compare: Wasmtime's
# embedding (it bundles the engine) for the CPU benchmark; PyYAML, which the
# server's API test reads docs/openapi.yaml with; Schemathesis, which fuzzes
# the running server from that document.
PIP_PACKAGES=("wasmtime==50.0.1" "PyYAML==6.0.3" "schemathesis==4.32.5")
missing_pip=()
for requirement in "${PIP_PACKAGES[@]}"; do
  name=${requirement%%==*} version=${requirement##*==}
  python3 -c "import sys, importlib.metadata as m; sys.exit(m.version('$name') != '$version')" 2>/dev/null ||
    missing_pip+=("$requirement")
done
if ((${#missing_pip[@]})); then
  echo "install-deps: installing ${missing_pip[*]} (pip)"
  pip_flags=(--quiet --disable-pip-version-check --root-user-action=ignore)
  # Debian's own python3 refuses pip installs into it (PEP 668) unless told.
  if python3 -c "import sys, sysconfig, os; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"; then
    pip_flags+=(--break-system-packages)
  fi
  python3 -m pip install "${pip_flags[@]}" "${missing_pip[@]}"
else
  echo "install-deps: ${PIP_PACKAGES[*]} present"
fi

echo "install-deps: done"
