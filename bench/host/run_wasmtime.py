#!/usr/bin/env python3
"""Times the CPU benchmark kernels (bench/host/kernels) on Wasmtime.

The same protocol as twasm-bench-host and run_node.mjs: for each module,
init(seed), `--warmup` untimed run() calls, `--repetitions` timed ones, then
checksum(); one JSON line per module on stdout. Wasmtime compiles the whole
module with Cranelift when it is loaded, so the warm-up only warms caches.
"""

import argparse
import importlib.metadata
import json
import os
import statistics
import sys
import time

try:
    import wasmtime
except ImportError:
    sys.exit("run_wasmtime.py: the wasmtime package is missing; "
             "scripts/install-deps.sh installs it")


def engine_config(args):
    config = wasmtime.Config()
    # Wasmtime's defaults (Cranelift at opt level "speed", bounds checks by
    # guard pages) are what it is measured with; these two bring it closer
    # to what our code does on every call, for comparing like with like.
    if args.epoch_interruption:
        config.epoch_interruption = True
    if args.nan_canonicalization:
        config.cranelift_nan_canonicalization = True
    return config


def run_module(engine, path, args):
    store = wasmtime.Store(engine)
    if args.epoch_interruption:
        # Never reached: the checks run, nothing interrupts.
        store.set_epoch_deadline(1 << 62)
    module = wasmtime.Module.from_file(engine, path)
    instance = wasmtime.Instance(store, module, [])
    exports = instance.exports(store)
    init, run, checksum = exports["init"], exports["run"], exports["checksum"]

    init(store, args.seed)
    for _ in range(args.warmup):
        run(store)
    times = []
    for _ in range(args.repetitions):
        start = time.perf_counter_ns()
        run(store)
        times.append((time.perf_counter_ns() - start) / 1e6)
    digest = checksum(store) & 0xFFFFFFFFFFFFFFFF  # i64 comes back signed
    return {
        "engine": "wasmtime",
        "kernel": os.path.splitext(os.path.basename(path))[0],
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "repetitions": args.repetitions,
        "checksum": f"0x{digest:016x}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE.wasm")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epoch-interruption", action="store_true",
                        help="compile with epoch checks (as ours always are)")
    parser.add_argument("--nan-canonicalization", action="store_true",
                        help="canonicalize NaN results (as ours always do)")
    parser.add_argument("--version", action="store_true",
                        help="print the wasmtime package's version and exit")
    args = parser.parse_args()
    if args.version:
        print(importlib.metadata.version("wasmtime"))
        return
    if not args.modules:
        parser.error("no module given")
    if args.repetitions < 1:
        parser.error("--repetitions must be at least 1")

    engine = wasmtime.Engine(engine_config(args))
    for path in args.modules:
        print(json.dumps(run_module(engine, path, args)), flush=True)


if __name__ == "__main__":
    main()
