//===- HelpText.h - the option lines of the commands' --help ---*- C++ -*-===//
//
// `twasm run`, `keygen`, `verify` and `registry` parse their own command
// lines (no LLVM); their --help lists options the way llvm::cl does, through
// this one function.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_HELPTEXT_H
#define TWASM_TOOLS_TWASM_HELPTEXT_H

#include <string>
#include <string_view>

namespace tensorwasm::tool {

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

#endif // TWASM_TOOLS_TWASM_HELPTEXT_H
