//===- twasm-oracle-replay.cpp - compiled batches against expectations ----===//
//
// Runs the batches twasm-oracle --emit wrote (code, manifest, the
// reference's expectations) on a device and compares each case's ending and
// memory digest. It links the runtime alone, so that it runs on a GPU
// machine without the compiler. A divergent case's memory is written to
// --dumps, to compare with the reference's (twasm-oracle --show).
//
//===----------------------------------------------------------------------===//

#include "Outcome.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace twasm::oracle;
using tensorwasm::abi::TrapCode;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: twasm-oracle-replay DIR [--device cuda|cpu|auto] "
               "[--memory managed|device] [--dumps DIR] [--shard K/N]\n");
  return 2;
}

std::optional<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

} // namespace

int main(int argc, char **argv) {
  std::string directory, dumps;
  unsigned shard = 0, shards = 1;
  tensorwasm::DeviceOptions options;
  options.allowUnsignedCode = true;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--device" && i + 1 < argc) {
      auto kind = tensorwasm::parseDeviceKind(argv[++i]);
      if (!kind)
        return usage();
      options.kind = *kind;
    } else if (argument == "--memory" && i + 1 < argc) {
      std::string mode = argv[++i];
      if (mode != "managed" && mode != "device")
        return usage();
      options.memory = mode == "device" ? tensorwasm::MemoryMode::Device
                                        : tensorwasm::MemoryMode::Managed;
    } else if (argument == "--dumps" && i + 1 < argc) {
      dumps = argv[++i];
    } else if (argument == "--shard" && i + 1 < argc) {
      // This process runs batches K, K+N, K+2N, ...: several processes,
      // each with its own context, load (JIT-compile) batches in parallel.
      if (std::sscanf(argv[++i], "%u/%u", &shard, &shards) != 2 ||
          shards == 0 || shard >= shards)
        return usage();
    } else if (directory.empty() && argument[0] != '-') {
      directory = argument;
    } else {
      return usage();
    }
  }
  if (directory.empty())
    return usage();
  auto device = tensorwasm::Device::open(options);
  if (!device) {
    std::fprintf(stderr, "twasm-oracle-replay: %s\n",
                 device.error().message.c_str());
    return 2;
  }
  std::fprintf(stderr, "device: %s\n", (*device)->description().c_str());

  std::vector<std::string> stems;
  if (DIR *listing = opendir(directory.c_str())) {
    while (dirent *entry = readdir(listing)) {
      std::string name = entry->d_name;
      const std::string suffix = ".expected";
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        stems.push_back(directory + "/" +
                        name.substr(0, name.size() - suffix.size()));
    }
    closedir(listing);
  }
  std::sort(stems.begin(), stems.end());
  std::vector<std::string> mine;
  for (size_t i = shard; i < stems.size(); i += shards)
    mine.push_back(stems[i]);
  stems = std::move(mine);
  if (stems.empty()) {
    std::fprintf(stderr, "twasm-oracle-replay: no batches in %s\n",
                 directory.c_str());
    return 2;
  }

  auto started = std::chrono::steady_clock::now();
  std::map<TrapCode, uint64_t> endings;
  uint64_t ran = 0, divergent = 0;
  double loadSeconds = 0;
  for (const std::string &stem : stems) {
    std::string error;
    std::optional<std::string> text = readFile(stem + ".expected");
    std::optional<std::vector<ExpectedCase>> cases =
        text ? readExpectations(*text, error) : std::nullopt;
    if (!cases) {
      std::fprintf(stderr, "twasm-oracle-replay: %s.expected: %s\n",
                   stem.c_str(), text ? error.c_str() : "unreadable");
      return 2;
    }
    auto loading = std::chrono::steady_clock::now();
    auto module = (*device)->loadModuleFiles(stem);
    auto instance =
        module ? (*module)->instantiate()
               : tensorwasm::Result<std::unique_ptr<tensorwasm::Instance>>(
                     module.error());
    loadSeconds += std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - loading)
                       .count();
    for (const ExpectedCase &expected : *cases) {
      ++ran;
      ++endings[expected.trap];
      std::string why;
      tensorwasm::Result<Outcome> actual =
          instance ? runCase(**instance, expected.launch)
                   : tensorwasm::Result<Outcome>(instance.error());
      if (!actual) {
        why = actual.error().message;
      } else if (actual->trap != expected.trap) {
        why = "expected " + describe(expected.trap) + ", got " +
              describe(actual->trap);
      } else if (digest(actual->memory) != expected.memoryDigest) {
        why = "memory differs from the reference's";
      }
      if (why.empty())
        continue;
      ++divergent;
      std::printf("DIVERGENCE %s %s: %s\n", stem.c_str(),
                  expected.launch.kernel.c_str(), why.c_str());
      if (!dumps.empty() && actual) {
        size_t slash = stem.rfind('/');
        std::ofstream out(dumps + "/" + stem.substr(slash + 1) + "-" +
                              expected.launch.kernel + ".memory",
                          std::ios::binary);
        out.write(actual->memory.data(),
                  static_cast<std::streamsize>(actual->memory.size()));
      }
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  std::printf("%llu cases in %zu batches on %s in %.1f s (loading %.1f s); "
              "the reference:",
              static_cast<unsigned long long>(ran), stems.size(),
              tensorwasm::deviceKindName((*device)->kind()), seconds,
              loadSeconds);
  for (const auto &[trap, count] : endings)
    std::printf(" %s %llu;", describe(trap).c_str(),
                static_cast<unsigned long long>(count));
  std::printf(" divergences: %llu\n",
              static_cast<unsigned long long>(divergent));
  return divergent ? 1 : 0;
}
