//===- Paseto.cpp - PASETO v4.public tokens (Ed25519) ---------------------===//

#include "tenant/Paseto.h"

#include <openssl/crypto.h>

#include <array>

namespace tensorwasm::paseto {
namespace {

constexpr std::string_view kHeader = "v4.public.";
constexpr size_t kSignatureBytes = 64;
constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The value of a base64url digit, or -1.
int digitValue(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

void appendLength(std::string &out, uint64_t value) {
  // The top bit is cleared, as the specification asks, so that the
  // encoding never depends on how a language treats signed integers.
  value &= ~(uint64_t(1) << 63);
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

} // namespace

Result<DecodedToken> decodeV4Public(std::string_view token) {
  auto invalid = [](const std::string &why) {
    return Error{ErrorCode::InvalidArgument,
                 "not a PASETO v4.public token: " + why};
  };
  if (token.substr(0, kHeader.size()) != kHeader)
    return invalid("it does not start with \"v4.public.\"");
  std::string_view rest = token.substr(kHeader.size());
  std::string_view encodedFooter;
  if (size_t dot = rest.find('.'); dot != std::string_view::npos) {
    encodedFooter = rest.substr(dot + 1);
    rest = rest.substr(0, dot);
    // An empty footer is written without its dot.
    if (encodedFooter.empty())
      return invalid("it ends with '.'");
  }
  DecodedToken parts;
  std::optional<std::string> body = base64UrlDecode(rest);
  if (!body)
    return invalid("its payload is not unpadded base64url");
  if (body->size() < kSignatureBytes)
    return invalid("its payload is shorter than a signature");
  std::optional<std::string> footer = base64UrlDecode(encodedFooter);
  if (!footer)
    return invalid("its footer is not unpadded base64url");
  parts.body = std::move(*body);
  parts.footer = std::move(*footer);
  return parts;
}

std::string base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t at) { return static_cast<uint8_t>(bytes[at]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6)
      out.push_back(kAlphabet[(group >> shift) & 63]);
  }
  size_t left = bytes.size() - i;
  if (left == 1) {
    uint32_t group = byte(i) << 16;
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
  } else if (left == 2) {
    uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.push_back(kAlphabet[(group >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  // A length of 1 mod 4 cannot come from any byte string.
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int held = 0;
  for (char c : text) {
    int value = digitValue(c);
    if (value < 0)
      return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<char>((bits >> held) & 0xff));
    }
  }
  // The bits left over must be zero: otherwise two spellings would decode
  // to the same bytes.
  if ((bits & ((1u << held) - 1)) != 0)
    return std::nullopt;
  return out;
}

std::string
preAuthenticationEncoding(std::initializer_list<std::string_view> pieces) {
  std::string out;
  appendLength(out, pieces.size());
  for (std::string_view piece : pieces) {
    appendLength(out, piece.size());
    out.append(piece);
  }
  return out;
}

Result<std::string> signV4Public(const SigningKey &key,
                                 std::string_view message,
                                 std::string_view footer,
                                 std::string_view implicitAssertion) {
  Result<std::string> signature = key.sign(
      preAuthenticationEncoding({kHeader, message, footer, implicitAssertion}));
  if (!signature)
    return signature.error();
  std::string token(kHeader);
  token += base64UrlEncode(std::string(message) + *signature);
  if (!footer.empty())
    token += "." + base64UrlEncode(footer);
  return token;
}

Result<std::string> verifyV4Public(const PublicKey &key,
                                   const DecodedToken &token,
                                   std::string_view footer,
                                   std::string_view implicitAssertion) {
  if (token.footer.size() != footer.size() ||
      CRYPTO_memcmp(token.footer.data(), footer.data(), footer.size()) != 0)
    return Error{ErrorCode::Untrusted,
                 "the token's footer is not the one expected"};
  std::string_view body = token.body;
  std::string_view message = body.substr(0, body.size() - kSignatureBytes);
  std::string_view signature = body.substr(body.size() - kSignatureBytes);
  if (!key.verifies(preAuthenticationEncoding(
                        {kHeader, message, footer, implicitAssertion}),
                    signature))
    return Error{ErrorCode::Untrusted,
                 "the token's signature does not verify: it was altered, or "
                 "signed by another key or for another use"};
  return std::string(message);
}

Result<std::string> verifyV4Public(const PublicKey &key, std::string_view token,
                                   std::string_view footer,
                                   std::string_view implicitAssertion) {
  Result<DecodedToken> decoded = decodeV4Public(token);
  if (!decoded)
    return decoded.error();
  return verifyV4Public(key, *decoded, footer, implicitAssertion);
}

} // namespace tensorwasm::paseto
