//===- CommandLine.cpp - the command lines of twasm's subcommands ---------===//

#include "CommandLine.h"
#include "CommandText.h"

#include <cstdio>

namespace tensorwasm::tool {

int error(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

void printLine(const std::string &line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

std::string spelling(std::string_view name) {
  return (name.size() == 1 ? "-" : "--") + std::string(name);
}

void printHelp(const CommandHelp &command) {
  std::printf("OVERVIEW: %s\n\nUSAGE: %s %s\n", command.overview,
              command.program.c_str(), command.usage);
  if (!command.options.empty())
    std::printf("\nOPTIONS:\n");
  for (const OptionHelp &help : command.options) {
    std::string name = spelling(help.name);
    if (help.value)
      name += std::string(" <") + help.value + ">";
    std::printf("%s\n", formatOptionHelp(name, help.description, 30).c_str());
  }
  if (command.details)
    std::fputs(command.details, stdout);
}

std::optional<ParsedLine> parseLine(const CommandHelp &command, int argc,
                                    char **argv, int first,
                                    bool stopAtPositional) {
  ParsedLine parsed;
  bool optionsEnded = false;
  for (int i = first; i < argc; ++i) {
    std::string_view token = argv[i];
    if (optionsEnded || token.size() < 2 || token[0] != '-') {
      parsed.positionals.emplace_back(token);
      if (stopAtPositional) {
        for (++i; i < argc; ++i)
          parsed.positionals.emplace_back(argv[i]);
        break;
      }
      continue;
    }
    if (token == "--") {
      optionsEnded = true;
      continue;
    }
    std::string_view body = token.substr(token[1] == '-' ? 2 : 1);
    size_t equals = body.find('=');
    std::string name(body.substr(0, equals));
    if (name == "help" || name == "h") {
      parsed.help = true;
      continue;
    }
    const OptionHelp *known = nullptr;
    for (const OptionHelp &help : command.options)
      if (name == help.name)
        known = &help;
    if (!known) {
      error("unknown option '" + std::string(token) + "' (see " +
            command.program + " --help)");
      return std::nullopt;
    }
    std::string value;
    if (!known->value) {
      if (equals != std::string_view::npos) {
        error(spelling(name) + " takes no value");
        return std::nullopt;
      }
    } else if (equals != std::string_view::npos) {
      value = std::string(body.substr(equals + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      error(spelling(name) + ": expects a value <" + known->value + ">");
      return std::nullopt;
    }
    parsed.values[name].push_back(std::move(value));
  }
  return parsed;
}

std::optional<ParsedLine> parseCommand(const CommandHelp &command, int argc,
                                       char **argv, int &status) {
  std::optional<ParsedLine> line = parseLine(command, argc, argv);
  status = 1;
  if (line && line->help) {
    printHelp(command);
    status = 0;
    return std::nullopt;
  }
  return line;
}

} // namespace tensorwasm::tool
