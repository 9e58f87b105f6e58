//===- SnapshotKeys.cpp - secret snapshot keys and key rings --------------===//
//
// A key file is three lines of text:
//
//   tensorwasm-snapshot-key 1
//   id <1 to 64 of [A-Za-z0-9._-]>
//   secret <64 lowercase hex digits>
//
//===----------------------------------------------------------------------===//

#include "twasm/Snapshot.h"

#include "snapshot/SnapshotFormat.h"
#include "support/Files.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tensorwasm {
namespace {

constexpr std::string_view kKeyFileHeader = "tensorwasm-snapshot-key 1";

Status checkKeyId(std::string_view id) {
  bool valid = !id.empty() && id.size() <= 64;
  for (char c : id)
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                      c == '_' || c == '-');
  if (!valid)
    return Error{ErrorCode::InvalidArgument,
                 "snapshot key id '" + std::string(id) +
                     "': expected 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'"};
  return {};
}

} // namespace

Result<SnapshotKey> SnapshotKey::generate(std::string id) {
  if (Status status = checkKeyId(id); !status)
    return status.error();
  SnapshotKey key;
  key.keyId = std::move(id);
  if (RAND_bytes(key.secretBytes.data(),
                 static_cast<int>(key.secretBytes.size())) != 1)
    return Error{ErrorCode::ResourceExhausted,
                 "OpenSSL's random generator gave no bytes"};
  return key;
}

Result<SnapshotKey> SnapshotKey::parse(std::string_view text) {
  auto bad = [](const std::string &why) {
    return Error{ErrorCode::InvalidArgument, "not a snapshot key: " + why};
  };
  auto line = [&text]() {
    size_t end = text.find('\n');
    std::string_view first = text.substr(0, end);
    text = end == std::string_view::npos ? "" : text.substr(end + 1);
    return first;
  };
  if (line() != kKeyFileHeader)
    return bad("the first line is not '" + std::string(kKeyFileHeader) + "'");
  std::string_view idLine = line(), secretLine = line();
  if (idLine.rfind("id ", 0) != 0 || secretLine.rfind("secret ", 0) != 0 ||
      !text.empty())
    return bad("expected an 'id' line and a 'secret' line, and nothing more");
  SnapshotKey key;
  key.keyId = std::string(idLine.substr(3));
  if (Status status = checkKeyId(key.keyId); !status)
    return status.error();
  std::optional<std::string> secret = files::fromHex(secretLine.substr(7));
  if (!secret || secret->size() != key.secretBytes.size())
    return bad("the secret is not 64 lowercase hex digits");
  std::memcpy(key.secretBytes.data(), secret->data(), secret->size());
  OPENSSL_cleanse(secret->data(), secret->size());
  return key;
}

Result<SnapshotKey> SnapshotKey::readFile(const std::string &path) {
  // Opened once, not followed through a link, and checked by what was
  // opened: no one can swap the file between the check and the read.
  int descriptor = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (descriptor < 0)
    return Error{ErrorCode::InvalidArgument, "cannot read snapshot key " +
                                                 path + ": " +
                                                 std::strerror(errno)};
  struct stat status;
  std::string problem;
  if (fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode))
    problem = "is not a regular file";
  else if (status.st_uid != geteuid())
    problem = "belongs to another user: a secret key must be this user's";
  else if (status.st_mode & 077)
    problem = "may be read by others (mode " +
              std::to_string((status.st_mode >> 6) & 7) +
              std::to_string((status.st_mode >> 3) & 7) +
              std::to_string(status.st_mode & 7) +
              "): a secret key must be private (chmod 600)";
  else if (status.st_size > 4096)
    problem = "is too large to be a snapshot key";
  std::string text;
  if (problem.empty()) {
    text.resize(static_cast<size_t>(status.st_size));
    ssize_t got = ::read(descriptor, text.data(), text.size());
    if (got < 0 || static_cast<size_t>(got) != text.size())
      problem = "cannot be read whole";
  }
  ::close(descriptor);
  if (!problem.empty()) {
    OPENSSL_cleanse(text.data(), text.size());
    return Error{ErrorCode::Untrusted, "snapshot key " + path + " " + problem};
  }
  Result<SnapshotKey> key = parse(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (!key)
    return Error{key.error().code, path + ": " + key.error().message};
  return key;
}

std::string SnapshotKey::serialize() const {
  return std::string(kKeyFileHeader) + "\nid " + keyId + "\nsecret " +
         files::toHex(std::string_view(
             reinterpret_cast<const char *>(secretBytes.data()),
             secretBytes.size())) +
         "\n";
}

Status SnapshotKey::writeFile(const std::string &path) const {
  int descriptor =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (descriptor < 0)
    return Error{ErrorCode::InvalidArgument,
                 "cannot create " + path + ": " + std::strerror(errno) +
                     (errno == EEXIST ? " (a key is never overwritten)" : "")};
  std::string text = serialize();
  bool written = files::writeAll(descriptor, text) && fsync(descriptor) == 0;
  int saved = errno;
  OPENSSL_cleanse(text.data(), text.size());
  written = ::close(descriptor) == 0 && written;
  if (!written) {
    unlink(path.c_str());
    return Error{ErrorCode::ResourceExhausted,
                 "cannot write " + path + ": " + std::strerror(saved)};
  }
  return {};
}

Status SnapshotKeyring::add(SnapshotKey key) {
  if (keys.count(key.id()))
    return Error{ErrorCode::InvalidArgument,
                 "two snapshot keys have the id '" + key.id() + "'"};
  std::string id = key.id();
  keys.emplace(std::move(id), std::move(key));
  return {};
}

const SnapshotKey *SnapshotKeyring::find(std::string_view id) const {
  auto found = keys.find(id);
  return found == keys.end() ? nullptr : &found->second;
}

} // namespace tensorwasm
