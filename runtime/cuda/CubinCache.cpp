//===- CubinCache.cpp - PTX compiled by the driver, kept on disk ----------===//

#include "cuda/CubinCache.h"
#include "support/Files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tensorwasm;
using namespace tensorwasm::cuda;
using files::sha256Hex;

namespace {

/// The magic that opens an entry: the entry format's version.
constexpr std::string_view kEntryMagic = "TWASM-CUBIN-1\n";
constexpr size_t kDigestHexLength = 64;

std::string defaultDirectory() {
  return files::userDirectory("TWASM_CACHE_DIR", "XDG_CACHE_HOME", ".cache",
                              "cubin");
}

} // namespace

CubinCache CubinCache::open(const std::string &configured) {
  CubinCache cache;
  if (configured == "none") {
    cache.description = "no cubin cache (turned off)";
    return cache;
  }
  std::string directory = configured.empty() ? defaultDirectory() : configured;
  if (directory.empty() || directory[0] != '/') {
    cache.description = "no cubin cache (no absolute cache directory: set "
                        "TWASM_CACHE_DIR or HOME)";
    return cache;
  }
  if (std::optional<std::string> failure = files::makeDirectories(directory)) {
    cache.description = "no cubin cache (" + *failure + ")";
    return cache;
  }
  struct stat status;
  if (stat(directory.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) {
    cache.description = "no cubin cache (" + directory + " is not a directory)";
    return cache;
  }
  if (status.st_uid != geteuid() || (status.st_mode & (S_IWGRP | S_IWOTH))) {
    cache.description =
        "no cubin cache (" + directory +
        " is not private: it must belong to this user and not be writable by "
        "group or others, since what it holds runs on the GPU)";
    return cache;
  }
  cache.directory = directory;
  cache.description = "cubin cache in " + directory;
  return cache;
}

std::string CubinCache::key(std::string_view ptx, int driverVersion,
                            const std::string &arch) {
  return sha256Hex(ptx) + "-driver" + std::to_string(driverVersion) + "-" +
         arch;
}

std::optional<std::string> CubinCache::find(const std::string &key) const {
  if (!enabled())
    return std::nullopt;
  std::optional<std::string> file =
      files::readFile(directory + "/" + key + ".cubin");
  if (!file)
    return std::nullopt;
  const std::string &contents = *file;
  size_t header = kEntryMagic.size() + kDigestHexLength + 1;
  if (contents.size() <= header ||
      std::string_view(contents).substr(0, kEntryMagic.size()) != kEntryMagic ||
      contents[header - 1] != '\n')
    return std::nullopt;
  std::string cubin = contents.substr(header);
  if (sha256Hex(cubin) !=
      std::string_view(contents).substr(kEntryMagic.size(), kDigestHexLength))
    return std::nullopt;
  return cubin;
}

void CubinCache::store(const std::string &key, std::string_view cubin) const {
  if (!enabled())
    return;
  std::string entry =
      std::string(kEntryMagic) + sha256Hex(cubin) + "\n" + std::string(cubin);
  // A failure only means that the next start compiles again.
  (void)files::writeFileAtomically(directory + "/" + key + ".cubin", entry,
                                   directory);
}
