//===- ArtifactManifestFuzzer.cpp - libFuzzer target: artifact manifests --===//
//
// The artifact manifest parser (docs/artifact-format.md) only ever sees
// bytes whose signature has verified, but a signer's bugs are input too.
// Whatever the bytes, ArtifactManifest::parse returns a manifest or an
// error; and a manifest it accepts re-encodes to exactly the bytes it came
// from (one manifest, one encoding), which the target checks. The same
// bytes also go through the whole verifier and the trust policy's parser.
//
//===----------------------------------------------------------------------===//

#include "twasm/Artifact.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace tensorwasm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  Result<ArtifactManifest> manifest = ArtifactManifest::parse(bytes);
  if (manifest && manifest->serialize() != bytes) {
    std::fprintf(stderr, "an accepted manifest re-encodes differently\n");
    std::abort();
  }
  (void)TrustPolicy::parse(bytes);
  static const TrustPolicy nobody;
  if (Artifact::verify(std::string(bytes), nobody)) {
    std::fprintf(stderr, "an artifact verified with no trusted key\n");
    std::abort();
  }
  return 0;
}
