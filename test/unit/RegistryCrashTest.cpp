//===- RegistryCrashTest.cpp - pushes killed at random moments ------------===//
//
// docs/artifact-format.md, "The registry": a crash at any instant leaves the
// old index or the new one, each of whose entries names a whole object.
// This test forks a child that pushes artifacts of varying sizes (up to
// 256 KiB, so that writes take time) one after another, and kills it with
// SIGKILL at a random moment while a push is in flight, at least 200 times.
// After every kill, the registry must hold exactly the artifacts pushed
// before the one in flight, and perhaps that one, each whole; fsck must be
// clean (garbage is allowed: it is what a crash leaves). Every few kills,
// and at the end, every entry is fetched and verified, and now and then gc
// clears the garbage.
//
// The child reports its progress through shared memory: how many pushes it
// has begun and finished, so that the parent counts only the kills that
// interrupted a push, and times its kills from the start of the first.
//
//===----------------------------------------------------------------------===//

#include "RegistryTestSupport.h"

#include "support/Files.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <random>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace tensorwasm;
using namespace tensorwasm::testing;
using Clock = std::chrono::steady_clock;

namespace {

/// Kills that must interrupt a push.
constexpr int kRequiredKills = 200;
/// Names pushed round-robin, each in increasing versions.
constexpr size_t kNames = 10;
/// Every this many rounds, every entry is fetched and gc runs.
constexpr int kFetchEvery = 20;
constexpr int kGcEvery = 50;

/// Written by the child, read by the parent.
struct Progress {
  std::atomic<uint32_t> begun;
  std::atomic<uint32_t> finished;
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);

/// Artifact `index`: name crash/nK, version index / kNames + 1, with code
/// of a size between 1 KiB and 256 KiB, log-uniformly.
std::string makeCrashArtifact(size_t index, const SigningKey &key) {
  std::mt19937_64 random(index);
  double exponent = std::uniform_real_distribution<double>(10, 18)(random);
  std::string code(static_cast<size_t>(std::exp2(exponent)), '\0');
  for (char &byte : code)
    byte = static_cast<char>(random());
  ArtifactSpec spec;
  spec.name = "crash/n" + std::to_string(index % kNames);
  spec.version = index / kNames + 1;
  spec.code = std::move(code);
  return makeArtifact(spec, key);
}

std::string referenceOf(size_t index) {
  return "crash/n" + std::to_string(index % kNames) + "@" +
         std::to_string(index / kNames + 1);
}

TEST(RegistryCrashTest, KilledPushesLeaveAConsistentStore) {
  Clock::time_point start = Clock::now();
  TemporaryDirectory directory;
  std::string root = directory.str() + "/registry";
  Result<Registry> opened = Registry::open(root);
  ASSERT_TRUE(opened) << opened.error().message;
  Registry registry = *opened;
  SigningKey key = newKey();
  ASSERT_TRUE(registry.setTrust(trusting(key)));

  std::vector<std::string> artifacts;
  std::vector<std::string> digests;
  auto prepare = [&](size_t count) {
    while (artifacts.size() < count) {
      artifacts.push_back(makeCrashArtifact(artifacts.size(), key));
      digests.push_back(files::sha256Hex(artifacts.back()));
    }
  };

  // How long a push takes here: the kills land within about twice that
  // after the first push begins.
  size_t next = 0; // The first artifact not in the registry.
  prepare(16);
  Clock::time_point calibration = Clock::now();
  for (; next < 8; ++next)
    ASSERT_TRUE(registry.push(artifacts[next]));
  auto pushTime = std::chrono::duration_cast<std::chrono::microseconds>(
                      Clock::now() - calibration) /
                  8;
  int64_t window = std::max<int64_t>(2 * pushTime.count(), 200);

  auto *progress = static_cast<Progress *>(
      mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(progress, MAP_FAILED);
  new (progress) Progress{};

  std::mt19937 random(20240611);
  int rounds = 0, kills = 0, finishedChildren = 0, fsckRuns = 0, gcRuns = 0;
  // Where the kills landed, as far as the files tell: after the push's
  // index was in place; else after its object was; else while it wrote a
  // file (a temporary file was left); else before it left any file.
  int beforeWriting = 0, inWrite = 0, afterObject = 0, afterIndex = 0;
  size_t maxGarbage = 0, garbageRemoved = 0;
  auto temporaryFiles = [&] {
    size_t count = 0;
    for ([[maybe_unused]] const auto &file :
         std::filesystem::directory_iterator(root + "/tmp"))
      ++count;
    return count;
  };
  auto objectExists = [&](size_t index) {
    const std::string &digest = digests[index];
    return std::filesystem::exists(root + "/objects/sha256/" +
                                   digest.substr(0, 2) + "/" + digest);
  };

  /// Whether the push of `next`, in flight when the child was killed,
  /// landed.
  auto landed = [&] {
    Result<RegistryEntry> inFlight = registry.find(referenceOf(next));
    if (!inFlight)
      return false;
    EXPECT_EQ(inFlight->digest, digests[next]);
    return true;
  };
  auto checkStore = [&](bool fetchAll) {
    // Exactly the artifacts before `next`.
    Result<ListPage> all = registry.list({"", 1000, ""});
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->entries.size(), next);
    for (const RegistryEntry &entry : all->entries) {
      size_t index = (entry.version - 1) * kNames +
                     std::stoul(entry.name.substr(strlen("crash/n")));
      ASSERT_LT(index, next) << entry.name;
      EXPECT_EQ(entry.digest, digests[index]) << entry.name;
      EXPECT_EQ(entry.size, artifacts[index].size()) << entry.name;
    }
    Result<FsckReport> report = registry.fsck();
    ++fsckRuns;
    ASSERT_TRUE(report) << report.error().message;
    std::string problems;
    for (const std::string &problem : report->problems)
      problems += problem + "\n";
    ASSERT_TRUE(report->clean()) << "after round " << rounds << ":\n"
                                 << problems;
    EXPECT_EQ(report->entries, next);
    EXPECT_TRUE(report->stale.empty());
    maxGarbage = std::max(maxGarbage, report->garbageFiles);
    if (fetchAll)
      for (const RegistryEntry &entry : all->entries) {
        Result<Artifact> fetched =
            registry.fetch(entry.name + "@" + std::to_string(entry.version));
        ASSERT_TRUE(fetched) << fetched.error().message;
        EXPECT_EQ(fetched->digest(), entry.digest);
      }
  };

  while (kills < kRequiredKills) {
    ASSERT_LT(rounds, 4 * kRequiredKills) << "too few kills land mid-push";
    ASSERT_LT(Clock::now() - start, std::chrono::seconds(240));
    prepare(next + 16);
    size_t temporariesBefore = temporaryFiles();
    bool objectBefore = objectExists(next);
    progress->begun.store(0);
    progress->finished.store(0);
    ++rounds;
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The child: pushes until killed. No gtest assertions here.
      Result<Registry> own = Registry::open(root);
      if (!own)
        _exit(2);
      for (size_t index = next; index < artifacts.size(); ++index) {
        progress->begun.fetch_add(1);
        if (!own->push(artifacts[index])) {
          std::fprintf(stderr, "push of %s failed\n",
                       referenceOf(index).c_str());
          _exit(3);
        }
        progress->finished.fetch_add(1);
      }
      _exit(0);
    }
    // Wait for the first push to begin, then kill at a random moment.
    Clock::time_point waitStart = Clock::now();
    while (progress->begun.load() == 0 &&
           Clock::now() - waitStart < std::chrono::seconds(10))
      usleep(20);
    usleep(std::uniform_int_distribution<int64_t>(0, window)(random));
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    uint32_t begun = progress->begun.load(),
             finished = progress->finished.load();
    bool finishedAll = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ASSERT_TRUE(WIFSIGNALED(status) || finishedAll)
        << "the child failed: status " << status;
    if (finishedAll || begun == finished) {
      ++finishedChildren; // Done, or killed between pushes.
      next += finished;
    } else {
      ++kills;
      bool objectNew =
          (finished > 0 || !objectBefore) && objectExists(next + finished);
      bool temporaryLeft = temporaryFiles() > temporariesBefore;
      next += finished;
      if (landed()) {
        ++afterIndex;
        ++next;
      } else if (objectNew) {
        ++afterObject;
      } else if (temporaryLeft) {
        ++inWrite;
      } else {
        ++beforeWriting;
      }
    }

    checkStore(rounds % kFetchEvery == 0);
    if (::testing::Test::HasFatalFailure())
      return;
    if (rounds % kGcEvery == 0) {
      Result<GcReport> collected = registry.gc();
      ASSERT_TRUE(collected) << collected.error().message;
      garbageRemoved += collected->removedFiles;
      ++gcRuns;
    }
  }

  checkStore(true);
  Result<GcReport> collected = registry.gc();
  ASSERT_TRUE(collected) << collected.error().message;
  garbageRemoved += collected->removedFiles;
  ++gcRuns;
  Result<FsckReport> last = registry.fsck();
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->clean());
  EXPECT_EQ(last->garbageFiles, 0u);
  EXPECT_EQ(last->entries, next);
  EXPECT_EQ(last->objects, next);
  munmap(progress, sizeof(Progress));

  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "%d rounds; %d kills interrupted a push: %d before it left any file, "
      "%d while it wrote a file (a temporary file was left), %d after its "
      "object was in place, %d after its index was; %d children were "
      "killed between pushes or finished\n"
      "%zu pushes landed; %d fsck runs, all clean, at most %zu garbage "
      "files at once; %d gc runs removed %zu files\n"
      "a push takes %lld us here, kills came 0 to %lld us after the first "
      "push began; %.1f s\n",
      rounds, kills, beforeWriting, inWrite, afterObject, afterIndex,
      finishedChildren, next, fsckRuns, maxGarbage, gcRuns, garbageRemoved,
      static_cast<long long>(pushTime.count()), static_cast<long long>(window),
      seconds);
}

} // namespace
