//===- TenancyBench.cpp - a tenant's latency alone and beside attackers ---===//
//
// twasm-bench-tenancy ARTIFACT.twa PUBLISHER.pub [--device cpu|cuda]
//     [--memory managed|device] [--cpu-slice-us N] [--sm-group-size N]
//     [--elements N] [--launches N] [--attackers looper,trapper,crowd,bomber]
//     [--hostile-blocks N] [--attack-seconds S] [--samples FILE]
//     [--max-ratio R] [--json FILE]
//
// What hostile tenants cost a well-behaved one (include/twasm/Tenancy.h,
// docs/tenancy.md). Through one TenantGateway, tenant "good" launches the
// `scale` kernel of test/runtime/kernels.wat over N int32 elements (blocks
// of 64 threads) and checks every result; each launch's latency is the wall
// time of TenantInstance::launch. First `--launches` launches alone, then
// as many while hostile tenants (by default these four; --attackers lists
// them in order, a kind listed twice being two tenants, "looper" and
// "looper-2"), each on threads of its own, attack without pause:
//
//  * looper: an endless kernel (`spin`, 64 blocks of 32), interrupted at
//    its quota's launch time, launched again at once;
//  * idler (only when listed): an endless kernel like the looper's that
//    touches no memory (`idle`), to tell what the SMs' being busy costs
//    from what the looper's stores to one word cost;
//  * trapper: a storm of `poke` launches that load and store at addresses
//    spread over the whole 4 GiB space (nearly all out of bounds, so each
//    launch traps), and host reads and writes at such addresses;
//  * crowd: a grid of 65535 x 65535 x 16 blocks of 1024 threads (refused:
//    more blocks than its quota allows), then the largest grid allowed, 2^20
//    blocks of 1024 threads (the hostile tenants' quota of blocks per
//    launch: --hostile-blocks), interrupted at the launch time on the cpu
//    (on a GPU its loop-free blocks run to the end);
//  * bomber: memory growth of thousands of pages and new instances, past
//    its memory quota.
//
// Isolation as the gateway gives it (docs/tenancy.md): on the cpu, each
// tenant on worker threads of its own, demoted to the idle scheduling class
// when a launch runs past --cpu-slice-us (default 2000; 0: every tenant on
// the device's one pool, taking turns); on a GPU, with --sm-group-size,
// each tenant on a green context of its own group of SMs (default: every
// tenant on the whole GPU). Each tenant makes its instance before any
// attack starts, the good tenant first and then the attackers in the order
// listed, so that each has the same device, or group of SMs, in every run;
// the output names them.
//
// Reported: the good tenant's latency (median, 90th and 99th percentile)
// alone and under attack, their ratios, and what each attacker's launches
// came to (with their mean time from launch to synchronize). With
// --attack-seconds, the measurement under attack stops after S seconds
// however few launches it has made, and says so: a starved tenant then
// still yields figures. With --samples, every launch of the good tenant
// goes to FILE as CSV (phase, index, seconds since the phase began, the
// whole call and the launch itself in milliseconds), to tell steady
// slowness from rare long stalls. An attacker refused for its quota waits a
// millisecond before its next request, as a client over the network would at
// least wait for the refusal to reach it. With --max-ratio, the exit status is
// 1 when the median under attack is more than R times the median alone (and
// always when a result was wrong).
//
//===----------------------------------------------------------------------===//

#include "twasm/Artifact.h"
#include "twasm/Runtime.h"
#include "twasm/Tenancy.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace tensorwasm;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "twasm-bench-tenancy: %s\n", message.c_str());
  std::exit(1);
}

template <typename T> T check(Result<T> result, const char *what) {
  if (!result)
    fail(std::string(what) + ": " + result.error().message);
  return std::move(*result);
}

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

Percentiles percentiles(std::vector<double> samples) {
  Percentiles result;
  if (samples.empty())
    return result;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples[std::min(samples.size() - 1,
                            static_cast<size_t>(q * samples.size()))];
  };
  result.p50 = at(0.5);
  result.p90 = at(0.9);
  result.p99 = at(0.99);
  for (double sample : samples)
    result.mean += sample;
  result.mean /= samples.size();
  return result;
}

struct AttackCounts {
  std::atomic<uint64_t> launches{0}, completed{0}, trapped{0}, interrupted{0},
      refused{0}, hostAccessesRefused{0}, growthsRefused{0};
  // The launches that ran: their summed time from launch to synchronize.
  std::atomic<uint64_t> ranNanoseconds{0};
  nlohmann::json report() const {
    uint64_t ran = completed + trapped + interrupted;
    return {{"launches", launches.load()},
            {"mean_launch_ms", ran ? ranNanoseconds / 1e6 / ran : 0.0},
            {"completed", completed.load()},
            {"trapped", trapped.load()},
            {"interrupted", interrupted.load()},
            {"refused_for_quota", refused.load()},
            {"host_accesses_refused", hostAccessesRefused.load()},
            {"growths_refused", growthsRefused.load()}};
  }
  void count(const Result<LaunchResult> &result) {
    ++launches;
    if (!result) {
      ++refused;
      // As a client over the network would at least wait for the refusal.
      std::this_thread::sleep_for(1ms);
      return;
    }
    ranNanoseconds += static_cast<uint64_t>(result->elapsed.count());
    switch (result->outcome) {
    case LaunchResult::Outcome::Completed:
      ++completed;
      break;
    case LaunchResult::Outcome::Trapped:
      ++trapped;
      break;
    case LaunchResult::Outcome::Interrupted:
      ++interrupted;
      break;
    }
  }
};

} // namespace

int main(int argc, char **argv) {
  // Line by line, so that a run cut off by a timeout still shows how far
  // it came.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 3)
    fail("usage: twasm-bench-tenancy ARTIFACT.twa PUBLISHER.pub [--device "
         "cpu|cuda] [--memory managed|device] [--cpu-slice-us N] "
         "[--sm-group-size N] [--elements N] [--launches N] [--attackers "
         "LIST] [--hostile-blocks N] [--attack-seconds S] [--samples FILE] "
         "[--max-ratio R] [--json FILE]");
  std::string artifactPath = argv[1], publisherPath = argv[2];
  DeviceKind kind = DeviceKind::Cpu;
  uint32_t elements = 16384;
  int launches = 2000;
  double maxRatio = 0, attackSeconds = 0;
  std::string jsonPath, samplesPath;
  MemoryMode memory = MemoryMode::Managed;
  long cpuSliceMicroseconds = 2000;
  unsigned smGroupSize = 0;
  std::string attackerList = "looper,trapper,crowd,bomber";
  // The hostile tenants' quota of blocks per launch: the crowd's grid.
  uint64_t hostileBlocks = TenantQuota().blocksPerLaunch;
  for (int i = 3; i < argc; ++i) {
    std::string option = argv[i];
    if (i + 1 >= argc)
      fail(option + " needs a value");
    std::string value = argv[++i];
    if (option == "--device") {
      std::optional<DeviceKind> parsed = parseDeviceKind(value);
      if (!parsed)
        fail("unknown device " + value);
      kind = *parsed;
    } else if (option == "--memory") {
      if (value != "managed" && value != "device")
        fail("--memory is managed or device");
      memory = value == "device" ? MemoryMode::Device : MemoryMode::Managed;
    } else if (option == "--cpu-slice-us") {
      cpuSliceMicroseconds = std::stol(value);
    } else if (option == "--sm-group-size") {
      smGroupSize = static_cast<unsigned>(std::stoul(value));
    } else if (option == "--attackers") {
      attackerList = value;
    } else if (option == "--hostile-blocks") {
      hostileBlocks = std::stoull(value);
    } else if (option == "--elements") {
      elements = static_cast<uint32_t>(std::stoul(value));
    } else if (option == "--launches") {
      launches = std::stoi(value);
    } else if (option == "--attack-seconds") {
      attackSeconds = std::stod(value);
    } else if (option == "--samples") {
      samplesPath = value;
    } else if (option == "--max-ratio") {
      maxRatio = std::stod(value);
    } else if (option == "--json") {
      jsonPath = value;
    } else {
      fail("unknown option " + option);
    }
  }
  if (elements == 0 || elements > 32768 || launches < 10)
    fail("--elements must be 1 to 32768 (the module has at most 4 pages) "
         "and --launches at least 10");

  // A registry of the benchmark's own, trusting the build's publisher key.
  char pattern[] = "/tmp/twasm-bench-tenancy-XXXXXX";
  if (!mkdtemp(pattern))
    fail("mkdtemp failed");
  std::string directory = pattern;
  Registry registry =
      check(Registry::open(directory + "/registry"), "registry");
  PublicKey publisher = check(PublicKey::readFile(publisherPath), "publisher");
  if (Status status = registry.updateTrust([&](TrustPolicy &trust) {
        return trust.add(publisher, {"bench/*"});
      });
      !status)
    fail(status.error().message);
  std::ifstream in(artifactPath, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  RegistryEntry entry = check(registry.push(bytes), "push");

  DeviceOptions deviceOptions;
  deviceOptions.kind = kind;
  deviceOptions.memory = memory;
  std::shared_ptr<Device> device = check(Device::open(deviceOptions), "device");
  GatewayOptions gatewayOptions;
  gatewayOptions.cpuSlice = std::chrono::microseconds(cpuSliceMicroseconds);
  if (smGroupSize > 0) {
    gatewayOptions.tenantDevices = deviceOptions;
    gatewayOptions.tenantDevices->gpuSmGroupSize = smGroupSize;
  }
  SigningKey issuer = check(SigningKey::generate(), "issuer key");
  CapabilityVerifier verifier;
  verifier.trustIssuer(issuer.publicKey());
  std::shared_ptr<TenantGateway> gateway =
      TenantGateway::create(device, registry, verifier, gatewayOptions);
  TenantQuota hostileQuota;
  hostileQuota.launchTime = 100ms;
  hostileQuota.memoryBytes = 8 * 65536;
  hostileQuota.blocksPerLaunch = hostileBlocks;
  TenantQuota goodQuota;
  goodQuota.launchesPerSecond = 1e6;
  goodQuota.launchBurst = 1000000;
  if (Status status = gateway->setQuota("good", goodQuota); !status)
    fail(status.error().message);
  auto token = [&](const std::string &tenant) {
    CapabilityClaims claims;
    claims.tenant = tenant;
    claims.operations = {Operation::Instantiate, Operation::Launch};
    claims.kernels = {entry.name};
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    claims.issuedAt = claims.notBefore = now - 60;
    claims.expires = now + 3600;
    std::string text = check(issueCapability(issuer, claims), "issue");
    return check(gateway->authenticate(text), "authenticate");
  };

  // The good tenant: in[i] at 0, out[i] after it; scale(n, 3, in, out).
  Capability good = token("good");
  std::unique_ptr<TenantInstance> goodInstance =
      check(gateway->instantiate(good, entry.name), "instantiate");
  uint64_t needed = uint64_t(elements) * 8;
  if (needed > goodInstance->memoryBytes())
    check(
        goodInstance->grow(
            good, static_cast<uint32_t>(
                      (needed - goodInstance->memoryBytes() + 65535) / 65536)),
        "grow");
  std::vector<int32_t> input(elements), output(elements);
  for (uint32_t i = 0; i < elements; ++i)
    input[i] = static_cast<int32_t>(i * 2654435761u);
  if (Status status = goodInstance->write(good, 0, input.data(), elements * 4);
      !status)
    fail(status.error().message);
  LaunchOptions goodLaunch;
  goodLaunch.grid = {(elements + 63) / 64};
  goodLaunch.block = {64};
  std::vector<Value> goodArguments = {
      Value::i32(static_cast<int32_t>(elements)), Value::i32(3), Value::i32(0),
      Value::i32(static_cast<int32_t>(elements * 4))};
  uint64_t wrong = 0;
  // Besides each launch's whole time, the launch itself as the device
  // timed it (LaunchResult::elapsed: on a GPU from the driver's launch to
  // the end of its synchronize): what is left is the runtime's and the
  // gateway's own (their locks, the launch gate, the deadline watch).
  std::vector<double> driverSamples;
  std::string samplesCsv = "phase,index,at_s,whole_ms,launch_ms\n";
  std::atomic<int> goodLaunchesEnded{0};
  // Up to `count` launches, or fewer when `seconds` (if not 0) run out.
  auto measure = [&](const char *phase, int count, double seconds) {
    std::vector<double> samples;
    driverSamples.clear();
    Clock::time_point began = Clock::now();
    for (int i = 0; i < count; ++i) {
      auto start = Clock::now();
      if (seconds > 0 &&
          std::chrono::duration<double>(start - began).count() > seconds)
        break;
      LaunchResult result =
          check(goodInstance->launch(good, "scale", goodLaunch, goodArguments),
                "launch");
      samples.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - start)
              .count());
      ++goodLaunchesEnded;
      driverSamples.push_back(
          std::chrono::duration<double, std::milli>(result.elapsed).count());
      if (!samplesPath.empty()) {
        char line[128];
        std::snprintf(line, sizeof line, "%s,%d,%.6f,%.4f,%.4f\n", phase, i,
                      std::chrono::duration<double>(start - began).count(),
                      samples.back(), driverSamples.back());
        samplesCsv += line;
      }
      if (result.outcome != LaunchResult::Outcome::Completed) {
        ++wrong;
        continue;
      }
      std::fill(output.begin(), output.end(), 0);
      if (Status status = goodInstance->read(good, elements * 4, output.data(),
                                             elements * 4);
          !status)
        fail(status.error().message);
      for (uint32_t e = 0; e < elements; ++e)
        if (output[e] != static_cast<int32_t>(uint32_t(input[e]) * 3u + e)) {
          ++wrong;
          break;
        }
    }
    return samples;
  };

  std::printf("device: %s\n", device->description().c_str());
  std::printf("isolation: %s\n",
              smGroupSize ? ("each tenant on a group of at least " +
                             std::to_string(smGroupSize) + " SMs")
                                .c_str()
              : kind == DeviceKind::Cpu && cpuSliceMicroseconds > 0
                  ? ("each tenant on threads of its own, demoted after " +
                     std::to_string(cpuSliceMicroseconds) + " us")
                        .c_str()
                  : "none: every tenant on the one device");
  measure("warm-up", std::max(5, launches / 20), 0);
  std::vector<double> alone = measure("alone", launches, 0);
  Percentiles aloneInDriver = percentiles(driverSamples);

  std::atomic<bool> stop{false};
  // What each kind of attack came to (tenants of one kind together).
  std::map<std::string, AttackCounts> countsByKind;
  AttackCounts &trapperCounts = countsByKind["trapper"];
  AttackCounts &crowdCounts = countsByKind["crowd"];
  AttackCounts &bomberCounts = countsByKind["bomber"];
  using Attack =
      std::function<void(TenantInstance &, const Capability &, uint64_t)>;
  std::map<std::string, Attack> attackByKind;
  // An endless kernel of 64 blocks of 32 threads with one i32 argument,
  // launched again as soon as its launch time ends it.
  auto endless = [](const char *kernel, int32_t argument,
                    AttackCounts &counts) -> Attack {
    return [kernel, argument, &counts](TenantInstance &instance,
                                       const Capability &capability, uint64_t) {
      LaunchOptions options;
      options.grid = {64};
      options.block = {32};
      counts.count(
          instance.launch(capability, kernel, options, {Value::i32(argument)}));
    };
  };
  attackByKind["looper"] = endless("spin", 0, countsByKind["looper"]);
  attackByKind["idler"] = endless("idle", 1, countsByKind["idler"]);
  attackByKind["trapper"] = [&](TenantInstance &instance,
                                const Capability &capability, uint64_t round) {
    LaunchOptions options;
    options.grid = {16};
    options.block = {64};
    uint32_t base = static_cast<uint32_t>(round * 0x9E3779B97F4A7C15ull >> 32);
    trapperCounts.count(instance.launch(
        capability, "poke", options,
        {Value::i32(static_cast<int32_t>(base)), Value::i32(0x00400003)}));
    uint32_t value = 0;
    uint64_t address = instance.memoryBytes() + (base % (1u << 30));
    if (!instance.read(capability, address, &value, 4))
      ++trapperCounts.hostAccessesRefused;
    if (!instance.write(capability, address, &value, 4))
      ++trapperCounts.hostAccessesRefused;
  };
  attackByKind["crowd"] = [&](TenantInstance &instance,
                              const Capability &capability, uint64_t) {
    LaunchOptions options;
    options.block = {1024};
    std::vector<Value> nothing = {Value::i32(0), Value::i32(1), Value::i32(0),
                                  Value::i32(0)};
    // Past the quota's blocks per launch (refused), then the largest
    // grid allowed.
    options.grid = {65535, 65535, 16};
    crowdCounts.count(instance.launch(capability, "scale", options, nothing));
    options.grid = {
        static_cast<uint32_t>(std::min<uint64_t>(hostileBlocks, 0x7fffffff))};
    crowdCounts.count(instance.launch(capability, "scale", options, nothing));
  };
  attackByKind["bomber"] = [&](TenantInstance &instance,
                               const Capability &capability, uint64_t round) {
    if (!instance.grow(capability, 1000 + round % 30000))
      ++bomberCounts.growthsRefused;
    Result<std::unique_ptr<TenantInstance>> more =
        gateway->instantiate(capability, entry.name);
    if (!more)
      ++bomberCounts.refused;
    std::this_thread::sleep_for(1ms);
  };

  // The attackers in the order listed, each a tenant of its own (a kind
  // listed again is another tenant: "looper-2"), each with its instance
  // made here, one after the other, before any attack starts: so each
  // tenant's device (on a GPU with --sm-group-size, its group of SMs, which
  // the gateway gives out in turn) is the same from run to run.
  struct Attacker {
    Attack attack;
    Capability capability;
    std::unique_ptr<TenantInstance> instance;
  };
  std::vector<Attacker> hostile;
  std::map<std::string, int> listed;
  std::printf("tenant good: %s\n", gateway->usage("good").device.c_str());
  for (size_t at = 0; at <= attackerList.size();) {
    size_t comma = std::min(attackerList.find(',', at), attackerList.size());
    std::string kind = attackerList.substr(at, comma - at);
    at = comma + 1;
    if (kind.empty())
      continue;
    if (!attackByKind.count(kind))
      fail("unknown attacker '" + kind +
           "' (looper, idler, trapper, crowd or bomber)");
    int nth = ++listed[kind];
    std::string tenant = nth == 1 ? kind : kind + "-" + std::to_string(nth);
    if (Status status = gateway->setQuota(tenant, hostileQuota); !status)
      fail(status.error().message);
    Capability capability = token(tenant);
    std::unique_ptr<TenantInstance> instance =
        check(gateway->instantiate(capability, entry.name), "instantiate");
    std::printf("tenant %s: %s\n", tenant.c_str(),
                gateway->usage(tenant).device.c_str());
    hostile.push_back(Attacker{attackByKind[kind], std::move(capability),
                               std::move(instance)});
  }
  std::vector<std::thread> attackers;
  for (Attacker &attacker : hostile)
    attackers.emplace_back([&] {
      for (uint64_t round = 0; !stop; ++round)
        attacker.attack(*attacker.instance, attacker.capability, round);
    });
  // With --attack-seconds, how far every tenant has come, each second, on
  // stderr: a run that stalls shows who stalled.
  std::mutex measuring;
  std::condition_variable measuredChanged;
  bool measured = false;
  std::thread progress;
  if (attackSeconds > 0)
    progress = std::thread([&] {
      Clock::time_point began = Clock::now();
      for (int at = 1;; ++at) {
        std::unique_lock<std::mutex> lock(measuring);
        if (measuredChanged.wait_until(lock, began + std::chrono::seconds(at),
                                       [&] { return measured; }))
          return;
        std::string ran;
        for (const auto &[kind, counts] : countsByKind)
          if (counts.launches)
            ran += ", " + kind + " " + std::to_string(counts.launches.load()) +
                   "/" +
                   std::to_string(counts.completed + counts.trapped +
                                  counts.interrupted);
        std::fprintf(stderr,
                     "progress %d s: good %d launches; launches/ran%s; "
                     "bomber %llu\n",
                     at, goodLaunchesEnded.load(), ran.c_str(),
                     static_cast<unsigned long long>(
                         bomberCounts.growthsRefused.load()));
      }
    });
  // Let every attack be under way before measuring.
  std::this_thread::sleep_for(200ms);
  std::vector<double> attacked = measure("attacked", launches, attackSeconds);
  {
    std::lock_guard<std::mutex> lock(measuring);
    measured = true;
  }
  measuredChanged.notify_all();
  if (progress.joinable())
    progress.join();
  if (attacked.empty())
    fail("no launch of the good tenant ended within --attack-seconds");
  Percentiles attackedInDriver = percentiles(driverSamples);
  stop = true;
  for (std::thread &thread : attackers)
    if (thread.joinable())
      thread.join();

  Percentiles a = percentiles(alone), b = percentiles(attacked);
  double ratio50 = b.p50 / a.p50, ratio99 = b.p99 / a.p99;
  std::printf("good tenant: scale over %u elements, %d launches alone, %zu "
              "under attack%s\n",
              elements, launches, attacked.size(),
              attacked.size() < size_t(launches)
                  ? " (cut short by --attack-seconds)"
                  : "");
  std::printf("  alone         median %8.3f ms  p90 %8.3f  p99 %8.3f  mean "
              "%8.3f\n",
              a.p50, a.p90, a.p99, a.mean);
  std::printf("  under attack  median %8.3f ms  p90 %8.3f  p99 %8.3f  mean "
              "%8.3f\n",
              b.p50, b.p90, b.p99, b.mean);
  std::printf("  of which the launch itself (LaunchResult::elapsed): "
              "median %.3f ms alone, %.3f ms under attack\n",
              aloneInDriver.p50, attackedInDriver.p50);
  std::printf("  ratio         median %.2f  p99 %.2f; wrong results: %llu\n",
              ratio50, ratio99, static_cast<unsigned long long>(wrong));
  nlohmann::json attacks = nlohmann::json::object();
  for (const auto &[kind, counts] : countsByKind)
    attacks[kind] = counts.report();
  std::printf("attackers (%s): %s\n", attackerList.c_str(),
              attacks.dump().c_str());
  if (!jsonPath.empty()) {
    nlohmann::json report = {
        {"device", device->description()},
        {"cpu_slice_us", cpuSliceMicroseconds},
        {"sm_group_size", smGroupSize},
        {"attackers_enabled", attackerList},
        {"hostile_blocks_per_launch", hostileBlocks},
        {"elements", elements},
        {"launches", launches},
        {"attacked_launches", attacked.size()},
        {"attack_seconds", attackSeconds},
        {"alone_ms", {{"p50", a.p50}, {"p90", a.p90}, {"p99", a.p99}}},
        {"attacked_ms", {{"p50", b.p50}, {"p90", b.p90}, {"p99", b.p99}}},
        {"alone_launch_to_sync_ms",
         {{"p50", aloneInDriver.p50}, {"p99", aloneInDriver.p99}}},
        {"attacked_launch_to_sync_ms",
         {{"p50", attackedInDriver.p50}, {"p99", attackedInDriver.p99}}},
        {"ratio_p50", ratio50},
        {"ratio_p99", ratio99},
        {"wrong_results", wrong},
        {"attackers", attacks}};
    std::ofstream(jsonPath) << report.dump(2) << "\n";
  }
  if (!samplesPath.empty())
    std::ofstream(samplesPath) << samplesCsv;
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
  if (wrong)
    fail(std::to_string(wrong) + " launches of the good tenant went wrong");
  if (maxRatio > 0 && ratio50 > maxRatio)
    fail("the median latency under attack is " + std::to_string(ratio50) +
         " times the median alone, more than " + std::to_string(maxRatio));
  return 0;
}
