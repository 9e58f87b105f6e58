//===- CommandLine.h - the command lines of twasm's subcommands -*- C++ -*-===//
//
// What `twasm keygen`, `verify`, `registry` and `snapshot` share: options
// declared with their help text, a parser of -x / --name[=value], help
// printing, and errors printed as "error: ..." (exit status 1). Plain C++:
// nothing here links LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_COMMANDLINE_H
#define TWASM_TOOLS_TWASM_COMMANDLINE_H

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tensorwasm::tool {

/// Prints "error: MESSAGE" on stderr (after flushing stdout); returns 1, the
/// exit status of a failed command.
int error(const std::string &message);
/// Prints `line` and a newline on stdout.
void printLine(const std::string &line);

struct OptionHelp {
  /// Without dashes; one letter is spelled -x, else --name.
  const char *name;
  /// Null for a flag.
  const char *value;
  const char *description;
};

struct CommandHelp {
  /// "twasm registry push".
  std::string program;
  const char *overview;
  /// After the program's name: "[options] <FILE.twa>...".
  const char *usage;
  std::vector<OptionHelp> options;
  /// Printed after the options, if any.
  const char *details = nullptr;
};

/// -x for one letter, else --name.
std::string spelling(std::string_view name);

/// Prints the overview, usage, options and details.
void printHelp(const CommandHelp &command);

struct ParsedLine {
  /// Each option's values in order; a flag's value is "".
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> positionals;
  bool help = false;

  bool has(const std::string &name) const { return values.count(name) != 0; }
  /// The last value given, or `otherwise`.
  std::string last(const std::string &name,
                   const std::string &otherwise = {}) const {
    auto found = values.find(name);
    return found == values.end() ? otherwise : found->second.back();
  }
  const std::vector<std::string> &all(const std::string &name) const {
    static const std::vector<std::string> none;
    auto found = values.find(name);
    return found == values.end() ? none : found->second;
  }
};

/// Parses argv[first..argc) by `command`'s options: -x or --name, with the
/// value after '=' or in the next token; `--` ends the options; "-" is a
/// positional. With `stopAtPositional`, the first positional and everything
/// after it are left as positionals unparsed (a subcommand's own line).
/// Prints the error and returns nullopt on a bad line.
std::optional<ParsedLine> parseLine(const CommandHelp &command, int argc,
                                    char **argv, int first = 1,
                                    bool stopAtPositional = false);

/// parseLine() of a whole command: nullopt when the command is over —
/// after --help (printed; `status` 0) or a bad line (error printed;
/// `status` 1).
std::optional<ParsedLine> parseCommand(const CommandHelp &command, int argc,
                                       char **argv, int &status);

} // namespace tensorwasm::tool

#endif // TWASM_TOOLS_TWASM_COMMANDLINE_H
