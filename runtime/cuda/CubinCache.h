//===- CubinCache.h - PTX compiled by the driver, kept on disk --*- C++ -*-===//
//
// The driver's PTX compiler takes tens to hundreds of milliseconds per
// module; the cubin it produces depends only on the PTX, the driver and the
// GPU's architecture. The cache keeps it on disk under that key, so a
// service's second start loads machine code directly.
//
// What the cache holds is run on the GPU, so the directory must be private
// (owned by this user, not writable by group or others; it is created mode
// 0700): otherwise the cache is not used, and the reason is reported. Each
// entry carries the SHA-256 of its cubin, checked on every read, so a
// truncated or damaged entry is recompiled rather than loaded. Entries are
// written to a temporary file and renamed into place, so a reader never sees
// a partial one.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CUDA_CUBINCACHE_H
#define TWASM_RUNTIME_CUDA_CUBINCACHE_H

#include <optional>
#include <string>
#include <string_view>

namespace tensorwasm::cuda {

class CubinCache {
public:
  /// The cache in `directory`: "none" for no cache; empty for the default
  /// ($TWASM_CACHE_DIR, else $XDG_CACHE_HOME/tensorwasm/cubin, else
  /// ~/.cache/tensorwasm/cubin). When it cannot be used, the cache is
  /// disabled and `about()` says why.
  static CubinCache open(const std::string &directory);

  bool enabled() const { return !directory.empty(); }
  /// Where the cache is, or why there is none.
  const std::string &about() const { return description; }

  /// The key of `ptx` compiled by driver `driverVersion` for `arch`.
  static std::string key(std::string_view ptx, int driverVersion,
                         const std::string &arch);
  /// The cubin stored under `key`, if there is a whole one.
  std::optional<std::string> find(const std::string &key) const;
  /// Stores a cubin; a failure only means the next start compiles again.
  void store(const std::string &key, std::string_view cubin) const;

private:
  std::string directory;
  std::string description;
};

} // namespace tensorwasm::cuda

#endif // TWASM_RUNTIME_CUDA_CUBINCACHE_H
