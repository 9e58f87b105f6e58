//===- Files.h - reading, and crash-safe writing, of files -----*- C++ -*-===//
//
// What the cubin cache and the kernel registry share: whole-file reads, and
// writes that a crash at any instant leaves either undone or complete
// (a temporary file, fsync, rename, fsync of the directory).
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_SUPPORT_FILES_H
#define TWASM_RUNTIME_SUPPORT_FILES_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tensorwasm::files {

/// Creates `path` and its missing parents with `mode`. On failure, returns
/// the reason.
std::optional<std::string> makeDirectories(const std::string &path,
                                           unsigned mode = 0700);

/// The whole regular file at `path`; on failure, nullopt and `error` (if
/// given) says why.
std::optional<std::string> readFile(const std::string &path,
                                    std::string *error = nullptr);

/// Writes all of `bytes` to `descriptor`, retrying short writes.
bool writeAll(int descriptor, std::string_view bytes);

/// Writes `bytes` to `path` so that a crash leaves the old file or the new
/// one: into a temporary file in `temporaryDirectory` (on the same file
/// system), fsync, rename over `path`, fsync of `path`'s directory. On
/// failure, returns the reason; the temporary file is removed.
std::optional<std::string>
writeFileAtomically(const std::string &path, std::string_view bytes,
                    const std::string &temporaryDirectory,
                    unsigned mode = 0600);
/// The same of the concatenation of `pieces`, without joining them first.
std::optional<std::string> writeFileAtomically(
    const std::string &path, const std::vector<std::string_view> &pieces,
    const std::string &temporaryDirectory, unsigned mode = 0600);

/// fsync of a directory, so that a rename into it survives a power loss.
bool syncDirectory(const std::string &path);

/// A per-user directory of the runtime's: `$<overrideVariable>` if set,
/// else `$<xdgVariable>/tensorwasm/<leaf>` (XDG base directories), else
/// `$HOME/<homeDefault>/tensorwasm/<leaf>`; empty if none applies.
std::string userDirectory(const char *overrideVariable, const char *xdgVariable,
                          const char *homeDefault, const char *leaf);

/// The directory part of `path` ("." if it has none).
std::string parentDirectory(const std::string &path);

/// flock(2) on a lock file, held while the object lives. Each one opens the
/// file anew: flock locks belong to an open file description, so two
/// threads of one process exclude each other as two processes do.
class FileLock {
public:
  /// Locks `path` (created if missing), shared or exclusive; a shared lock
  /// of a file this user may not write is taken read-only. On failure,
  /// nullopt and `error` says why.
  static std::optional<FileLock> acquire(const std::string &path,
                                         bool exclusive, std::string &error);
  FileLock(FileLock &&other) noexcept;
  FileLock &operator=(FileLock &&) = delete;
  FileLock(const FileLock &) = delete;
  FileLock &operator=(const FileLock &) = delete;
  ~FileLock();

private:
  explicit FileLock(int descriptor) : descriptor(descriptor) {}
  int descriptor = -1;
};

/// Why the directory `path` is not private — it must exist, belong to this
/// user or root, and not be writable by group or others — or nullopt.
std::optional<std::string> whyNotPrivate(const std::string &path);

/// The SHA-256 digest of `bytes`, as 64 lowercase hex digits.
std::string sha256Hex(std::string_view bytes);
/// The SHA-256 digest of `bytes`, 32 raw bytes.
std::string sha256(std::string_view bytes);
/// Lowercase hex of `bytes`.
std::string toHex(std::string_view bytes);
/// The bytes of lowercase hex, or nullopt if it is not that.
std::optional<std::string> fromHex(std::string_view hex);

} // namespace tensorwasm::files

#endif // TWASM_RUNTIME_SUPPORT_FILES_H
