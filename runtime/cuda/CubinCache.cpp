//===- CubinCache.cpp - PTX compiled by the driver, kept on disk ----------===//

#include "cuda/CubinCache.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tensorwasm::cuda;

namespace {

/// The magic that opens an entry: the entry format's version.
constexpr std::string_view kEntryMagic = "TWASM-CUBIN-1\n";
constexpr size_t kDigestHexLength = 64;

/// Creates `path` and its parents, mode 0700 for what it creates.
bool makeDirectories(const std::string &path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return false;
    if (slash == std::string::npos)
      return true;
  }
}

std::string defaultDirectory() {
  if (const char *explicitDirectory = std::getenv("TWASM_CACHE_DIR");
      explicitDirectory && *explicitDirectory)
    return explicitDirectory;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/')
    return std::string(xdg) + "/tensorwasm/cubin";
  if (const char *home = std::getenv("HOME"); home && *home == '/')
    return std::string(home) + "/.cache/tensorwasm/cubin";
  return "";
}

bool readFile(const std::string &path, std::string &contents) {
  int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0)
    return false;
  struct stat status;
  bool ok = fstat(descriptor, &status) == 0 && S_ISREG(status.st_mode);
  if (ok) {
    contents.resize(static_cast<size_t>(status.st_size));
    size_t done = 0;
    while (ok && done < contents.size()) {
      ssize_t got =
          ::read(descriptor, contents.data() + done, contents.size() - done);
      if (got < 0 && errno == EINTR)
        continue;
      ok = got > 0;
      done += ok ? static_cast<size_t>(got) : 0;
    }
  }
  ::close(descriptor);
  return ok;
}

bool writeAll(int descriptor, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(descriptor, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      return false;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

} // namespace

std::string tensorwasm::cuda::sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (!EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(),
                  nullptr))
    return "";
  static const char hexDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex.push_back(hexDigits[digest[i] >> 4]);
    hex.push_back(hexDigits[digest[i] & 15]);
  }
  return hex;
}

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
  if (!makeDirectories(directory)) {
    cache.description = "no cubin cache (cannot create " + directory + ": " +
                        std::strerror(errno) + ")";
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
  std::string contents;
  if (!readFile(directory + "/" + key + ".cubin", contents))
    return std::nullopt;
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
  std::string path = directory + "/" + key + ".cubin";
  std::string temporary = directory + "/.tmp-" + key + "-XXXXXX";
  int descriptor = mkostemp(temporary.data(), O_CLOEXEC);
  if (descriptor < 0)
    return;
  std::string header =
      std::string(kEntryMagic) + sha256Hex(cubin) + std::string("\n");
  bool written = writeAll(descriptor, header) && writeAll(descriptor, cubin) &&
                 fsync(descriptor) == 0;
  written = ::close(descriptor) == 0 && written;
  if (!written || rename(temporary.c_str(), path.c_str()) != 0)
    unlink(temporary.c_str());
}
