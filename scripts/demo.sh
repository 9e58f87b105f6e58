#!/usr/bin/env bash
# The main job, in two parts.
#
# 1. A program (examples/programs/saxpy.c): C host code built with clang-22
#    and wasi-libc into one WebAssembly module with its saxpy kernel. `twasm
#    run` runs its main() on the CPU, and the kernel it launches through
#    twasm_host on this machine's best device (auto: the GPU where a CUDA
#    driver sees one, sharing the program's memory, else the CPU). The
#    program checks every element against its host code's own computation.
# 2. The kernel alone (examples/kernels/saxpy.c) with `twasm run` over 2^20
#    elements, every result checked bit for bit against float32 arithmetic
#    in Python, and timed. Also compiled to PTX for an H100 (sm_90) and
#    checked with ptxas where the CUDA toolkit is installed.
#
# Where there is no clang-22: set SAXPY_WASM to a prebuilt saxpy.wasm, or the
# build's examples/kernels/saxpy.wasm is used (and part 1 is left out where
# there is no wasi-libc). TWASM_DEVICE picks another device than auto (cpu,
# cuda); DEMO_OUT another folder for its files than BUILD/demo.
#
# Where `twasm` cannot run (no libLLVM: a GPU machine), or with
# TWASM_RUN_COMPILED=1, the modules compiled ahead of time are run with
# `twasm-run` (the same options, no compiler): TWASM_RUN names that binary
# (default BUILD/bin/twasm-run), SAXPY_PROGRAM the program (a signed .twa
# with host code and PTX, `twasm compile --target host,sm_90`; part 1 is
# left out without it) and SAXPY_MODULE the kernel: a signed saxpy.twa,
# both checked against the public key SAXPY_KEY, or (unsigned, run with
# --allow-unsigned) a saxpy.ptx or saxpy.so with saxpy.json beside it
# (default: the build's, PTX for --device cuda, else the host's .so). For
# example, on a GPU machine:
#   TWASM_RUN=bin/twasm-run SAXPY_PROGRAM=programs/saxpy.twa \
#     SAXPY_MODULE=runtime/saxpy.twa SAXPY_KEY=runtime/publisher.pub \
#     TWASM_DEVICE=cuda DEMO_OUT=/tmp/demo bash demo.sh
set -euo pipefail

build=${1:-build/default}
root=$(cd "$(dirname "$0")/.." && pwd)
twasm="$build/bin/twasm"
device=${TWASM_DEVICE:-auto}
out=${DEMO_OUT:-$build/demo}
mkdir -p "$out"

# Which runner: `twasm run` on the .wasm, or `twasm-run` on the compiled
# module.
compiled=${TWASM_RUN_COMPILED:-0}
if [[ $compiled != 1 ]] && ! "$twasm" --version >/dev/null 2>&1; then
  echo "== $twasm cannot run here: running the compiled module with twasm-run"
  compiled=1
fi
if [[ $compiled == 1 ]]; then
  runner=("${TWASM_RUN:-$build/bin/twasm-run}")
  module=${SAXPY_MODULE:-}
  if [[ -z $module ]]; then
    if [[ $device == cuda ]]; then
      module="$build/examples/kernels/saxpy.ptx"
    else
      module="$build/examples/kernels/host/saxpy.so"
    fi
  fi
  if [[ ! -x ${runner[0]} ]]; then
    echo "error: no twasm-run at ${runner[0]} (set TWASM_RUN=path/to/twasm-run)" >&2
    exit 1
  fi
  if [[ $module == *.twa ]]; then
    # A signed artifact, checked against the key that signed it.
    if [[ ! -f $module || ! -f ${SAXPY_KEY:-} ]]; then
      echo "error: no artifact $module, or no SAXPY_KEY=path/to/KEY.pub" \
        "(the public key that signed it)" >&2
      exit 1
    fi
    runner+=(--key "$SAXPY_KEY")
  else
    if [[ ! -f $module || ! -f ${module%.*}.json ]]; then
      echo "error: no compiled module $module with ${module%.*}.json beside it" \
        "(set SAXPY_MODULE=path/to/saxpy.twa, saxpy.ptx or saxpy.so)" >&2
      exit 1
    fi
    runner+=(--allow-unsigned)
  fi
  runName="twasm-run $(basename "$module")"
  echo "== Using the compiled $module ($(stat -c %s "$module") bytes) and" \
    "${runner[0]}"
else
  runner=("$twasm" run)
  runName="twasm run saxpy.wasm"
fi

echo
echo "== Part 1: a program whose host code launches its own kernel"
echo "   (examples/programs/saxpy.c: main() makes x and y, launches saxpy"
echo "   through twasm_host, checks every element)"
program_ran=0
if [[ $compiled == 1 ]]; then
  if [[ -n ${SAXPY_PROGRAM:-} ]]; then
    if [[ ! -f $SAXPY_PROGRAM || ! -f ${SAXPY_KEY:-} ]]; then
      echo "error: no program $SAXPY_PROGRAM, or no SAXPY_KEY=path/to/KEY.pub" >&2
      exit 1
    fi
    echo "   twasm-run $(basename "$SAXPY_PROGRAM") --device $device"
    "${runner[0]}" "$SAXPY_PROGRAM" --key "$SAXPY_KEY" --device "$device" 2>&1 |
      sed 's/^/   /'
    program_ran=1
  fi
elif command -v clang-22 >/dev/null &&
  [[ -f /usr/include/wasm32-wasi/stdio.h ]]; then
  # wasi-libc is Debian's, installed where clang finds it with --sysroot=/usr.
  clang-22 --target=wasm32-wasi -Wno-deprecated --sysroot=/usr -O2 \
    -I "$root/include" "$root/examples/programs/saxpy.c" \
    -o "$out/saxpy-program.wasm"
  echo "   clang-22 --target=wasm32-wasi: $out/saxpy-program.wasm," \
    "$(stat -c %s "$out/saxpy-program.wasm") bytes"
  echo "   twasm run saxpy-program.wasm --device $device"
  "$twasm" run "$out/saxpy-program.wasm" --device "$device" 2>&1 |
    sed 's/^/   /'
  program_ran=1
fi
if [[ $program_ran == 0 ]]; then
  echo "   left out: no clang-22 with wasi-libc here (scripts/install-deps.sh" \
    "installs them), or no SAXPY_PROGRAM"
fi

echo
echo "== Part 2: the kernel alone, checked bit for bit against Python"
wasm=${SAXPY_WASM:-}
if [[ $compiled == 1 ]]; then
  :
elif [[ -n $wasm ]]; then
  echo "== Using the prebuilt $wasm (SAXPY_WASM)"
else
  if command -v clang-22 >/dev/null; then
    echo "== Compiling examples/kernels/saxpy.c to WebAssembly (clang-22, wasm32)"
    wasm="$out/saxpy.wasm"
    clang-22 --target=wasm32 -O2 -nostdlib -matomics -mbulk-memory \
      -Wl,--no-entry -I "$root/include" "$root/examples/kernels/saxpy.c" \
      -o "$wasm"
  elif [[ -f $build/examples/kernels/saxpy.wasm ]]; then
    wasm="$build/examples/kernels/saxpy.wasm"
    echo "== No clang-22 here: using the build's $wasm"
  else
    echo "error: no clang-22 to compile saxpy.c and no prebuilt saxpy.wasm" \
      "(set SAXPY_WASM=path/to/saxpy.wasm)" >&2
    exit 1
  fi
fi
if [[ $compiled != 1 ]]; then
  echo "   $wasm: $(stat -c %s "$wasm") bytes; its kernels:"
  "$twasm" compile "$wasm" --list-kernels | sed 's/^/   /'
  module=$wasm
fi

# saxpy(n, a, x, y): y = a*x + y over n floats, one thread each. Linear
# memory starts with one page; x goes at 64 KiB and y right after it, so
# 128 more pages hold both.
n=$((1 << 20))
a=2.5
x=$((0x10000))
y=$((x + 4 * n))
launch=(--device "$device" --grid $((n / 256)) --block 256 --grow 128
  --fill "$x=random:f32:$n:1" --fill "$y=random:f32:$n:2")

echo
echo "== Running it: $runName --device $device, n = $n, a = $a"
echo "   (x and y uniform in [0, 1) from twasm's SplitMix64 generator)"
"${runner[@]}" "$module" "${launch[@]}" --out "$x:$((4 * n))=$out/x.bin" \
  --out "$y:$((4 * n))=$out/y.bin" -- $n $a $x $y 2>&1 | sed 's/^/   /'

# The generator is documented (`twasm run --help`), so Python regenerates the
# inputs. Each float32 operation is done in float64 and rounded to float32,
# which gives the correctly rounded float32 result (53 >= 2 * 24 + 2 bits).
python3 - "$out" $n $a <<'EOF'
import struct, sys
out, n, a = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
MASK = (1 << 64) - 1
def uniform_f32(seed):
    state, values = seed, [0.0] * n
    for i in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        values[i] = ((z ^ (z >> 31)) >> 40) * 2.0**-24
    return values
f32 = struct.Struct("<f")
def round32(v):
    return f32.unpack(f32.pack(v))[0]
x, y = uniform_f32(1), uniform_f32(2)
with open(f"{out}/x.bin", "rb") as file:
    assert file.read() == struct.pack(f"<{n}f", *x), "x is not what --fill wrote"
with open(f"{out}/y.bin", "rb") as file:
    got = file.read()
want = struct.pack(f"<{n}f", *(round32(round32(a * xi) + yi)
                                for xi, yi in zip(x, y)))
exact = sum(got[i:i + 4] == want[i:i + 4] for i in range(0, 4 * n, 4))
print(f"   verified: {exact} of {n} elements bit-exact")
sys.exit(0 if exact == n else 1)
EOF

echo
echo "== Timing it: 20 launches in a row (each reads x and y, writes y)"
timing=$("${runner[@]}" "$module" "${launch[@]}" --quiet --repeat 20 -- \
  $n $a $x $y 2>&1)
printf '%s\n' "$timing" | sed 's/^/   /'
ms=$(sed -n 's/^completed in \([0-9.]*\) ms.*/\1/p' <<<"$timing")
if [[ -n $ms ]]; then
  awk -v ms="$ms" -v n=$n 'BEGIN { printf "   %.1f GB/s at the fastest " \
    "(12 bytes per element)\n", 12 * n / (ms * 1e6) }'
fi

# Compiling needs twasm: done where it runs.
[[ $compiled == 1 ]] && exit 0
echo
echo "== Compiled to PTX (twasm compile saxpy.wasm --target sm_90 --time)"
"$twasm" compile "$wasm" --target sm_90 --time -o "$out/saxpy.ptx" 2>&1 |
  sed 's/^/   /'
echo "   $out/saxpy.ptx: $(wc -l <"$out/saxpy.ptx") lines, manifest $out/saxpy.json"
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [[ -x $ptxas ]]; then
  echo "== Assembled by ptxas for sm_90"
  "$ptxas" -arch=sm_90 -v "$out/saxpy.ptx" -o "$out/saxpy.cubin" 2>&1 |
    sed 's/^/   /'
fi
