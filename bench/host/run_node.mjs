// Times the CPU benchmark kernels (bench/host/kernels) on V8, through node.
//
// The same protocol as twasm-bench-host and run_wasmtime.py: for each
// module, init(seed), `--warmup` untimed run() calls, `--repetitions` timed
// ones, then checksum(); one JSON line per module on stdout. V8 first runs a
// module with its baseline compiler (Liftoff) and recompiles hot functions
// with TurboFan in the background, so the warm-up calls are what lets the
// timed calls run TurboFan's code.
//
//   node run_node.mjs [--warmup W] [--repetitions N] [--seed S] X.wasm...

import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { performance } from "node:perf_hooks";

function parseArguments(argv) {
  const options = { warmup: 3, repetitions: 10, seed: 1, modules: [] };
  for (let i = 0; i < argv.length; ++i) {
    const argument = argv[i];
    if (argument === "--version") {
      options.version = true;
    } else if (["--warmup", "--repetitions", "--seed"].includes(argument)) {
      const value = Number.parseInt(argv[++i], 10);
      if (!Number.isInteger(value) || value < 0)
        throw new Error(`${argument} needs a non-negative integer`);
      options[argument.slice(2)] = value;
    } else if (argument.startsWith("--")) {
      throw new Error(`unknown option ${argument}`);
    } else {
      options.modules.push(argument);
    }
  }
  if (options.repetitions < 1)
    throw new Error("--repetitions must be at least 1");
  return options;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function runModule(path, options) {
  const { instance } = await WebAssembly.instantiate(await readFile(path), {});
  const { init, run, checksum } = instance.exports;

  init(options.seed);
  for (let i = 0; i < options.warmup; ++i) run();
  const times = [];
  for (let i = 0; i < options.repetitions; ++i) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  // An i64 result is a BigInt, signed.
  const digest = BigInt.asUintN(64, checksum());
  return {
    engine: "node",
    kernel: basename(path).replace(/\.wasm$/, ""),
    median_ms: median(times),
    min_ms: Math.min(...times),
    max_ms: Math.max(...times),
    repetitions: options.repetitions,
    checksum: "0x" + digest.toString(16).padStart(16, "0"),
  };
}

const options = parseArguments(process.argv.slice(2));
if (options.version) {
  console.log(`node ${process.versions.node}, V8 ${process.versions.v8}`);
} else {
  if (options.modules.length === 0) throw new Error("no module given");
  for (const path of options.modules)
    console.log(JSON.stringify(await runModule(path, options)));
}
