//===- Outcome.cpp - what one case did, and comparing two of them --------===//

#include "Outcome.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace twasm::oracle {

using tensorwasm::Error;
using tensorwasm::ErrorCode;
using tensorwasm::Result;
using tensorwasm::ValueType;
using tensorwasm::abi::TrapCode;

uint64_t digest(const std::string &bytes) {
  uint64_t hash = 0xcbf29ce484222325;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3;
  }
  return hash;
}

std::string describe(TrapCode trap) {
  if (trap == TrapCode::None)
    return "completed";
  return std::string("trapped: ") + tensorwasm::abi::trapMessage(trap);
}

std::string difference(const Outcome &expected, const Outcome &actual) {
  if (expected.trap != actual.trap)
    return "expected " + describe(expected.trap) + ", got " +
           describe(actual.trap);
  if (expected.memory.size() != actual.memory.size())
    return "memory of " + std::to_string(actual.memory.size()) +
           " bytes, expected " + std::to_string(expected.memory.size());
  size_t at = 0;
  while (at < expected.memory.size() &&
         expected.memory[at] == actual.memory[at])
    ++at;
  if (at == expected.memory.size())
    return "";
  // The aligned 8 bytes around the first difference, as stored values are
  // easier to read whole.
  size_t start = at & ~size_t(7);
  std::ostringstream text;
  text << "memory differs from byte 0x" << std::hex << at << ": at 0x" << start
       << " expected";
  for (size_t i = start; i < start + 8 && i < expected.memory.size(); ++i)
    text << " " << std::hex
         << static_cast<unsigned>(
                static_cast<unsigned char>(expected.memory[i]));
  text << ", got";
  for (size_t i = start; i < start + 8 && i < actual.memory.size(); ++i)
    text << " " << std::hex
         << static_cast<unsigned>(static_cast<unsigned char>(actual.memory[i]));
  return text.str();
}

Result<Outcome> runCase(tensorwasm::Instance &instance, const Launch &launch) {
  tensorwasm::Status reset = instance.reset();
  if (!reset)
    return reset.error();
  tensorwasm::LaunchOptions options;
  options.timeout = std::chrono::seconds(20);
  Result<tensorwasm::LaunchResult> launched =
      instance.launch(launch.kernel, options, launch.arguments);
  if (!launched)
    return launched.error();
  Outcome outcome;
  switch (launched->outcome) {
  case tensorwasm::LaunchResult::Outcome::Completed:
    break;
  case tensorwasm::LaunchResult::Outcome::Trapped:
    outcome.trap = launched->trap.code;
    break;
  case tensorwasm::LaunchResult::Outcome::Interrupted:
    return Error{ErrorCode::DeviceFailure,
                 launch.kernel + " ran past its timeout: a generated kernel "
                                 "always ends"};
  }
  outcome.memory.resize(instance.memoryBytes());
  tensorwasm::Status read =
      instance.read(0, outcome.memory.data(), outcome.memory.size());
  if (!read)
    return read.error();
  return outcome;
}

std::string writeExpectations(const std::vector<ExpectedCase> &cases) {
  std::string text;
  char number[32];
  for (const ExpectedCase &expected : cases) {
    text += expected.launch.kernel;
    std::snprintf(number, sizeof number, " %x %016" PRIx64,
                  static_cast<unsigned>(expected.trap), expected.memoryDigest);
    text += number;
    for (const tensorwasm::Value &value : expected.launch.arguments) {
      std::snprintf(number, sizeof number, " %s:%" PRIx64,
                    tensorwasm::valueTypeName(value.type), value.bits);
      text += number;
    }
    text += "\n";
  }
  return text;
}

std::optional<std::vector<ExpectedCase>>
readExpectations(const std::string &text, std::string &error) {
  std::vector<ExpectedCase> cases;
  std::istringstream lines(text);
  std::string line;
  size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    std::istringstream fields(line);
    ExpectedCase expected;
    std::string trap, memoryDigest, argument;
    if (!(fields >> expected.launch.kernel >> trap >> memoryDigest)) {
      error = "line " + std::to_string(number) + ": too few fields";
      return std::nullopt;
    }
    try {
      expected.trap = static_cast<TrapCode>(std::stoul(trap, nullptr, 16));
      expected.memoryDigest = std::stoull(memoryDigest, nullptr, 16);
      while (fields >> argument) {
        size_t colon = argument.find(':');
        std::optional<ValueType> type;
        for (ValueType candidate :
             {ValueType::I32, ValueType::I64, ValueType::F32, ValueType::F64})
          if (colon != std::string::npos &&
              argument.compare(0, colon,
                               tensorwasm::valueTypeName(candidate)) == 0)
            type = candidate;
        if (!type)
          throw std::invalid_argument("type");
        expected.launch.arguments.push_back(
            {*type, std::stoull(argument.substr(colon + 1), nullptr, 16)});
      }
    } catch (const std::exception &) {
      error = "line " + std::to_string(number) + ": unreadable: " + line;
      return std::nullopt;
    }
    cases.push_back(std::move(expected));
  }
  return cases;
}

} // namespace twasm::oracle
