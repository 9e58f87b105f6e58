//===- RegistryTestSupport.h - artifacts for registry tests -----*- C++ -*-===//
//
// What RegistryTest and RegistryCrashTest share: signed artifacts of a
// small host module, built in memory (and, from TestSupport.h, temporary
// directories).
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TEST_UNIT_REGISTRYTESTSUPPORT_H
#define TWASM_TEST_UNIT_REGISTRYTESTSUPPORT_H

#include "TestSupport.h"
#include "twasm/Artifact.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tensorwasm::testing {

/// A kernel manifest for the host with one kernel, `scale(i32, f32)`, and
/// one page of memory (docs/kernel-manifest.md).
inline const char *const kHostKernelManifest =
    R"({"format":"tensorwasm-kernel-manifest","abi":1,)"
    R"("target":{"kind":"host","cpu":"x86-64-v2"},)"
    R"("memory":{"min_pages":1,"max_pages":null,"shared":false,)"
    R"("import":null},"globals_bytes":0,"globals":[],"tables":[],)"
    R"("data":[],"function_imports":[],"exports":[{"name":"scale",)"
    R"("kind":"func","symbol":"scale","function_index":0,)"
    R"("params":["i32","f32"],"results":[]}],"start":null,)"
    R"("kernels":[{"export":"scale","entry":"scale","function_index":0,)"
    R"("params":["i32","f32"],"synchronizes":false}]})";

inline int64_t unixNow() { return static_cast<int64_t>(std::time(nullptr)); }

struct ArtifactSpec {
  std::string name;
  uint64_t version = 1;
  /// Defaults: a minute ago, and a day from now.
  int64_t created = 0;
  int64_t expires = 0;
  /// The host "code": any bytes, which make artifacts of one name and
  /// version differ.
  std::string code = "code";
};

/// A signed artifact; throws (failing the test) if it cannot be built.
inline std::string makeArtifact(const ArtifactSpec &spec,
                                const SigningKey &key) {
  ArtifactContents contents;
  contents.name = spec.name;
  contents.version = spec.version;
  contents.created = spec.created ? spec.created : unixNow() - 60;
  contents.expires = spec.expires ? spec.expires : unixNow() + 86400;
  contents.wasm = std::string("\0asm\x01\0\0\0", 8);
  contents.targets.push_back({"host", spec.code, kHostKernelManifest});
  Result<std::string> artifact = buildArtifact(contents, key);
  if (!artifact)
    throw std::runtime_error(artifact.error().message);
  return *artifact;
}

inline SigningKey newKey() {
  Result<SigningKey> key = SigningKey::generate();
  if (!key)
    throw std::runtime_error(key.error().message);
  return *key;
}

/// A policy that trusts `key` for `names`.
inline TrustPolicy trusting(const SigningKey &key,
                            std::vector<std::string> names = {"*"}) {
  TrustPolicy policy;
  if (Status added = policy.add(key.publicKey(), std::move(names)); !added)
    throw std::runtime_error(added.error().message);
  return policy;
}

} // namespace tensorwasm::testing

#endif // TWASM_TEST_UNIT_REGISTRYTESTSUPPORT_H
