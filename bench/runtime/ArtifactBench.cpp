//===- ArtifactBench.cpp - verifying and loading signed artifacts ---------===//
//
// twasm-bench-artifact ARTIFACT.twa KEY.pub [--device cpu|cuda] [--json F]
//
// What loading code the safe way costs (docs/artifact-format.md): for an
// artifact of about 1 MB (bench/runtime/lookup_kernel.py: a kernel whose
// 170 KB table its Wasm and both kernel manifests carry), the median of
// repeated
//
//  * verify: Artifact::verify of the bytes in memory (the signature, the
//    manifest, SHA-256 of every payload and of the whole file);
//  * load: Device::loadArtifact of the verified artifact (the kernel
//    manifest parsed, the code loaded: dlopen from a sealed memfd on the
//    cpu, the cubin from the cache on cuda);
//  * verify + load, the figure the target (5 ms) is for;
//  * fetch + load from a registry: Registry::fetch (a shared lock, the
//    index, the file read, the verification) and loadArtifact.
//
//===----------------------------------------------------------------------===//

#include "twasm/Artifact.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

using namespace tensorwasm;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "twasm-bench-artifact: %s\n", message.c_str());
  std::exit(1);
}

template <typename T> T must(Result<T> result, const char *what) {
  if (!result)
    die(std::string(what) + ": " + result.error().message);
  return std::move(*result);
}

struct Figure {
  const char *name;
  double medianMs;
  double p90Ms;
};

/// The median and 90th percentile of `runs` timed calls, after a warm-up.
Figure measure(const char *name, int runs, const std::function<void()> &call) {
  for (int i = 0; i < 5; ++i)
    call();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto started = Clock::now();
    call();
    times.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - started)
            .count());
  }
  std::sort(times.begin(), times.end());
  return {name, times[times.size() / 2], times[times.size() * 9 / 10]};
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    die("usage: twasm-bench-artifact ARTIFACT.twa KEY.pub [--device cpu|cuda] "
        "[--json FILE]");
  std::string artifactPath = argv[1], keyPath = argv[2], jsonPath;
  DeviceOptions options;
  options.kind = DeviceKind::Cpu;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--device") == 0) {
      std::optional<DeviceKind> kind = parseDeviceKind(argv[i + 1]);
      if (!kind)
        die(std::string("--device ") + argv[i + 1] + ": expected cpu or cuda");
      options.kind = *kind;
    } else if (std::strcmp(argv[i], "--json") == 0) {
      jsonPath = argv[i + 1];
    } else {
      die(std::string("unknown option ") + argv[i]);
    }
  }

  std::ifstream file(artifactPath, std::ios::binary);
  std::ostringstream read;
  read << file.rdbuf();
  const std::string bytes = read.str();
  if (bytes.empty())
    die("cannot read " + artifactPath);
  PublicKey key = must(PublicKey::readFile(keyPath), "the key");
  TrustPolicy trust;
  if (Status added = trust.add(key, {"*"}); !added)
    die(added.error().message);
  std::shared_ptr<Device> device = must(Device::open(options), "the device");
  Artifact verified = must(Artifact::verify(bytes, trust), "verify");
  // The first load fills the cubin cache on a GPU: what is measured is a
  // service's load of code it has run before.
  (void)must(device->loadArtifact(verified), "load");

  char directory[] = "/tmp/twasm-bench-registry-XXXXXX";
  if (!mkdtemp(directory))
    die("cannot create a temporary registry");
  Registry registry = must(Registry::open(directory), "the registry");
  if (Status set = registry.setTrust(trust); !set)
    die(set.error().message);
  RegistryEntry entry = must(registry.push(bytes), "push");
  std::string reference = entry.name + "@" + std::to_string(entry.version);

  const int runs = 200;
  std::vector<Figure> figures;
  figures.push_back(measure("verify", runs, [&] {
    (void)must(Artifact::verify(bytes, trust), "verify");
  }));
  figures.push_back(measure("load", runs, [&] {
    (void)must(device->loadArtifact(verified), "load");
  }));
  figures.push_back(measure("verify + load", runs, [&] {
    Artifact artifact = must(Artifact::verify(bytes, trust), "verify");
    (void)must(device->loadArtifact(artifact), "load");
  }));
  figures.push_back(measure("registry fetch + load", runs, [&] {
    Artifact artifact = must(registry.fetch(reference), "fetch");
    (void)must(device->loadArtifact(artifact), "load");
  }));
  std::string cleanup = std::string("rm -rf ") + directory;
  if (std::system(cleanup.c_str()) != 0)
    std::fprintf(stderr, "could not remove %s\n", directory);

  std::printf("artifact %s: %zu bytes, %s@%llu; device: %s\n",
              artifactPath.c_str(), bytes.size(),
              verified.manifest().name.c_str(),
              static_cast<unsigned long long>(verified.manifest().version),
              device->description().c_str());
  std::printf("%-24s %10s %10s   (%d runs)\n", "", "median ms", "p90 ms", runs);
  for (const Figure &figure : figures)
    std::printf("%-24s %10.3f %10.3f\n", figure.name, figure.medianMs,
                figure.p90Ms);
  if (!jsonPath.empty()) {
    std::ofstream json(jsonPath);
    json << "{\"bytes\": " << bytes.size() << ", \"device\": \""
         << deviceKindName(device->kind()) << "\", \"figures\": {";
    for (size_t i = 0; i < figures.size(); ++i)
      json << (i ? ", " : "") << "\"" << figures[i].name
           << "\": {\"median_ms\": " << figures[i].medianMs
           << ", \"p90_ms\": " << figures[i].p90Ms << "}";
    json << "}}\n";
  }
  return 0;
}
