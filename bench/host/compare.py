#!/usr/bin/env python3
"""The CPU benchmark: TensorWasm's CPU backend against Wasmtime and V8.

Runs every benchmark kernel (bench/host/kernels, and the example kernels that
run alone, from bench/host/examples; built to .wasm and to host shared
objects by the build) on three engines, single-threaded, on one
protocol: init(seed), warm-up run() calls, the median of timed run() calls,
checksum(). Ours runs the .so that `twasm compile --target host` made from
the very .wasm that Wasmtime and node run. Fails if any two engines disagree
on a checksum. Prints one table: per kernel the three medians and the
ratios wasmtime/twasm and node/twasm (above 1: we are faster), and the
geometric mean of each ratio. With --checks, also what our bounds and epoch
checks cost (from the measurement-only builds without them); with
--wasmtime-with-checks, also Wasmtime with the guarantees our code always
gives (epoch interruption, canonical NaNs).

    python3 bench/host/compare.py [--build-dir build/default] [--checks]
                                  [--wasmtime-with-checks]
"""

import argparse
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Our measurement-only variants, built beside each .so (bench/CMakeLists.txt):
# what the kernel costs without bounds checks, without epoch checks, without
# both. Shown with --checks.
VARIANTS = [("bounds", "nobounds"), ("epoch", "noepoch"), ("both", "unchecked")]


@dataclasses.dataclass
class Case:
    """One kernel: the .wasm the other engines run, and our .so of it (its
    manifest beside it, with the same stem)."""
    name: str
    wasm: str
    so: str


def loop_kernel_cases(build_dir):
    """The loop kernels of bench/host/kernels, as the build left them."""
    kernel_dir = os.path.join(build_dir, "bench", "host")
    sources = sorted(name[:-2] for name in os.listdir(
        os.path.join(HERE, "kernels")) if name.endswith(".c"))
    return [Case(name, os.path.join(kernel_dir, name + ".wasm"),
                 os.path.join(kernel_dir, name + ".so")) for name in sources]


def compared_examples():
    """The example kernels with a benchmark module: bench/host/examples has
    example_NAME.c for each."""
    return sorted(name[len("example_"):-len(".c")]
                  for name in os.listdir(os.path.join(HERE, "examples"))
                  if name.startswith("example_") and name.endswith(".c"))


def example_cases(build_dir):
    """The example kernels that run alone, each built from its own source
    into a plain module on the same protocol, whose run() launches the
    kernel over a grid thread after thread (bench/host/examples)."""
    kernel_dir = os.path.join(build_dir, "bench", "host")
    return [Case(f"example_{name}",
                 os.path.join(kernel_dir, f"example_{name}.wasm"),
                 os.path.join(kernel_dir, f"example_{name}.so"))
            for name in compared_examples()]


def examples_left_out():
    """The example kernels that synchronise their threads: they need every
    thread of a block running at once (barriers, warp operations, shared
    scratch), which a single-threaded engine cannot give one Wasm call."""
    compared = set(compared_examples())
    return sorted(name[:-2] for name in os.listdir(
        os.path.join(ROOT, "examples", "kernels"))
        if name.endswith(".c") and name[:-2] not in compared)


def run_engine(command, engine):
    """Runs one engine's runner; returns its JSON lines, by kernel."""
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        sys.exit(f"compare.py: {engine} failed: {' '.join(command)}")
    results = {}
    for line in completed.stdout.splitlines():
        record = json.loads(line)
        results[record["kernel"]] = record
    return results


def engine_versions(args):
    wasmtime = subprocess.run(
        [sys.executable, os.path.join(HERE, "run_wasmtime.py"), "--version"],
        capture_output=True, text=True, check=True).stdout.strip()
    node = subprocess.run(
        [args.node, os.path.join(HERE, "run_node.mjs"), "--version"],
        capture_output=True, text=True, check=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                            "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (f"twasm {commit or 'unknown'}{' (modified)' if dirty else ''}, "
            f"wasmtime {wasmtime} (Python embedding), {node}")


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def format_value(fmt, value):
    # A cost is shown as the fraction it adds: 1.05 -> +5.0%.
    return fmt.format(value - 1 if "%" in fmt else value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build",
                                                            "default"))
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--node", default="node")
    parser.add_argument("--kernels", help="comma-separated subset to run")
    parser.add_argument("--checks", action="store_true",
                        help="also time our variants without bounds and "
                        "epoch checks, and show what the checks cost")
    parser.add_argument("--wasmtime-with-checks", action="store_true",
                        help="also time Wasmtime with epoch interruption and "
                        "NaN canonicalization, which our code always has")
    parser.add_argument("--json", metavar="FILE",
                        help="also write every engine's records to FILE")
    args = parser.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    bench_host = os.path.join(build_dir, "bin", "twasm-bench-host")
    missing = [tool for tool, found in [
        (bench_host, os.path.exists(bench_host)),
        (args.node, shutil.which(args.node))] if not found]
    if missing:
        sys.exit(f"compare.py: missing {', '.join(missing)} (build with `make "
                 "bench-host`; scripts/install-deps.sh installs node)")
    cases = loop_kernel_cases(build_dir) + example_cases(build_dir)
    if args.kernels:
        wanted = set(args.kernels.split(","))
        cases = [case for case in cases if case.name in wanted]
    if not cases:
        sys.exit("compare.py: no kernel to run")
    for case in cases:
        for path in (case.wasm, case.so):
            if not os.path.exists(path):
                sys.exit(f"compare.py: {path} is missing (build with `make "
                         "bench-host`)")

    protocol = ["--warmup", str(args.warmup), "--repetitions",
                str(args.repetitions), "--seed", str(args.seed)]
    print(f"engines: {engine_versions(args)}")
    print(f"single thread; median of {args.repetitions} run() calls after "
          f"{args.warmup} warm-up calls, seed {args.seed}\n")

    # Engine by engine for each kernel in turn (not each engine over all
    # kernels), so that a change of load on the machine during the run hits
    # the engines of a kernel alike.
    wasmtime = [sys.executable, os.path.join(HERE, "run_wasmtime.py")]
    rows, records, agree = [], [], True
    for case in cases:
        commands = {
            "twasm": [bench_host, *protocol, case.so],
            "wasmtime": [*wasmtime, *protocol, case.wasm],
            "node": [args.node, os.path.join(HERE, "run_node.mjs"), *protocol,
                     case.wasm],
        }
        if args.wasmtime_with_checks:
            commands["wasmtime-checks"] = [
                *wasmtime, "--epoch-interruption", "--nan-canonicalization",
                *protocol, case.wasm]
        if args.checks:
            stem = case.so[:-len(".so")]
            for label, suffix in VARIANTS:
                commands[f"twasm-no-{label}"] = [bench_host, *protocol,
                                                 f"{stem}.{suffix}.so"]
        measured = {engine: next(iter(run_engine(command, engine).values()))
                    for engine, command in commands.items()}
        checksums = {record["checksum"] for record in measured.values()}
        if len(checksums) != 1:
            agree = False
            print(f"{case.name}: CHECKSUMS DIFFER: " + ", ".join(
                f"{engine} {record['checksum']}"
                for engine, record in measured.items()), file=sys.stderr)
        rows.append((case.name, {engine: record["median_ms"]
                                 for engine, record in measured.items()}))
        for engine, record in measured.items():
            records.append({**record, "engine": engine, "kernel": case.name})

    # Columns: (title, the value from a row's medians, its format, whether
    # it gets a geometric mean). Ratios are another engine's time over ours
    # (above 1: we are faster); a check's cost is our time with it over our
    # time without it, less one.
    times = ["twasm", "wasmtime", "node"]
    ratios = ["wasmtime", "node"]
    if args.wasmtime_with_checks:
        times.append("wasmtime-checks")
        ratios.append("wasmtime-checks")
    columns = [(f"{engine} ms", lambda m, e=engine: m[e], "{:.2f}", False)
               for engine in times]
    columns += [(f"{engine}/twasm", lambda m, e=engine: m[e] / m["twasm"],
                 "{:.3f}", True) for engine in ratios]
    if args.checks:
        columns += [(f"{label} cost",
                     lambda m, l=label: m["twasm"] / m[f"twasm-no-{l}"],
                     "{:+.1%}", True) for label, _ in VARIANTS]
    widths = [max(len(title), 9) for title, *_ in columns]
    print(f"{'kernel':<14}" + "".join(
        f" {title:>{width}}" for (title, *_), width in zip(columns, widths)))
    for name, medians in rows:
        print(f"{name:<14}" + "".join(
            f" {format_value(fmt, value(medians)):>{width}}"
            for (_, value, fmt, _), width in zip(columns, widths)))
    means = [format_value(fmt, geometric_mean([value(m) for _, m in rows]))
             if averaged else "" for _, value, fmt, averaged in columns]
    print(f"{'geometric mean':<14}" + "".join(
        f" {mean:>{width}}" for mean, width in zip(means, widths)))
    print(f"\nall checksums agree: {'yes' if agree else 'NO'}")
    left_out = examples_left_out()
    if left_out and not args.kernels:
        print(textwrap.fill(
            f"not compared: the example kernels {', '.join(left_out)} "
            "synchronise the threads of a block (barriers, warp operations, "
            "shared scratch), which needs them all running at once; Wasmtime "
            "and V8 run one call at a time (ours run them as fibers: ctest "
            "-R cpu-example-kernels)", 78))

    if args.json:
        with open(args.json, "w") as out:
            json.dump(records, out, indent=1)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
