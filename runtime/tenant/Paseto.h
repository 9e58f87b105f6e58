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

/// The footer of a v4.public token, decoded but NOT verified: only for
/// choosing the key to verify with.
Result<std::string> unverifiedFooter(std::string_view token);

/// The message of `token`, if it is a v4.public token that `key` signed
/// with exactly this footer and implicit assertion; else Untrusted (or
/// InvalidArgument for what is not a v4.public token at all).
Result<std::string> verifyV4Public(const PublicKey &key, std::string_view token,
                                   std::string_view footer,
                                   std::string_view implicitAssertion);

} // namespace tensorwasm::paseto

#endif // TWASM_RUNTIME_TENANT_PASETO_H
