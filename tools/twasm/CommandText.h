//===- CommandText.h - text of twasm's own command lines -------*- C++ -*-===//
//
// `twasm run`, `keygen`, `verify` and `registry` parse their own command
// lines (no LLVM): what they share to split options' values and to list
// options in --help the way llvm::cl does.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_COMMANDTEXT_H
#define TWASM_TOOLS_TWASM_COMMANDTEXT_H

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tensorwasm::tool {

/// Splits at the first `separator`: (text, "") when there is none.
inline std::pair<std::string_view, std::string_view>
split(std::string_view text, char separator) {
  size_t at = text.find(separator);
  if (at == std::string_view::npos)
    return {text, {}};
  return {text.substr(0, at), text.substr(at + 1)};
}

/// Every field between `separator`s, empty ones included.
inline std::vector<std::string_view> splitAll(std::string_view text,
                                              char separator) {
  std::vector<std::string_view> fields;
  for (;;) {
    size_t at = text.find(separator);
    fields.push_back(text.substr(0, at));
    if (at == std::string_view::npos)
      return fields;
    text.remove_prefix(at + 1);
  }
}

/// "  NAME    DESCRIPTION", the description starting at column `indent`
/// (on the next line when the name reaches it) and wrapped at 79 columns.
inline std::string formatOptionHelp(const std::string &name,
                                    std::string_view description,
                                    size_t indent) {
  const size_t width = 79;
  std::string line = "  " + name;
  if (line.size() + 2 > indent)
    line += "\n" + std::string(indent, ' ');
  else
    line.append(indent - line.size(), ' ');
  size_t column = indent;
  bool first = true;
  while (!description.empty()) {
    size_t space = description.find(' ');
    std::string_view word = description.substr(0, space);
    description.remove_prefix(
        space == std::string_view::npos ? description.size() : space + 1);
    if (word.empty())
      continue;
    if (!first && column + 1 + word.size() > width) {
      line += "\n" + std::string(indent, ' ');
      column = indent;
      first = true;
    }
    if (!first) {
      line += ' ';
      ++column;
    }
    line += word;
    column += word.size();
    first = false;
  }
  return line;
}

} // namespace tensorwasm::tool

#endif // TWASM_TOOLS_TWASM_COMMANDTEXT_H
