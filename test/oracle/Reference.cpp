//===- Reference.cpp - generated cases on wabt's interpreter -------------===//

#include "Reference.h"

#include "wabt/binary-reader.h"
#include "wabt/error-formatter.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/interp/interp.h"

#include <cstring>

namespace twasm::oracle {

using tensorwasm::ValueType;
using tensorwasm::abi::TrapCode;

struct Reference::Loaded {
  wabt::interp::ModuleDesc description;
};

Reference::Reference(std::unique_ptr<Loaded> loaded)
    : loaded(std::move(loaded)) {}
Reference::~Reference() = default;

std::unique_ptr<Reference> Reference::load(const std::string &binary,
                                           std::string &error) {
  auto loaded = std::make_unique<Loaded>();
  wabt::Errors errors;
  wabt::ReadBinaryOptions options;
  if (wabt::Failed(wabt::interp::ReadBinaryInterp(
          "batch", binary.data(), binary.size(), options, &errors,
          &loaded->description))) {
    error = wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary);
    return nullptr;
  }
  return std::unique_ptr<Reference>(new Reference(std::move(loaded)));
}

/// The runtime's trap code for wabt's message; None if there is none.
static TrapCode trapCode(const std::string &message) {
  static const std::pair<const char *, TrapCode> kinds[] = {
      {"unreachable", TrapCode::Unreachable},
      {"out of bounds memory access", TrapCode::MemoryOutOfBounds},
      {"integer divide by zero", TrapCode::IntegerDivideByZero},
      {"integer overflow", TrapCode::IntegerOverflow},
      {"invalid conversion to integer", TrapCode::InvalidConversion},
      {"call stack exhausted", TrapCode::CallStackExhausted},
  };
  for (const auto &[prefix, code] : kinds)
    if (message.rfind(prefix, 0) == 0)
      return code;
  return TrapCode::None;
}

static wabt::interp::Value toValue(const tensorwasm::Value &value) {
  switch (value.type) {
  case ValueType::I32:
    return wabt::interp::Value::Make(static_cast<uint32_t>(value.bits));
  case ValueType::I64:
    return wabt::interp::Value::Make(value.bits);
  case ValueType::F32: {
    float single;
    uint32_t bits = static_cast<uint32_t>(value.bits);
    std::memcpy(&single, &bits, 4);
    return wabt::interp::Value::Make(single);
  }
  case ValueType::F64: {
    double wide;
    std::memcpy(&wide, &value.bits, 8);
    return wabt::interp::Value::Make(wide);
  }
  }
  return {};
}

std::optional<Outcome> Reference::run(const Launch &launch,
                                      std::string &error) {
  using namespace wabt::interp;
  Store store;
  auto module = Module::New(store, loaded->description);
  Trap::Ptr trap;
  Instance::Ptr instance =
      Instance::Instantiate(store, module.ref(), {}, &trap);
  if (!instance) {
    error = "wabt cannot instantiate the batch" +
            (trap ? ": " + trap->message() : std::string());
    return std::nullopt;
  }
  Func::Ptr func;
  for (const ExportDesc &exported : loaded->description.exports)
    if (exported.type.name == launch.kernel) {
      func = store.UnsafeGet<Func>(instance->funcs()[exported.index]);
      break;
    }
  if (!func) {
    error = "the batch exports no function " + launch.kernel;
    return std::nullopt;
  }
  Values params, results;
  for (const tensorwasm::Value &argument : launch.arguments)
    params.push_back(toValue(argument));
  Outcome outcome;
  if (wabt::Failed(func->Call(store, params, results, &trap))) {
    std::string message = trap ? trap->message() : "no message";
    outcome.trap = trapCode(message);
    if (outcome.trap == TrapCode::None) {
      error =
          "wabt trapped with a message the runtime has no code for: " + message;
      return std::nullopt;
    }
  }
  auto memory = store.UnsafeGet<Memory>(instance->memories()[0]);
  outcome.memory.assign(reinterpret_cast<const char *>(memory->UnsafeData()),
                        memory->ByteSize());
  return outcome;
}

} // namespace twasm::oracle
