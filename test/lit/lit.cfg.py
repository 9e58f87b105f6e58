# lit configuration for TensorWasm's compiler and tool tests.

import ctypes
import os
import shutil
import subprocess
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "TensorWasm"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".wat", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.twasm_obj_root, "test", "lit")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["twasm-opt", "twasm-run", "twasm"], [config.twasm_tools_dir])
config.substitutions.append(("%twasm_src_root", config.twasm_src_root))
config.substitutions.append(("%twasm_bin", config.twasm_tools_dir))

# Tests that need an outside tool say so with REQUIRES and are skipped, not
# failed, where it is absent.
if shutil.which("wat2wasm"):
    config.available_features.add("wabt")
clang = shutil.which("clang-22")
wasm_ld = shutil.which("wasm-ld-22") or shutil.which("wasm-ld")
if clang and wasm_ld:
    config.available_features.add("clang-wasm")
    # How a user compiles a kernel (README.md): the kernel ABI header, and
    # atomics for the threads proposal's instructions.
    config.substitutions.append(
        ("%clang_wasm", clang + " --target=wasm32 -nostdlib -O2 -matomics"
         " -mbulk-memory -Wl,--no-entry -I " +
         os.path.join(config.twasm_src_root, "include")))
# C programs with wasi-libc (Debian's wasi-libc keeps its headers under the
# wasm32-wasi multiarch name, hence that target).
if clang and wasm_ld and os.path.exists("/usr/include/wasm32-wasi/stdio.h"):
    config.available_features.add("clang-wasi")
    config.substitutions.append(
        ("%clang_wasi", clang + " --target=wasm32-wasi -Wno-deprecated"
         " --sysroot=/usr -O2 -I " +
         os.path.join(config.twasm_src_root, "include")))
# The reference for WASI programs: Wasmtime's embedding (pip, `make deps`),
# in the python3 on the PATH (which pip installed it for; lit itself may run
# on another).
python = shutil.which("python3") or sys.executable
if subprocess.run([python, "-c", "import wasmtime"],
                  stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("wasmtime")
config.substitutions.append(("%wasmtime_python", python))
ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
# A CUDA driver the runtime's cuda device can load (it dlopens the same name).
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda")
except OSError:
    pass
if config.twasm_sanitizers:
    config.available_features.add("sanitizers")
