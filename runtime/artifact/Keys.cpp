//===- Keys.cpp - Ed25519 keys and the trust policy
//------------------------===//
//
// Keys are held as their raw bytes (32 of public key, 32 of private seed)
// and turned into OpenSSL objects only for the operation at hand, so that
// the public types are plain values.
//
//===----------------------------------------------------------------------===//

#include "artifact/JsonLimits.h"
#include "support/Files.h"
#include "twasm/Artifact.h"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>

using namespace tensorwasm;
using json = nlohmann::json;

namespace {

constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr size_t kMaximumNameBytes = 128;

struct PkeyDeleter {
  void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct BioDeleter {
  void operator()(BIO *bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;
struct MdContextDeleter {
  void operator()(EVP_MD_CTX *context) const { EVP_MD_CTX_free(context); }
};
using MdContext = std::unique_ptr<EVP_MD_CTX, MdContextDeleter>;

Error keyError(std::string message) {
  return Error{ErrorCode::InvalidArgument, std::move(message)};
}

std::string rawPublicKey(EVP_PKEY *key) {
  std::string raw(kEd25519KeyBytes, '\0');
  size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(
          key, reinterpret_cast<unsigned char *>(raw.data()), &length) != 1 ||
      length != kEd25519KeyBytes)
    return "";
  return raw;
}

Pkey pkeyFromSeed(const std::string &seed) {
  return Pkey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char *>(seed.data()), seed.size()));
}

std::string pemOf(EVP_PKEY *key, bool privatePart) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || !key)
    return "";
  int written = privatePart
                    ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr,
                                               0, nullptr, nullptr)
                    : PEM_write_bio_PUBKEY(bio.get(), key);
  if (written != 1)
    return "";
  char *data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

bool isNameSegmentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isNameSegmentByte(char c) {
  return isNameSegmentStart(c) || c == '.' || c == '_' || c == '-';
}

} // namespace

//===----------------------------------------------------------------------===//
// PublicKey
//===----------------------------------------------------------------------===//

Result<PublicKey> PublicKey::fromRaw(std::string_view raw32) {
  if (raw32.size() != kEd25519KeyBytes)
    return keyError("an Ed25519 public key is 32 bytes, not " +
                    std::to_string(raw32.size()));
  Pkey key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char *>(raw32.data()), raw32.size()));
  if (!key)
    return keyError("not an Ed25519 public key");
  PublicKey result;
  result.rawBytes = std::string(raw32);
  result.id = files::sha256Hex(raw32);
  return result;
}

Result<PublicKey> PublicKey::fromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)
               : nullptr);
  if (!key)
    return keyError("not a PEM public key (expected what `twasm keygen` "
                    "writes to NAME.pub)");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return keyError("the public key is not an Ed25519 key");
  return fromRaw(rawPublicKey(key.get()));
}

Result<PublicKey> PublicKey::readFile(const std::string &path) {
  std::string error;
  std::optional<std::string> contents = files::readFile(path, &error);
  if (!contents)
    return keyError(error);
  Result<PublicKey> key = fromPem(*contents);
  if (!key)
    return keyError(path + ": " + key.error().message);
  return key;
}

std::string PublicKey::pem() const {
  Pkey key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char *>(rawBytes.data()),
      rawBytes.size()));
  return pemOf(key.get(), /*privatePart=*/false);
}

bool PublicKey::verifies(std::string_view message,
                         std::string_view signature) const {
  if (signature.size() != kEd25519SignatureBytes)
    return false;
  Pkey key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char *>(rawBytes.data()),
      rawBytes.size()));
  MdContext context(EVP_MD_CTX_new());
  if (!key || !context ||
      EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr,
                           key.get()) != 1)
    return false;
  return EVP_DigestVerify(
             context.get(),
             reinterpret_cast<const unsigned char *>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char *>(message.data()),
             message.size()) == 1;
}

//===----------------------------------------------------------------------===//
// SigningKey
//===----------------------------------------------------------------------===//

SigningKey::~SigningKey() { OPENSSL_cleanse(seed.data(), seed.size()); }

Result<SigningKey> SigningKey::fromSeed(std::string_view seed32) {
  SigningKey result;
  result.seed = std::string(seed32);
  Pkey key = pkeyFromSeed(result.seed);
  if (!key)
    return keyError("not an Ed25519 private key");
  Result<PublicKey> publicKey = PublicKey::fromRaw(rawPublicKey(key.get()));
  if (!publicKey)
    return publicKey.error();
  result.publicPart = std::move(*publicKey);
  return result;
}

Result<SigningKey> SigningKey::generate() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  std::string seed(kEd25519KeyBytes, '\0');
  size_t length = seed.size();
  if (!key ||
      EVP_PKEY_get_raw_private_key(
          key.get(), reinterpret_cast<unsigned char *>(seed.data()), &length) !=
          1 ||
      length != kEd25519KeyBytes)
    return Error{ErrorCode::ResourceExhausted,
                 "OpenSSL could not generate an Ed25519 key"};
  Result<SigningKey> result = fromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return result;
}

Result<SigningKey> SigningKey::fromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
               : nullptr);
  if (!key)
    return keyError("not a PEM private key (expected what `twasm keygen` "
                    "writes to NAME.key)");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return keyError("the private key is not an Ed25519 key");
  std::string seed(kEd25519KeyBytes, '\0');
  size_t length = seed.size();
  if (EVP_PKEY_get_raw_private_key(
          key.get(), reinterpret_cast<unsigned char *>(seed.data()), &length) !=
          1 ||
      length != kEd25519KeyBytes)
    return keyError("cannot read the Ed25519 private key");
  Result<SigningKey> result = fromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return result;
}

Result<SigningKey> SigningKey::readFile(const std::string &path) {
  std::string error;
  std::optional<std::string> contents = files::readFile(path, &error);
  if (!contents)
    return keyError(error);
  Result<SigningKey> key = fromPem(*contents);
  OPENSSL_cleanse(contents->data(), contents->size());
  if (!key)
    return keyError(path + ": " + key.error().message);
  return key;
}

std::string SigningKey::privatePem() const {
  Pkey key = pkeyFromSeed(seed);
  return pemOf(key.get(), /*privatePart=*/true);
}

Result<std::string> SigningKey::sign(std::string_view message) const {
  Pkey key = pkeyFromSeed(seed);
  MdContext context(EVP_MD_CTX_new());
  std::string signature(kEd25519SignatureBytes, '\0');
  size_t length = signature.size();
  if (!key || !context ||
      EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key.get()) !=
          1 ||
      EVP_DigestSign(
          context.get(), reinterpret_cast<unsigned char *>(signature.data()),
          &length, reinterpret_cast<const unsigned char *>(message.data()),
          message.size()) != 1 ||
      length != kEd25519SignatureBytes)
    return Error{ErrorCode::ResourceExhausted, "OpenSSL could not sign"};
  return signature;
}

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

Status tensorwasm::checkArtifactName(std::string_view name) {
  auto invalid = [&](const std::string &why) {
    return Error{ErrorCode::InvalidArgument,
                 "invalid artifact name '" + std::string(name) + "': " + why +
                     " (a name is segments of [a-z0-9][a-z0-9._-]* joined "
                     "by '/', at most 128 bytes, such as acme/saxpy)"};
  };
  if (name.empty() || name.size() > kMaximumNameBytes)
    return invalid("it has " + std::to_string(name.size()) + " bytes");
  bool segmentStart = true;
  for (char c : name) {
    if (c == '/') {
      if (segmentStart)
        return invalid("it has an empty segment");
      segmentStart = true;
      continue;
    }
    if (segmentStart ? !isNameSegmentStart(c) : !isNameSegmentByte(c))
      return invalid(std::string("it has '") + c + "' where it may not");
    segmentStart = false;
  }
  if (segmentStart)
    return invalid("it ends with '/'");
  return {};
}

Status tensorwasm::checkNamePattern(std::string_view pattern) {
  if (pattern == "*")
    return {};
  std::string_view name = pattern;
  if (name.size() > 2 && name.substr(name.size() - 2) == "/*")
    name.remove_suffix(2);
  Status valid = checkArtifactName(name);
  if (!valid)
    return Error{ErrorCode::InvalidArgument,
                 "invalid name pattern '" + std::string(pattern) +
                     "': a pattern is a name, NAME/* or *"};
  return {};
}

bool tensorwasm::nameMatchesPattern(std::string_view pattern,
                                    std::string_view name) {
  if (pattern == "*")
    return true;
  if (pattern.size() > 2 && pattern.substr(pattern.size() - 2) == "/*") {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return name.size() > prefix.size() &&
           name.substr(0, prefix.size()) == prefix;
  }
  return pattern == name;
}

//===----------------------------------------------------------------------===//
// TrustPolicy
//===----------------------------------------------------------------------===//

Result<TrustPolicy> TrustPolicy::parse(std::string_view text) {
  auto malformed = [](const std::string &why) {
    return Error{ErrorCode::InvalidArgument,
                 "malformed trust policy: " + why +
                     " (docs/artifact-format.md, \"Keys and the trust "
                     "policy\")"};
  };
  if (!json_nesting::within(text, json_nesting::kManifestDepth))
    return malformed("nested deeper than a trust policy is");
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object())
    return malformed("not a JSON object");
  try {
    if (!document.value("format", json()).is_number_unsigned() ||
        document.value("format", json()) != json(1))
      return malformed("\"format\" must be 1");
    const json &keys = document.at("keys");
    if (!keys.is_array())
      return malformed("\"keys\" must be an array");
    TrustPolicy policy;
    for (const json &entry : keys) {
      std::optional<std::string> raw =
          files::fromHex(entry.at("public_key").get<std::string>());
      if (!raw)
        return malformed("a \"public_key\" is not hex");
      Result<PublicKey> key = PublicKey::fromRaw(*raw);
      if (!key)
        return malformed(key.error().message);
      if (entry.at("key_id").get<std::string>() != key->keyId())
        return malformed("the key id " + entry.at("key_id").get<std::string>() +
                         " is not its key's (" + key->keyId() + ")");
      if (policy.find(key->keyId()))
        return malformed("the key " + key->keyId() + " appears twice");
      Status added =
          policy.add(*key, entry.at("names").get<std::vector<std::string>>());
      if (!added)
        return malformed(added.error().message);
    }
    return policy;
  } catch (const json::exception &error) {
    return malformed(error.what());
  }
}

Result<TrustPolicy> TrustPolicy::readFile(const std::string &path) {
  std::string error;
  std::optional<std::string> contents = files::readFile(path, &error);
  if (!contents)
    return Error{ErrorCode::InvalidArgument, error};
  Result<TrustPolicy> policy = parse(*contents);
  if (!policy)
    return Error{policy.error().code, path + ": " + policy.error().message};
  return policy;
}

std::string TrustPolicy::serialize() const {
  json keyList = json::array();
  for (const Publisher &publisher : keys)
    keyList.push_back({{"key_id", publisher.key.keyId()},
                       {"names", publisher.names},
                       {"public_key", files::toHex(publisher.key.raw())}});
  return json{{"format", 1}, {"keys", keyList}}.dump();
}

Status TrustPolicy::add(const PublicKey &key, std::vector<std::string> names) {
  if (names.empty())
    return Error{ErrorCode::InvalidArgument,
                 "a trusted key needs at least one name pattern"};
  for (const std::string &pattern : names)
    if (Status valid = checkNamePattern(pattern); !valid)
      return valid;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (Publisher &publisher : keys)
    if (publisher.key.keyId() == key.keyId()) {
      publisher.names = std::move(names);
      return {};
    }
  keys.push_back(Publisher{key, std::move(names)});
  return {};
}

bool TrustPolicy::remove(std::string_view keyId) {
  auto found = std::find_if(keys.begin(), keys.end(), [&](const Publisher &p) {
    return p.key.keyId() == keyId;
  });
  if (found == keys.end())
    return false;
  keys.erase(found);
  return true;
}

const TrustPolicy::Publisher *TrustPolicy::find(std::string_view keyId) const {
  for (const Publisher &publisher : keys)
    if (publisher.key.keyId() == keyId)
      return &publisher;
  return nullptr;
}

bool TrustPolicy::allows(std::string_view keyId, std::string_view name) const {
  const Publisher *publisher = find(keyId);
  if (!publisher)
    return false;
  return std::any_of(publisher->names.begin(), publisher->names.end(),
                     [&](const std::string &pattern) {
                       return nameMatchesPattern(pattern, name);
                     });
}
