//===- JsonLimits.h - how deep the JSON we read may nest -------*- C++ -*-===//
//
// nlohmann's parser is iterative, but its dump() and destructor recurse, so
// a document nested half a million levels deep would exhaust the stack. The
// manifest, the trust policy and the registry's index nest a few levels;
// anything deeper is refused before it is parsed.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_ARTIFACT_JSONLIMITS_H
#define TWASM_RUNTIME_ARTIFACT_JSONLIMITS_H

#include <string_view>

namespace tensorwasm::json_nesting {

/// Deeper than any document of docs/artifact-format.md.
constexpr int kManifestDepth = 16;

/// Whether `text`'s arrays and objects nest at most `limit` deep (strings
/// skipped; the text need not be valid JSON).
bool within(std::string_view text, int limit);

} // namespace tensorwasm::json_nesting

#endif // TWASM_RUNTIME_ARTIFACT_JSONLIMITS_H
