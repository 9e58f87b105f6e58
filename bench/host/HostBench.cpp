//===- HostBench.cpp - times CPU-backend code on the benchmark protocol ---===//
//
// twasm-bench-host [--warmup W] [--repetitions N] [--seed S] MODULE.so...
//
// TensorWasm's side of the CPU benchmark against Wasmtime and V8
// (bench/host/compare.py runs all three). Each MODULE.so is a benchmark
// kernel compiled by `twasm compile X.wasm --target host`, with its manifest
// MODULE.json beside it. It is loaded and instantiated the way an embedder
// does it, through the runtime alone (no compiler in this process), and run
// on the same protocol as run_wasmtime.py and run_node.mjs: init(seed), W
// untimed run() calls, N timed ones, checksum(). One JSON line per module.
//
//===----------------------------------------------------------------------===//

#include "cpu/HostModule.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace cpu = tensorwasm::cpu;
using tensorwasm::abi::trapMessage;

namespace {

struct Options {
  int warmup = 3;
  int repetitions = 10;
  uint32_t seed = 1;
  std::vector<std::string> modules;
};

struct Measurement {
  std::vector<double> milliseconds;
  uint64_t checksum = 0;
};

std::optional<std::string> readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return std::nullopt;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string stem(const std::string &path) {
  size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0)
    name.resize(name.size() - 3);
  return name;
}

/// Where `twasm compile -o X.so` writes the manifest: X.json.
std::string manifestPath(const std::string &sharedObject) {
  std::string base = sharedObject;
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".so") == 0)
    base.resize(base.size() - 3);
  return base + ".json";
}

/// The export `name`, checked to be a function of the benchmark protocol's
/// type, or an error.
cpu::Expected<uint32_t> protocolFunction(const cpu::ModuleDescription &module,
                                         const char *name,
                                         const cpu::Signature &expected) {
  const cpu::ModuleDescription::Export *exported = module.findExport(name);
  if (!exported || exported->kind != cpu::ModuleDescription::ExportKind::Func)
    return cpu::Error{std::string("no exported function '") + name + "'"};
  if (!(exported->signature == expected))
    return cpu::Error{std::string("'") + name +
                      "' does not have the benchmark protocol's type"};
  return exported->functionIndex;
}

/// Calls function `index`; an error if it traps.
std::optional<cpu::Error> call(cpu::Instance &instance, uint32_t index,
                               uint64_t *values, const char *what) {
  std::atomic<uint32_t> control{tensorwasm::abi::kControlRun};
  cpu::Expected<cpu::CallResult> result =
      instance.call(index, values, &control);
  if (!result)
    return result.error();
  if (result->trapped())
    return cpu::Error{std::string(what) +
                      " trapped: " + trapMessage(result->trap)};
  return std::nullopt;
}

cpu::Expected<Measurement> measure(const std::string &path,
                                   const Options &options) {
  std::optional<std::string> bytes = readFile(path);
  if (!bytes)
    return cpu::Error{"cannot read " + path};
  std::string manifestFile = manifestPath(path);
  std::optional<std::string> manifest = readFile(manifestFile);
  if (!manifest)
    return cpu::Error{"cannot read its manifest " + manifestFile};

  auto code = cpu::LoadedCode::load(*bytes);
  if (!code)
    return code.error();
  auto module = cpu::ModuleDescription::parse(*manifest);
  if (!module)
    return module.error();
  auto instance = cpu::Instance::create(*code, *module, {});
  if (!instance)
    return instance.error();
  std::atomic<uint32_t> control{tensorwasm::abi::kControlRun};
  auto started = (*instance)->instantiate(&control);
  if (!started)
    return started.error();
  if (started->trapped())
    return cpu::Error{std::string("instantiation trapped: ") +
                      trapMessage(started->trap)};

  using cpu::ValueType;
  auto init = protocolFunction(*module, "init", {{ValueType::I32}, {}});
  auto run = protocolFunction(*module, "run", {{}, {}});
  auto checksum = protocolFunction(*module, "checksum", {{}, {ValueType::I64}});
  for (auto *function : {&init, &run, &checksum})
    if (!*function)
      return function->error();

  uint64_t values[1] = {options.seed};
  if (auto error = call(**instance, *init, values, "init"))
    return *error;
  for (int i = 0; i < options.warmup; ++i)
    if (auto error = call(**instance, *run, values, "run"))
      return *error;
  Measurement measurement;
  for (int i = 0; i < options.repetitions; ++i) {
    auto start = std::chrono::steady_clock::now();
    std::optional<cpu::Error> error = call(**instance, *run, values, "run");
    auto end = std::chrono::steady_clock::now();
    if (error)
      return *error;
    measurement.milliseconds.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  if (auto error = call(**instance, *checksum, values, "checksum"))
    return *error;
  measurement.checksum = values[0];
  return measurement;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle]
                           : (values[middle - 1] + values[middle]) / 2;
}

/// A JSON string: module names are file names, so only quotes, backslashes
/// and control characters need escaping.
std::string jsonString(const std::string &text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      quoted += escaped;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

bool parseNumber(const char *text, long minimum, long maximum, long &number) {
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < minimum || value > maximum)
    return false;
  number = value;
  return true;
}

int usage() {
  std::fprintf(stderr, "usage: twasm-bench-host [--warmup W] [--repetitions "
                       "N] [--seed S] MODULE.so...\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    long number = 0;
    if (argument == "--warmup" && i + 1 < argc) {
      if (!parseNumber(argv[++i], 0, 100000, number))
        return usage();
      options.warmup = static_cast<int>(number);
    } else if (argument == "--repetitions" && i + 1 < argc) {
      if (!parseNumber(argv[++i], 1, 100000, number))
        return usage();
      options.repetitions = static_cast<int>(number);
    } else if (argument == "--seed" && i + 1 < argc) {
      if (!parseNumber(argv[++i], 0, UINT32_MAX, number))
        return usage();
      options.seed = static_cast<uint32_t>(number);
    } else if (argument.rfind("--", 0) == 0) {
      return usage();
    } else {
      options.modules.push_back(argument);
    }
  }
  if (options.modules.empty())
    return usage();

  for (const std::string &path : options.modules) {
    cpu::Expected<Measurement> measurement = measure(path, options);
    if (!measurement) {
      std::fprintf(stderr, "twasm-bench-host: %s: %s\n", path.c_str(),
                   measurement.error().message.c_str());
      return 1;
    }
    const std::vector<double> &times = measurement->milliseconds;
    std::printf("{\"engine\": \"twasm\", \"kernel\": %s, \"median_ms\": %.6f, "
                "\"min_ms\": %.6f, \"max_ms\": %.6f, \"repetitions\": %zu, "
                "\"checksum\": \"0x%016" PRIx64 "\"}\n",
                jsonString(stem(path)).c_str(), median(times),
                *std::min_element(times.begin(), times.end()),
                *std::max_element(times.begin(), times.end()), times.size(),
                measurement->checksum);
    std::fflush(stdout);
  }
  return 0;
}
