//===- RegistryTest.cpp - the kernel registry -----------------------------===//
//
// What docs/artifact-format.md, "The registry", promises: pushes verify
// against the registry's trust policy and versions only go up (rollback is
// refused, the same file again is a no-op, a removed version stays taken);
// NAME resolves to the highest version present and NAME@VERSION pins one;
// listing pages with cursors; every fetch verifies again against the
// current policy and clock (an expired artifact or a distrusted key stops
// loading); fsck finds damaged, missing and swapped objects and a damaged
// index without crashing, and tells stale entries from broken ones; gc
// removes crash leftovers, unreferenced objects and, when asked, expired
// entries; and concurrent pushes from many threads all land.
//
// RegistryCrashTest.cpp kills pushing processes.
//
//===----------------------------------------------------------------------===//

#include "RegistryTestSupport.h"

#include "support/Files.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <thread>

using namespace tensorwasm;
using namespace tensorwasm::testing;

namespace {

class RegistryTest : public ::testing::Test {
protected:
  void SetUp() override {
    root = directory.str() + "/registry";
    Result<Registry> opened = Registry::open(root);
    ASSERT_TRUE(opened) << opened.error().message;
    registry = *opened;
  }

  /// Trusts `key` (by default, the fixture's) for `names`.
  void trust(std::vector<std::string> names = {"*"}) {
    trust(key, std::move(names));
  }
  void trust(const SigningKey &signer, std::vector<std::string> names) {
    Result<TrustPolicy> policy = registry.trust();
    ASSERT_TRUE(policy) << policy.error().message;
    ASSERT_TRUE(policy->add(signer.publicKey(), std::move(names)));
    ASSERT_TRUE(registry.setTrust(*policy));
  }

  std::string artifact(const std::string &name, uint64_t version,
                       const std::string &code = "code") {
    ArtifactSpec spec;
    spec.name = name;
    spec.version = version;
    spec.code = code;
    return makeArtifact(spec, key);
  }

  RegistryEntry push(const std::string &bytes) {
    Result<RegistryEntry> entry = registry.push(bytes);
    EXPECT_TRUE(entry) << entry.error().message;
    return entry ? *entry : RegistryEntry{};
  }

  std::string objectPath(const std::string &digest) const {
    return root + "/objects/sha256/" + digest.substr(0, 2) + "/" + digest;
  }

  static void writeFile(const std::string &path, const std::string &bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good()) << path;
  }

  FsckReport fsck(const VerifyOptions &options = {}) {
    Result<FsckReport> report = registry.fsck(options);
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : FsckReport{};
  }

  static std::string problems(const FsckReport &report) {
    std::string text;
    for (const std::string &problem : report.problems)
      text += problem + "\n";
    return text;
  }

  TemporaryDirectory directory;
  std::string root;
  Registry registry;
  SigningKey key = newKey();
};

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST_F(RegistryTest, OpenCreatesAnEmptyRegistry) {
  for (const char *path : {"/objects/sha256", "/tmp", "/lock"})
    EXPECT_TRUE(std::filesystem::exists(root + path)) << path;
  Result<ListPage> page = registry.list({});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->entries.empty());
  EXPECT_TRUE(page->next.empty());
  Result<TrustPolicy> policy = registry.trust();
  ASSERT_TRUE(policy);
  EXPECT_TRUE(policy->publishers().empty());
  FsckReport report = fsck();
  EXPECT_TRUE(report.clean()) << problems(report);
  EXPECT_EQ(report.objects, 0u);
  EXPECT_EQ(report.entries, 0u);
  // Opening it again is harmless; a trailing slash names the same one.
  Result<Registry> again = Registry::open(root + "/");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->directory(), root);
}

TEST_F(RegistryTest, ADirectoryOthersMayWriteIsRefused) {
  // Someone who could write it could trust their own key.
  ASSERT_EQ(chmod(root.c_str(), 0775), 0);
  Result<Registry> shared = Registry::open(root);
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code, ErrorCode::Untrusted);
  EXPECT_TRUE(contains(shared.error().message, "not private"))
      << shared.error().message;
  ASSERT_EQ(chmod(root.c_str(), 0755), 0);
  EXPECT_TRUE(Registry::open(root));
}

TEST_F(RegistryTest, DefaultDirectoryFollowsTheEnvironment) {
  auto saved = [](const char *name) -> std::optional<std::string> {
    const char *value = std::getenv(name);
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
  std::optional<std::string> registryVariable = saved("TWASM_REGISTRY"),
                             xdg = saved("XDG_DATA_HOME"), home = saved("HOME");
  setenv("TWASM_REGISTRY", "/srv/kernels", 1);
  setenv("XDG_DATA_HOME", "/xdg", 1);
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(Registry::defaultDirectory(), "/srv/kernels");
  unsetenv("TWASM_REGISTRY");
  EXPECT_EQ(Registry::defaultDirectory(), "/xdg/tensorwasm/registry");
  unsetenv("XDG_DATA_HOME");
  EXPECT_EQ(Registry::defaultDirectory(),
            "/home/someone/.local/share/tensorwasm/registry");
  // Registry::open("") uses it.
  setenv("TWASM_REGISTRY", root.c_str(), 1);
  Result<Registry> opened = Registry::open();
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->directory(), root);
  auto restore = [](const char *name, const std::optional<std::string> &value) {
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  };
  restore("TWASM_REGISTRY", registryVariable);
  restore("XDG_DATA_HOME", xdg);
  restore("HOME", home);
}

TEST_F(RegistryTest, PushFindFetch) {
  trust();
  std::string bytes = artifact("acme/saxpy", 1);
  RegistryEntry entry = push(bytes);
  EXPECT_EQ(entry.name, "acme/saxpy");
  EXPECT_EQ(entry.version, 1u);
  EXPECT_EQ(entry.digest, files::sha256Hex(bytes));
  EXPECT_EQ(entry.size, bytes.size());
  EXPECT_EQ(entry.signer, key.publicKey().keyId());
  EXPECT_GT(entry.expires, entry.created);
  EXPECT_GE(entry.pushed, unixNow() - 5);

  // The object is the file, under its digest.
  std::optional<std::string> object = files::readFile(objectPath(entry.digest));
  ASSERT_TRUE(object);
  EXPECT_EQ(*object, bytes);

  for (const char *reference : {"acme/saxpy", "acme/saxpy@1"}) {
    Result<RegistryEntry> found = registry.find(reference);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(found->digest, entry.digest);
    EXPECT_EQ(found->pushed, entry.pushed);
    Result<Artifact> fetched = registry.fetch(reference);
    ASSERT_TRUE(fetched) << fetched.error().message;
    EXPECT_EQ(fetched->manifest().name, "acme/saxpy");
    EXPECT_EQ(fetched->digest(), entry.digest);
    EXPECT_EQ(fetched->bytes(), bytes);
  }

  // The index is canonical JSON.
  std::optional<std::string> index = files::readFile(root + "/index.json");
  ASSERT_TRUE(index);
  nlohmann::json document = nlohmann::json::parse(*index);
  EXPECT_EQ(document.dump(), *index);
  EXPECT_EQ(document["format"], 1);
  EXPECT_EQ(document["names"]["acme/saxpy"]["highest"], 1);
  EXPECT_EQ(document["names"]["acme/saxpy"]["versions"]["1"]["digest"],
            entry.digest);

  // Unknown names and versions, and references that are not references.
  Result<RegistryEntry> missing = registry.find("acme/other");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(contains(missing.error().message, "no artifact named acme/other"))
      << missing.error().message;
  Result<RegistryEntry> noVersion = registry.find("acme/saxpy@2");
  ASSERT_FALSE(noVersion);
  EXPECT_TRUE(contains(noVersion.error().message, "no version 2"))
      << noVersion.error().message;
  EXPECT_TRUE(contains(noVersion.error().message, "its versions are 1"))
      << noVersion.error().message;
  for (const char *bad : {"", "Acme/x", "acme/saxpy@", "acme/saxpy@0",
                          "acme/saxpy@01", "acme/saxpy@x", "../x", "a//b"}) {
    Result<RegistryEntry> refused = registry.find(bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::InvalidArgument) << bad;
    EXPECT_FALSE(registry.fetch(bad)) << bad;
  }

  FsckReport report = fsck();
  EXPECT_TRUE(report.clean()) << problems(report);
  EXPECT_EQ(report.objects, 1u);
  EXPECT_EQ(report.entries, 1u);
  EXPECT_EQ(report.garbageFiles, 0u);
  EXPECT_TRUE(report.stale.empty());
}

TEST_F(RegistryTest, ListPagesWithCursors) {
  trust();
  // 5 names x 5 versions, pushed in an order that is not the listing's.
  for (uint64_t version = 1; version <= 5; ++version)
    for (int name = 4; name >= 0; --name)
      push(artifact("acme/k" + std::to_string(name), version));
  push(artifact("other/x", 1));

  ListQuery query;
  query.prefix = "acme/";
  query.limit = 10;
  std::vector<std::string> seen, cursors;
  for (int page = 0; page < 10; ++page) {
    Result<ListPage> result = registry.list(query);
    ASSERT_TRUE(result) << result.error().message;
    for (const RegistryEntry &entry : result->entries)
      seen.push_back(entry.name + "@" + std::to_string(entry.version));
    cursors.push_back(result->next);
    if (result->next.empty())
      break;
    EXPECT_EQ(result->entries.size(), 10u);
    query.after = result->next;
  }
  EXPECT_EQ(cursors, (std::vector<std::string>{"acme/k1@5", "acme/k3@5", ""}));
  std::vector<std::string> expected;
  for (int name = 0; name < 5; ++name)
    for (int version = 1; version <= 5; ++version)
      expected.push_back("acme/k" + std::to_string(name) + "@" +
                         std::to_string(version));
  EXPECT_EQ(seen, expected);

  // Without a prefix, every name; a page that ends exactly at the end has
  // no cursor.
  Result<ListPage> all = registry.list({"", 26, ""});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->entries.size(), 26u);
  EXPECT_TRUE(all->next.empty());
  Result<ListPage> most = registry.list({"", 25, ""});
  ASSERT_TRUE(most);
  EXPECT_EQ(most->next, "acme/k4@5");

  // A prefix, a prefix with a cursor inside it, a prefix with nothing.
  Result<ListPage> one = registry.list({"acme/k2", 100, ""});
  ASSERT_TRUE(one);
  ASSERT_EQ(one->entries.size(), 5u);
  EXPECT_EQ(one->entries.front().name, "acme/k2");
  Result<ListPage> rest = registry.list({"acme/k2", 2, "acme/k2@3"});
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->entries.size(), 2u);
  EXPECT_EQ(rest->entries[0].version, 4u);
  EXPECT_EQ(rest->entries[1].version, 5u);
  EXPECT_TRUE(rest->next.empty());
  Result<ListPage> none = registry.list({"zzz", 10, ""});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->entries.empty());
  // A cursor before every name, and after every name.
  Result<ListPage> before = registry.list({"", 1, "a@1"});
  ASSERT_TRUE(before);
  EXPECT_EQ(before->next, "acme/k0@1");
  Result<ListPage> after = registry.list({"", 10, "zzz@1"});
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->entries.empty());

  // Limits and cursors that are not.
  for (size_t limit : {size_t(0), size_t(1001)}) {
    Result<ListPage> refused = registry.list({"", limit, ""});
    ASSERT_FALSE(refused) << limit;
    EXPECT_EQ(refused.error().code, ErrorCode::InvalidArgument);
  }
  EXPECT_TRUE(registry.list({"", 1000, ""}));
  for (const char *cursor : {"acme/k1", "acme/k1@", "@3", "nonsense@@1"}) {
    Result<ListPage> refused = registry.list({"", 10, cursor});
    ASSERT_FALSE(refused) << cursor;
    EXPECT_EQ(refused.error().code, ErrorCode::InvalidArgument);
  }
}

TEST_F(RegistryTest, VersionsOnlyGoUp) {
  trust();
  std::string second = artifact("acme/saxpy", 2);
  RegistryEntry entry = push(second);

  // An older version: a rollback, named as one, with both versions.
  Result<RegistryEntry> rollback = registry.push(artifact("acme/saxpy", 1));
  ASSERT_FALSE(rollback);
  EXPECT_EQ(rollback.error().code, ErrorCode::Untrusted);
  EXPECT_TRUE(contains(rollback.error().message, "rollback"))
      << rollback.error().message;
  EXPECT_TRUE(contains(rollback.error().message, "version 1"));
  EXPECT_TRUE(contains(rollback.error().message, "version 2"));

  // The same version with other contents.
  Result<RegistryEntry> reused =
      registry.push(artifact("acme/saxpy", 2, "other code"));
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().code, ErrorCode::Untrusted);
  EXPECT_TRUE(contains(reused.error().message, "already in the registry"))
      << reused.error().message;

  // The very same file: a no-op that returns the stored entry, and says so.
  bool alreadyPresent = false;
  Result<RegistryEntry> again =
      registry.push(second, VerifyOptions(), &alreadyPresent);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(alreadyPresent);
  EXPECT_EQ(again->digest, entry.digest);
  EXPECT_EQ(again->pushed, entry.pushed);

  // Newer versions are accepted; NAME is the highest, NAME@VERSION a pin.
  std::string third = artifact("acme/saxpy", 3);
  push(third);
  std::string seventh = artifact("acme/saxpy", 7);
  push(seventh);
  Result<RegistryEntry> highest = registry.find("acme/saxpy");
  ASSERT_TRUE(highest);
  EXPECT_EQ(highest->version, 7u);
  Result<Artifact> pinned = registry.fetch("acme/saxpy@2");
  ASSERT_TRUE(pinned) << pinned.error().message;
  EXPECT_EQ(pinned->manifest().version, 2u);
  EXPECT_EQ(pinned->bytes(), second);

  // An older file that is stored is still a no-op; one that is not, a
  // rollback (versions 4 to 6 were skipped and stay below the highest).
  EXPECT_TRUE(registry.push(second));
  EXPECT_TRUE(registry.push(third));
  Result<RegistryEntry> skipped = registry.push(artifact("acme/saxpy", 5));
  ASSERT_FALSE(skipped);
  EXPECT_TRUE(contains(skipped.error().message, "rollback"));

  // Other names have their own versions; a new one is stored, not a no-op.
  ASSERT_TRUE(registry.push(artifact("acme/other", 1), VerifyOptions(),
                            &alreadyPresent));
  EXPECT_FALSE(alreadyPresent);
  FsckReport report = fsck();
  EXPECT_TRUE(report.clean()) << problems(report);
  EXPECT_EQ(report.entries, 4u);
  EXPECT_EQ(report.objects, 4u);
  EXPECT_EQ(report.garbageFiles, 0u);
}

TEST_F(RegistryTest, RemoveKeepsTheHighestVersion) {
  trust();
  push(artifact("acme/saxpy", 1));
  std::string second = artifact("acme/saxpy", 2);
  push(second);

  Status needsVersion = registry.remove("acme/saxpy");
  ASSERT_FALSE(needsVersion);
  EXPECT_EQ(needsVersion.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(contains(needsVersion.error().message, "NAME@VERSION"));
  EXPECT_FALSE(registry.remove("acme/saxpy@9"));
  EXPECT_FALSE(registry.remove("acme/nothing@1"));

  ASSERT_TRUE(registry.remove("acme/saxpy@2"));
  Result<RegistryEntry> highest = registry.find("acme/saxpy");
  ASSERT_TRUE(highest);
  EXPECT_EQ(highest->version, 1u);
  Result<RegistryEntry> removed = registry.find("acme/saxpy@2");
  ASSERT_FALSE(removed);
  EXPECT_TRUE(contains(removed.error().message, "removed"))
      << removed.error().message;
  EXPECT_FALSE(registry.remove("acme/saxpy@2"));

  // The removed version cannot come back, not even as the same file.
  Result<RegistryEntry> back = registry.push(second);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::Untrusted);
  EXPECT_TRUE(contains(back.error().message, "removed"))
      << back.error().message;
  // Its object is garbage now.
  FsckReport report = fsck();
  EXPECT_TRUE(report.clean()) << problems(report);
  EXPECT_EQ(report.garbageFiles, 1u);

  // With every version removed, NAME finds nothing, and the highest stays.
  ASSERT_TRUE(registry.remove("acme/saxpy@1"));
  Result<RegistryEntry> none = registry.find("acme/saxpy");
  ASSERT_FALSE(none);
  EXPECT_TRUE(contains(none.error().message, "the highest was 2"))
      << none.error().message;
  EXPECT_FALSE(registry.push(artifact("acme/saxpy", 2, "new")));
  push(artifact("acme/saxpy", 3));
}

TEST_F(RegistryTest, PublishersAreRecordedAndBoundedInWhatTheyKeep) {
  trust();
  std::string first = artifact("acme/saxpy", 1);
  std::string second = artifact("acme/saxpy", 2);
  std::string other = artifact("zeta/scale", 1);
  uint64_t bound = first.size() + second.size();

  // Pushed directly: no publisher, nothing counted.
  RegistryEntry direct = push(artifact("acme/direct", 1));
  EXPECT_EQ(direct.publisher, "");
  Result<RegistryEntry> acme1 =
      registry.push(first, VerifyOptions(), nullptr, {"acme", bound});
  ASSERT_TRUE(acme1) << acme1.error().message;
  EXPECT_EQ(acme1->publisher, "acme");
  ASSERT_TRUE(registry.push(second, VerifyOptions(), nullptr, {"acme", bound}));
  EXPECT_EQ(*registry.publishedBytes("acme"), bound);
  EXPECT_EQ(*registry.publishedBytes("zeta"), 0u);

  // One byte more than the bound allows: refused, and nothing changes.
  std::optional<std::string> indexBefore =
      files::readFile(root + "/index.json");
  ASSERT_TRUE(indexBefore);
  std::string third = artifact("acme/saxpy", 3);
  Result<RegistryEntry> over =
      registry.push(third, VerifyOptions(), nullptr, {"acme", bound});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::ResourceExhausted);
  EXPECT_TRUE(
      contains(over.error().message, "'acme' keeps " + std::to_string(bound)))
      << over.error().message;
  EXPECT_EQ(*files::readFile(root + "/index.json"), *indexBefore);
  EXPECT_FALSE(registry.find("acme/saxpy@3"));
  // Another publisher's bound is its own.
  Result<RegistryEntry> zeta =
      registry.push(other, VerifyOptions(), nullptr, {"zeta", other.size()});
  ASSERT_TRUE(zeta) << zeta.error().message;
  // The very file again is a no-op, not a second charge.
  bool alreadyPresent = false;
  ASSERT_TRUE(
      registry.push(second, VerifyOptions(), &alreadyPresent, {"acme", bound}));
  EXPECT_TRUE(alreadyPresent);
  EXPECT_EQ(*registry.publishedBytes("acme"), bound);

  // A removed entry no longer counts.
  ASSERT_TRUE(registry.remove("acme/saxpy@1"));
  EXPECT_EQ(*registry.publishedBytes("acme"), second.size());
  ASSERT_TRUE(registry.push(third, VerifyOptions(), nullptr, {"acme", bound}));

  // The publisher is kept in the index, and read back by another opening.
  Result<Registry> reopened = Registry::open(root);
  ASSERT_TRUE(reopened);
  Result<RegistryEntry> found = reopened->find("acme/saxpy@3");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->publisher, "acme");
  EXPECT_EQ(reopened->find("acme/direct")->publisher, "");
  EXPECT_TRUE(fsck().clean());

  // An index entry whose publisher is not a non-empty string is damage.
  std::optional<std::string> good = files::readFile(root + "/index.json");
  ASSERT_TRUE(good);
  for (const char *bad : {"\"publisher\":\"\"", "\"publisher\":7"}) {
    std::string damaged = *good;
    size_t at = damaged.find("\"publisher\":\"acme\"");
    ASSERT_NE(at, std::string::npos);
    damaged.replace(at, std::strlen("\"publisher\":\"acme\""), bad);
    writeFile(root + "/index.json", damaged);
    Result<RegistryEntry> refused = registry.find("acme/saxpy");
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::InvalidModule);
  }
  writeFile(root + "/index.json", *good);
}

TEST_F(RegistryTest, OnlyTrustedKeysPublishTheirNames) {
  // No key trusted: the error says how to trust one.
  Result<RegistryEntry> nobody = registry.push(artifact("acme/saxpy", 1));
  ASSERT_FALSE(nobody);
  EXPECT_TRUE(contains(nobody.error().message, "twasm registry trust add"))
      << nobody.error().message;

  // Another key trusted: this one is not.
  SigningKey other = newKey();
  trust(other, {"*"});
  Result<RegistryEntry> unknown = registry.push(artifact("acme/saxpy", 1));
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(contains(unknown.error().message, key.publicKey().keyId()))
      << unknown.error().message;

  // Trusted for acme/* only.
  trust({"acme/*"});
  Result<RegistryEntry> outside = registry.push(artifact("other/x", 1));
  ASSERT_FALSE(outside);
  EXPECT_TRUE(contains(outside.error().message, "may not publish"))
      << outside.error().message;
  push(artifact("acme/saxpy", 1));
  push(artifact("acme/deep/name", 1));

  // A damaged artifact is refused, and nothing is stored.
  std::string damaged = artifact("acme/saxpy", 2);
  damaged[damaged.size() - 1] ^= 1;
  EXPECT_FALSE(registry.push(damaged));
  EXPECT_FALSE(registry.push("not an artifact"));
  FsckReport report = fsck();
  EXPECT_TRUE(report.clean()) << problems(report);
  EXPECT_EQ(report.objects, 2u);
  EXPECT_EQ(report.garbageFiles, 0u);
}

TEST_F(RegistryTest, ExpiredArtifactsStopLoading) {
  trust();
  int64_t now = unixNow();
  ArtifactSpec spec;
  spec.name = "acme/old";
  spec.created = now - 1000;
  spec.expires = now - 10;
  Result<RegistryEntry> expired = registry.push(makeArtifact(spec, key));
  ASSERT_FALSE(expired);
  EXPECT_TRUE(contains(expired.error().message, "expired"))
      << expired.error().message;
  // ... unless the pusher's clock says otherwise.
  VerifyOptions past;
  past.now = now - 500;
  EXPECT_TRUE(registry.push(makeArtifact(spec, key), past));

  spec.name = "acme/soon";
  spec.created = now - 10;
  spec.expires = now + 100;
  push(makeArtifact(spec, key));
  EXPECT_TRUE(registry.fetch("acme/soon"));
  // Once the clock passes its expiry, the registry stops serving it
  // (a freeze attack).
  VerifyOptions later;
  later.now = now + 100;
  Result<Artifact> frozen = registry.fetch("acme/soon", later);
  ASSERT_FALSE(frozen);
  EXPECT_TRUE(contains(frozen.error().message, "expired"))
      << frozen.error().message;
  EXPECT_TRUE(contains(frozen.error().message, "acme/soon@1"))
      << frozen.error().message;

  // fsck: stale, not a problem.
  FsckReport report = fsck(later);
  EXPECT_TRUE(report.clean()) << problems(report);
  ASSERT_EQ(report.stale.size(), 2u);
  EXPECT_TRUE(contains(report.stale[0], "acme/old@1 expired"))
      << report.stale[0];
  EXPECT_TRUE(contains(report.stale[1], "acme/soon@1 expired"))
      << report.stale[1];
}

TEST_F(RegistryTest, DistrustedKeysStopLoading) {
  trust();
  RegistryEntry entry = push(artifact("acme/saxpy", 1));
  ASSERT_TRUE(registry.fetch("acme/saxpy"));

  // Trusted for other names only: stale.
  trust({"other/*"});
  EXPECT_FALSE(registry.fetch("acme/saxpy"));
  FsckReport narrowed = fsck();
  EXPECT_TRUE(narrowed.clean()) << problems(narrowed);
  ASSERT_EQ(narrowed.stale.size(), 1u);
  EXPECT_TRUE(contains(narrowed.stale[0], "no longer trusts"))
      << narrowed.stale[0];

  // Removed from the policy: stale too, and the fetch names the key.
  Result<TrustPolicy> policy = registry.trust();
  ASSERT_TRUE(policy);
  ASSERT_TRUE(policy->remove(key.publicKey().keyId()));
  ASSERT_TRUE(policy->add(newKey().publicKey(), {"*"}));
  ASSERT_TRUE(registry.setTrust(*policy));
  Result<Artifact> fetched = registry.fetch("acme/saxpy");
  ASSERT_FALSE(fetched);
  EXPECT_TRUE(contains(fetched.error().message, key.publicKey().keyId()))
      << fetched.error().message;
  FsckReport removed = fsck();
  EXPECT_TRUE(removed.clean()) << problems(removed);
  ASSERT_EQ(removed.stale.size(), 1u);
  EXPECT_TRUE(contains(removed.stale[0], "no longer in the trust policy"))
      << removed.stale[0];
  // Still, an object damaged meanwhile is a problem.
  std::string path = objectPath(entry.digest);
  std::optional<std::string> bytes = files::readFile(path);
  ASSERT_TRUE(bytes);
  (*bytes)[bytes->size() / 2] ^= 0x40;
  writeFile(path, *bytes);
  EXPECT_FALSE(fsck().clean());

  // Trusting it again makes it load again (after the damage is undone).
  (*bytes)[bytes->size() / 2] ^= 0x40;
  writeFile(path, *bytes);
  trust();
  EXPECT_TRUE(registry.fetch("acme/saxpy"));
  EXPECT_TRUE(fsck().stale.empty());
}

TEST_F(RegistryTest, FsckFindsADamagedObject) {
  trust();
  RegistryEntry entry = push(artifact("acme/saxpy", 1));
  push(artifact("acme/other", 1));
  std::string path = objectPath(entry.digest);
  std::optional<std::string> bytes = files::readFile(path);
  ASSERT_TRUE(bytes);
  // Every region of the file: the header, the manifest, the signature,
  // the payloads.
  for (size_t offset :
       {size_t(10), size_t(40), bytes->size() - 100, bytes->size() - 1}) {
    std::string damaged = *bytes;
    damaged[offset] ^= 1;
    writeFile(path, damaged);
    FsckReport report = fsck();
    EXPECT_FALSE(report.clean()) << offset;
    EXPECT_TRUE(contains(problems(report), "is damaged")) << problems(report);
    EXPECT_EQ(report.entries, 2u);
    Result<Artifact> fetched = registry.fetch("acme/saxpy");
    EXPECT_FALSE(fetched) << offset;
  }
  writeFile(path, *bytes);
  EXPECT_TRUE(fsck().clean());
  // Re-pushing the same file repairs a damaged object.
  std::string damaged = *bytes;
  damaged[50] ^= 1;
  writeFile(path, damaged);
  ASSERT_TRUE(registry.push(*bytes));
  FsckReport repaired = fsck();
  EXPECT_TRUE(repaired.clean()) << problems(repaired);
}

TEST_F(RegistryTest, FsckFindsAMissingObject) {
  trust();
  RegistryEntry entry = push(artifact("acme/saxpy", 1));
  ASSERT_EQ(unlink(objectPath(entry.digest).c_str()), 0);
  FsckReport report = fsck();
  ASSERT_FALSE(report.clean());
  EXPECT_TRUE(contains(problems(report), "acme/saxpy@1"));
  EXPECT_TRUE(contains(problems(report), "missing"));
  EXPECT_EQ(report.objects, 0u);
  Result<Artifact> fetched = registry.fetch("acme/saxpy");
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code, ErrorCode::InvalidModule);
  EXPECT_TRUE(contains(fetched.error().message, "missing"));
}

TEST_F(RegistryTest, FsckFindsASwappedObject) {
  trust();
  RegistryEntry first = push(artifact("acme/first", 1));
  RegistryEntry second = push(artifact("acme/second", 1));
  std::optional<std::string> firstBytes =
      files::readFile(objectPath(first.digest));
  std::optional<std::string> secondBytes =
      files::readFile(objectPath(second.digest));
  ASSERT_TRUE(firstBytes && secondBytes);

  // Another valid artifact under the first's name: it does not hash to it.
  writeFile(objectPath(first.digest), *secondBytes);
  FsckReport replaced = fsck();
  EXPECT_FALSE(replaced.clean());
  EXPECT_TRUE(contains(problems(replaced), first.digest)) << problems(replaced);
  EXPECT_FALSE(registry.fetch("acme/first"));
  writeFile(objectPath(first.digest), *firstBytes);
  ASSERT_TRUE(fsck().clean());

  // The index pointing the first entry at the second's (whole, valid)
  // object: it does not match the entry.
  std::optional<std::string> index = files::readFile(root + "/index.json");
  ASSERT_TRUE(index);
  nlohmann::json document = nlohmann::json::parse(*index);
  document["names"]["acme/first"]["versions"]["1"]["digest"] = second.digest;
  writeFile(root + "/index.json", document.dump());
  FsckReport swapped = fsck();
  ASSERT_FALSE(swapped.clean());
  EXPECT_TRUE(contains(problems(swapped), "does not match its artifact"))
      << problems(swapped);
  Result<Artifact> fetched = registry.fetch("acme/first");
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code, ErrorCode::InvalidModule);
  EXPECT_TRUE(contains(fetched.error().message,
                       "the registry's entry acme/first@1 does not match its "
                       "artifact"))
      << fetched.error().message;
  // The first object is unreferenced now.
  EXPECT_EQ(swapped.garbageFiles, 1u);
  // Also when its key is no longer in the policy.
  TrustPolicy someoneElse = trusting(newKey());
  ASSERT_TRUE(registry.setTrust(someoneElse));
  EXPECT_FALSE(fsck().clean());
}

TEST_F(RegistryTest, ADamagedIndexIsAnErrorNotACrash) {
  trust();
  push(artifact("acme/saxpy", 1));
  std::optional<std::string> good = files::readFile(root + "/index.json");
  ASSERT_TRUE(good);
  std::string digest(64, 'a');
  for (const std::string &damaged : std::vector<std::string>{
           "", "{", "[]", "null", good->substr(0, good->size() / 2),
           R"({"format":2,"names":{}})", R"({"format":1})",
           R"({"format":1,"names":{"acme/x":{"highest":1}}})",
           R"({"format":1,"names":{"acme/x":{"highest":0,"versions":{}}}})",
           R"({"format":1,"names":{"BAD":{"highest":1,"versions":{}}}})",
           R"({"format":1,"names":{"acme/x":{"highest":1,)"
           R"("versions":{"2":{}}}}})",
           R"({"format":1,"names":{"acme/x":{"highest":1,"versions":{"1":)"
           R"({"created":1,"digest":"../../../etc/passwd","expires":2,)"
           R"("pushed":1,"signer":")" +
               digest + R"(","size":1}}}}})",
           R"({"format":1,"names":{"acme/x":{"highest":1,"versions":{"1":)"
           R"({"created":1.5,"digest":")" +
               digest + R"(","expires":2,"pushed":1,"signer":")" + digest +
               R"(","size":1}}}}})",
           std::string(1000, '['), "{\"format\":1,\"names\":{\"\xff\":1}}"}) {
    writeFile(root + "/index.json", damaged);
    Result<RegistryEntry> found = registry.find("acme/saxpy");
    ASSERT_FALSE(found) << damaged;
    EXPECT_EQ(found.error().code, ErrorCode::InvalidModule) << damaged;
    EXPECT_TRUE(contains(found.error().message, root + "/index.json"))
        << found.error().message;
    EXPECT_FALSE(registry.list({}));
    EXPECT_FALSE(registry.push(artifact("acme/saxpy", 2)));
    // gc refuses: without the index it cannot tell garbage.
    EXPECT_FALSE(registry.gc());
    FsckReport report = fsck();
    EXPECT_FALSE(report.clean()) << damaged;
    EXPECT_EQ(report.objects, 1u);
  }
  writeFile(root + "/index.json", *good);
  EXPECT_TRUE(fsck().clean());
  EXPECT_TRUE(registry.fetch("acme/saxpy"));
}

TEST_F(RegistryTest, FsckFindsUnexpectedFilesAndADamagedPolicy) {
  trust();
  push(artifact("acme/saxpy", 1));
  writeFile(root + "/notes.txt", "hello");
  writeFile(root + "/objects/sha256/zz", "x");
  FsckReport report = fsck();
  EXPECT_EQ(report.problems.size(), 2u) << problems(report);
  ASSERT_EQ(unlink((root + "/notes.txt").c_str()), 0);
  ASSERT_EQ(unlink((root + "/objects/sha256/zz").c_str()), 0);
  EXPECT_TRUE(fsck().clean());

  writeFile(root + "/trust.json", "{damaged");
  Result<TrustPolicy> policy = registry.trust();
  ASSERT_FALSE(policy);
  EXPECT_TRUE(contains(policy.error().message, "trust.json"));
  EXPECT_FALSE(registry.push(artifact("acme/saxpy", 2)));
  EXPECT_FALSE(registry.fetch("acme/saxpy"));
  FsckReport damaged = fsck();
  EXPECT_FALSE(damaged.clean());
  EXPECT_EQ(damaged.entries, 1u);
}

TEST_F(RegistryTest, GcRemovesGarbageAndExpiredEntries) {
  trust();
  int64_t now = unixNow();
  ArtifactSpec spec;
  spec.name = "acme/saxpy";
  spec.version = 1;
  std::string kept = makeArtifact(spec, key);
  spec.version = 2;
  spec.created = now - 10;
  spec.expires = now + 50;
  std::string expiring = makeArtifact(spec, key);
  spec.name = "acme/unused";
  spec.version = 1;
  spec.expires = 0;
  std::string unused = makeArtifact(spec, key);
  push(kept);
  RegistryEntry expiringEntry = push(expiring);
  RegistryEntry unusedEntry = push(unused);
  ASSERT_TRUE(registry.remove("acme/unused@1"));
  // What a crash leaves in tmp/.
  writeFile(root + "/tmp/write-AAAAAA", std::string(1000, 'x'));
  writeFile(root + "/tmp/write-BBBBBB", "");

  FsckReport before = fsck();
  EXPECT_TRUE(before.clean()) << problems(before);
  EXPECT_EQ(before.garbageFiles, 3u);
  EXPECT_EQ(before.objects, 3u);

  Result<GcReport> collected = registry.gc();
  ASSERT_TRUE(collected) << collected.error().message;
  EXPECT_EQ(collected->removedFiles, 3u);
  EXPECT_EQ(collected->removedEntries, 0u);
  EXPECT_EQ(collected->freedBytes, 1000 + unusedEntry.size);
  EXPECT_FALSE(std::filesystem::exists(objectPath(unusedEntry.digest)));
  FsckReport after = fsck();
  EXPECT_TRUE(after.clean()) << problems(after);
  EXPECT_EQ(after.garbageFiles, 0u);
  EXPECT_EQ(after.objects, 2u);

  // Not expired yet: nothing to remove.
  GcOptions expired;
  expired.expired = true;
  Result<GcReport> early = registry.gc(expired);
  ASSERT_TRUE(early);
  EXPECT_EQ(early->removedEntries, 0u);
  EXPECT_EQ(early->removedFiles, 0u);
  // Expired by the clock given: the entry goes, then its object.
  expired.clock.now = now + 50;
  Result<GcReport> late = registry.gc(expired);
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->removedEntries, 1u);
  EXPECT_EQ(late->removedFiles, 1u);
  EXPECT_EQ(late->freedBytes, expiringEntry.size);
  Result<RegistryEntry> highest = registry.find("acme/saxpy");
  ASSERT_TRUE(highest);
  EXPECT_EQ(highest->version, 1u);
  // The expired version's number stays taken.
  EXPECT_FALSE(registry.push(expiring));
  FsckReport last = fsck();
  EXPECT_TRUE(last.clean()) << problems(last);
  EXPECT_EQ(last.garbageFiles, 0u);
  EXPECT_EQ(last.entries, 1u);
  EXPECT_EQ(last.objects, 1u);
}

TEST_F(RegistryTest, ConcurrentPushesAllLand) {
  trust();
  constexpr int kThreads = 8, kNames = 10;
  std::vector<std::vector<std::string>> artifacts(kThreads);
  for (int thread = 0; thread < kThreads; ++thread)
    for (int name = 0; name < kNames; ++name)
      artifacts[thread].push_back(artifact(
          "t" + std::to_string(thread) + "/n" + std::to_string(name), 1));
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread)
    threads.emplace_back([&, thread] {
      // Each thread opens the registry itself, as another process would.
      Result<Registry> own = Registry::open(root);
      if (!own) {
        failures[thread] = own.error().message;
        return;
      }
      for (const std::string &bytes : artifacts[thread]) {
        Result<RegistryEntry> entry = own->push(bytes);
        if (!entry)
          failures[thread] += entry.error().message + "\n";
        // Readers run meanwhile.
        if (Result<ListPage> page = own->list({"", 1000, ""}); !page)
          failures[thread] += page.error().message + "\n";
        if (entry && !own->fetch(entry->name))
          failures[thread] += "cannot fetch " + entry->name + "\n";
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int thread = 0; thread < kThreads; ++thread)
    EXPECT_EQ(failures[thread], "") << "thread " << thread;

  Result<ListPage> all = registry.list({"", 1000, ""});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->entries.size(), size_t(kThreads * kNames));
  for (int thread = 0; thread < kThreads; ++thread)
    for (int name = 0; name < kNames; ++name) {
      std::string reference =
          "t" + std::to_string(thread) + "/n" + std::to_string(name);
      Result<RegistryEntry> entry = registry.find(reference);
      ASSERT_TRUE(entry) << reference;
      EXPECT_EQ(entry->digest, files::sha256Hex(artifacts[thread][name]));
    }
  FsckReport report = fsck();
  EXPECT_TRUE(report.clean()) << problems(report);
  EXPECT_EQ(report.entries, size_t(kThreads * kNames));
  EXPECT_EQ(report.garbageFiles, 0u);
}

} // namespace
