//===- ProgramGenerator.h - random valid Wasm kernels for the oracle ------===//
//
// RapidCheck generators of random, valid WebAssembly kernels: expression
// trees over every numeric type and operation, loads and stores in and out
// of bounds (misaligned, at the end of memory, with large offsets), control
// flow (if, blocks left by br_if and br_table, loops with bounded trip
// counts), calls to helper functions, globals. Every generated kernel
// terminates. Each is a Case that carries its own helpers, globals and
// arguments, so that a batch of cases shrinks to the one that fails, and
// that case to its smallest form.
//
// Float values are made deterministic where they leave the float domain
// (stores, reinterpretations, copysign's sign operand): a NaN there becomes
// the canonical quiet NaN if it was quiet, and one fixed signalling NaN if
// it was not. The spec leaves a NaN's sign and payload open but not its
// quiet bit (an arithmetic result is always quiet), so what is compared is
// exactly what the spec fixes.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TEST_ORACLE_PROGRAMGENERATOR_H
#define TWASM_TEST_ORACLE_PROGRAMGENERATOR_H

#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <vector>

namespace twasm::oracle {

enum class Type : uint8_t { I32, I64, F32, F64 };

const char *typeName(Type type);

/// One kernel with the helper functions and globals only it uses, and the
/// arguments it is launched with.
struct Case {
  std::vector<Type> params;
  /// One per parameter: the value's bits (f32 and i32 in the low half).
  std::vector<uint64_t> arguments;
  /// The case's module fields in the text format. Every name in it starts
  /// with "$@", which moduleText() makes unique to the case.
  std::string fields;
};

/// Linear memory of every generated module: one page, not growable (so a
/// `memory.grow` fails the same way everywhere), with data segments at
/// both ends.
constexpr uint32_t kMemoryBytes = 65536;
/// Where a kernel stores its results and its globals' final values.
constexpr uint32_t kResultsAt = 0xF000;

/// The export name of the case at `index` of a module.
std::string kernelName(size_t index);

/// A module holding `cases`, each exported as kernelName(i).
std::string moduleText(const std::vector<Case> &cases);

/// A random case; its expressions nest at most `maxDepth` deep.
rc::Gen<Case> caseGen(int maxDepth = 4);

/// Case's text for failure reports: its module alone and its arguments.
std::string describe(const Case &oneCase);

} // namespace twasm::oracle

#endif // TWASM_TEST_ORACLE_PROGRAMGENERATOR_H
