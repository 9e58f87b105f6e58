//===- Files.cpp - reading, and crash-safe writing, of files --------------===//

#include "support/Files.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

using namespace tensorwasm;

std::optional<std::string> files::makeDirectories(const std::string &path,
                                                  unsigned mode) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (!prefix.empty() && mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
      return "cannot create " + prefix + ": " + std::strerror(errno);
    if (slash == std::string::npos)
      return std::nullopt;
  }
}

std::optional<std::string> files::readFile(const std::string &path,
                                           std::string *error) {
  auto failed = [&](const char *what) -> std::optional<std::string> {
    if (error)
      *error = std::string(what) + path + ": " + std::strerror(errno);
    return std::nullopt;
  };
  int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0)
    return failed("cannot open ");
  struct stat status;
  if (fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(descriptor);
    errno = EINVAL;
    return failed("not a regular file: ");
  }
  std::string contents(static_cast<size_t>(status.st_size), '\0');
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t got =
        ::read(descriptor, contents.data() + done, contents.size() - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      if (got == 0)
        errno = EIO; // The file shrank while it was read.
      int saved = errno;
      ::close(descriptor);
      errno = saved;
      return failed("cannot read ");
    }
    done += static_cast<size_t>(got);
  }
  ::close(descriptor);
  return contents;
}

bool files::writeAll(int descriptor, std::string_view bytes) {
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

bool files::syncDirectory(const std::string &path) {
  int descriptor = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (descriptor < 0)
    return false;
  bool synced = fsync(descriptor) == 0;
  ::close(descriptor);
  return synced;
}

std::string files::userDirectory(const char *overrideVariable,
                                 const char *xdgVariable,
                                 const char *homeDefault, const char *leaf) {
  if (const char *explicitDirectory = std::getenv(overrideVariable);
      explicitDirectory && *explicitDirectory)
    return explicitDirectory;
  if (const char *xdg = std::getenv(xdgVariable); xdg && *xdg == '/')
    return std::string(xdg) + "/tensorwasm/" + leaf;
  if (const char *home = std::getenv("HOME"); home && *home == '/')
    return std::string(home) + "/" + homeDefault + "/tensorwasm/" + leaf;
  return "";
}

std::string files::parentDirectory(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::optional<std::string>
files::writeFileAtomically(const std::string &path, std::string_view bytes,
                           const std::string &temporaryDirectory,
                           unsigned mode) {
  return writeFileAtomically(path, std::vector<std::string_view>{bytes},
                             temporaryDirectory, mode);
}

std::optional<std::string> files::writeFileAtomically(
    const std::string &path, const std::vector<std::string_view> &pieces,
    const std::string &temporaryDirectory, unsigned mode) {
  std::string temporary = temporaryDirectory + "/write-XXXXXX";
  int descriptor = mkostemp(temporary.data(), O_CLOEXEC);
  if (descriptor < 0)
    return "cannot create a temporary file in " + temporaryDirectory + ": " +
           std::strerror(errno);
  bool written = fchmod(descriptor, mode) == 0;
  for (std::string_view piece : pieces)
    written = written && writeAll(descriptor, piece);
  written = written && fsync(descriptor) == 0;
  int savedErrno = errno;
  written = ::close(descriptor) == 0 && written;
  if (!written) {
    unlink(temporary.c_str());
    return "cannot write " + temporary + ": " + std::strerror(savedErrno);
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    savedErrno = errno;
    unlink(temporary.c_str());
    return "cannot rename a temporary file to " + path + ": " +
           std::strerror(savedErrno);
  }
  if (!syncDirectory(parentDirectory(path)))
    return "cannot sync the directory of " + path + ": " + std::strerror(errno);
  return std::nullopt;
}

std::optional<files::FileLock> files::FileLock::acquire(const std::string &path,
                                                        bool exclusive,
                                                        std::string &error) {
  int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (descriptor < 0 && !exclusive && (errno == EACCES || errno == EROFS))
    descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) {
    error = "cannot open the lock file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  while (flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0) {
    if (errno == EINTR)
      continue;
    error = "cannot lock " + path + ": " + std::strerror(errno);
    ::close(descriptor);
    return std::nullopt;
  }
  return FileLock(descriptor);
}

files::FileLock::FileLock(FileLock &&other) noexcept
    : descriptor(std::exchange(other.descriptor, -1)) {}

files::FileLock::~FileLock() {
  if (descriptor >= 0)
    ::close(descriptor); // Releases the lock.
}

std::optional<std::string> files::whyNotPrivate(const std::string &path) {
  struct stat status;
  if (stat(path.c_str(), &status) != 0 || !S_ISDIR(status.st_mode))
    return path + " is not a directory";
  if ((status.st_uid != geteuid() && status.st_uid != 0) ||
      (status.st_mode & (S_IWGRP | S_IWOTH)))
    return path + " is not private: it must belong to this user (or root) "
                  "and not be writable by group or others (chmod go-w, chown)";
  return std::nullopt;
}

std::string files::sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (!EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(),
                  nullptr))
    return "";
  return std::string(reinterpret_cast<const char *>(digest), length);
}

std::string files::toHex(std::string_view bytes) {
  static const char hexDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(hexDigits[byte >> 4]);
    hex.push_back(hexDigits[byte & 15]);
  }
  return hex;
}

std::optional<std::string> files::fromHex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2)
    return std::nullopt;
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = digit(hex[i]), low = digit(hex[i + 1]);
    if (high < 0 || low < 0)
      return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

std::string files::sha256Hex(std::string_view bytes) {
  return toHex(sha256(bytes));
}
