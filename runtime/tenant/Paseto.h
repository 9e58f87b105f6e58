//===- Paseto.h - PASETO v4.public tokens (Ed25519) -------------*- C++ -*-===//
//
// Capability tokens are PASETO version 4 "public" tokens: a message signed
// with Ed25519 over the pre-authentication encoding (PAE) of the header,
// the message, the footer and an implicit assertion, as the PASETO
// specification (draft-paragon-paseto-rfc, "v4.public") defines them. The
// official test vectors of that specification check this code
// (test/data/paseto/).
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_TENANT_PASETO_H
#define TWASM_RUNTIME_TENANT_PASETO_H

#include "twasm/Artifact.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace tensorwasm::paseto {

/// RFC 4648 base64url without padding, as PASETO writes it.
std::string base64UrlEncode(std::string_view bytes);
/// The bytes of unpadded base64url text; nullopt for anything else (padding,
/// other alphabets, or a last character whose unused bits are not zero, so
/// that each token has exactly one spelling).
std::optional<std::string> base64UrlDecode(std::string_view text);

/// PAE: the piece count, then each piece's length and bytes, counts as
/// 64-bit little-endian integers with the top bit clear.
std::string
preAuthenticationEncoding(std::initializer_list<std::string_view> pieces);

/// "v4.public." + base64url(message || signature) [+ "." + base64url(footer)].
Result<std::string> signV4Public(const SigningKey &key,
                                 std::string_view message,
                                 std::string_view footer,
                                 std::string_view implicitAssertion);

/// A v4.public token's parts, decoded but NOT verified: its footer may
/// only choose the key to verify with.
struct DecodedToken {
  /// The message followed by its 64-byte signature.
  std::string body;
  std::string footer;
};
/// InvalidArgument for what is not a v4.public token.
Result<DecodedToken> decodeV4Public(std::string_view token);

/// The message of a decoded token, if `key` signed it with exactly this
/// footer and implicit assertion; else Untrusted.
Result<std::string> verifyV4Public(const PublicKey &key,
                                   const DecodedToken &token,
                                   std::string_view footer,
                                   std::string_view implicitAssertion);
/// decodeV4Public(), then the above.
Result<std::string> verifyV4Public(const PublicKey &key, std::string_view token,
                                   std::string_view footer,
                                   std::string_view implicitAssertion);

} // namespace tensorwasm::paseto

#endif // TWASM_RUNTIME_TENANT_PASETO_H
