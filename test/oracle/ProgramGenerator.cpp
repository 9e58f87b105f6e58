//===- ProgramGenerator.cpp - random valid Wasm kernels for the oracle ----===//
//
// The generator is plain recursive code inside rc::gen::exec: every random
// choice is a RapidCheck pick, so a failing case shrinks choice by choice.
// Choices are ordered simplest first (a constant before an operation, 0
// before other numbers), since RapidCheck shrinks a pick towards its first
// value.
//
//===----------------------------------------------------------------------===//

#include "ProgramGenerator.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

namespace twasm::oracle {

const char *typeName(Type type) {
  switch (type) {
  case Type::I32:
    return "i32";
  case Type::I64:
    return "i64";
  case Type::F32:
    return "f32";
  case Type::F64:
    return "f64";
  }
  return "?";
}

std::string kernelName(size_t index) { return "case" + std::to_string(index); }

namespace {

bool isFloat(Type type) { return type == Type::F32 || type == Type::F64; }
bool isWide(Type type) { return type == Type::I64 || type == Type::F64; }
std::string name(Type type) { return typeName(type); }

/// Values at the edges of each type's behaviour: zeros, signs, overflow
/// limits of every conversion, subnormals, infinities, quiet and signalling
/// NaNs of both signs, halves that round differently.
const std::vector<uint64_t> &edgeBits(Type type) {
  static const std::vector<uint64_t> i32 = {
      0,    1,          0xffffffff, 0x80000000, 0x7fffffff, 2,
      0xff, 0x100,      0xffff,     0x10000,    31,         32,
      33,   0x7fffff80, 0xffffff80, 0x8000,     7};
  static const std::vector<uint64_t> i64 = {0,
                                            1,
                                            ~uint64_t(0),
                                            uint64_t(1) << 63,
                                            ~(uint64_t(1) << 63),
                                            0xffffffff,
                                            0x100000000,
                                            0x80000000,
                                            0xffffffff80000000,
                                            63,
                                            64,
                                            65,
                                            0xffff,
                                            0x7ffffffffffffc00};
  static const std::vector<uint64_t> f32 = {
      0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0xbf000000,
      0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0xff800001,
      0x7fffffff, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x4f000000,
      0xcf000000, 0x4f800000, 0x5f000000, 0xdf000000, 0x5f800000, 0x3effffff,
      0x3fc00000, 0x40200000, 0xc0200000, 0x4effffff, 0x4b000001, 0xcf000001};
  static const std::vector<uint64_t> f64 = {
      0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000,
      0xbff0000000000000, 0x3fe0000000000000, 0xbfe0000000000000,
      0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
      0xfff8000000000000, 0x7ff4000000000000, 0xfff0000000000001,
      0x7fffffffffffffff, 0x0000000000000001, 0x800fffffffffffff,
      0x0010000000000000, 0x7fefffffffffffff, 0x41e0000000000000,
      0xc1e0000000000000, 0x41f0000000000000, 0x43e0000000000000,
      0xc3e0000000000000, 0x43f0000000000000, 0x3fdfffffffffffff,
      0x3ff8000000000000, 0x4004000000000000, 0xc004000000000000,
      0x41dfffffffc00000, 0xc1e0000000200000, 0x41efffffffffffff,
      0x36a0000000000000, 0x47efffffe0000000, 0x3810000000000000};
  switch (type) {
  case Type::I32:
    return i32;
  case Type::I64:
    return i64;
  case Type::F32:
    return f32;
  case Type::F64:
    return f64;
  }
  return i32;
}

std::string constText(Type type, uint64_t bits) {
  char text[64];
  switch (type) {
  case Type::I32:
    std::snprintf(text, sizeof text, "(i32.const %" PRId32 ")",
                  static_cast<int32_t>(static_cast<uint32_t>(bits)));
    return text;
  case Type::I64:
    std::snprintf(text, sizeof text, "(i64.const %" PRId64 ")",
                  static_cast<int64_t>(bits));
    return text;
  case Type::F32: {
    uint32_t word = static_cast<uint32_t>(bits);
    const char *sign = (word >> 31) ? "-" : "";
    if ((word & 0x7f800000) == 0x7f800000) {
      if ((word & 0x007fffff) == 0)
        std::snprintf(text, sizeof text, "(f32.const %sinf)", sign);
      else
        std::snprintf(text, sizeof text, "(f32.const %snan:0x%" PRIx32 ")",
                      sign, word & 0x007fffff);
      return text;
    }
    float value;
    std::memcpy(&value, &word, 4);
    std::snprintf(text, sizeof text, "(f32.const %a)",
                  static_cast<double>(value));
    return text;
  }
  case Type::F64: {
    const char *sign = (bits >> 63) ? "-" : "";
    if ((bits & 0x7ff0000000000000) == 0x7ff0000000000000) {
      if ((bits & 0x000fffffffffffff) == 0)
        std::snprintf(text, sizeof text, "(f64.const %sinf)", sign);
      else
        std::snprintf(text, sizeof text, "(f64.const %snan:0x%" PRIx64 ")",
                      sign, bits & 0x000fffffffffffff);
      return text;
    }
    double value;
    std::memcpy(&value, &bits, 8);
    std::snprintf(text, sizeof text, "(f64.const %a)", value);
    return text;
  }
  }
  return "";
}

/// What a function's body sees while it is generated.
struct Function {
  /// Parameters, then declared locals.
  std::vector<Type> locals;
  size_t params = 0;
  /// Locals that statements may set: parameters and the declared ones,
  /// not the loop counters nor the scratch locals.
  std::vector<size_t> assignable;
  size_t scratchF32 = 0, scratchF64 = 0, firstCounter = 0;
  std::optional<Type> result;
  /// Helpers this function may call: those after it, so nothing recurses.
  size_t firstCallee = 0;
  /// Enclosing labels, innermost last: true for a block or if without
  /// results (a branch to it leaves it), false for a loop (a branch to it
  /// would skip its counter) or a block with results.
  std::vector<bool> labels;
  int loops = 0;
};

constexpr int kMaxLoops = 3;
constexpr int kMaxTripCount = 8;

struct Signature {
  std::vector<Type> params;
  std::optional<Type> result;
};

/// Builds one case. Each call picks through RapidCheck, so it must only be
/// used inside rc::gen::exec.
class CaseBuilder {
public:
  explicit CaseBuilder(int maxDepth) : maxDepth(maxDepth) {}

  Case build() {
    Case result;
    int globalCount = choose(4);
    for (int i = 0; i < globalCount; ++i)
      globals.push_back(anyType());
    int helperCount = choose(3);
    for (int i = 0; i < helperCount; ++i) {
      Signature signature;
      int params = choose(4);
      for (int p = 0; p < params; ++p)
        signature.params.push_back(anyType());
      if (choose(4) != 0)
        signature.result = anyType();
      helpers.push_back(signature);
    }
    int params = 1 + choose(4);
    for (int p = 0; p < params; ++p)
      result.params.push_back(anyType());
    for (Type type : result.params)
      result.arguments.push_back(constantBits(type));

    std::string fields;
    for (size_t g = 0; g < globals.size(); ++g)
      fields += "(global $@g" + std::to_string(g) + " (mut " +
                name(globals[g]) + ") " +
                constText(globals[g], constantBits(globals[g])) + ")\n";
    // Helpers last to first: a helper calls only those after it.
    std::vector<std::string> helperText(helpers.size());
    for (size_t h = helpers.size(); h-- > 0;)
      helperText[h] = function("$@f" + std::to_string(h), helpers[h].params,
                               helpers[h].result, h + 1);
    for (const std::string &text : helperText)
      fields += text;
    fields += function("$@k", result.params, std::nullopt, 0);
    result.fields = std::move(fields);
    return result;
  }

private:
  int maxDepth;
  /// How deep the expressions of the statements being generated may nest:
  /// maxDepth at a function's top, less inside an expression's block.
  int exprDepth = maxDepth;
  std::vector<Type> globals;
  std::vector<Signature> helpers;

  //===--------------------------------------------------------------------===//
  // Choices
  //===--------------------------------------------------------------------===//

  static int choose(int count) { return *rc::gen::inRange(0, count); }

  /// An index drawn with these weights (a zero weight is never drawn).
  static size_t weighted(const std::vector<int> &weights) {
    int total = 0;
    for (int weight : weights)
      total += weight;
    int drawn = choose(total);
    for (size_t i = 0; i < weights.size(); ++i) {
      if (drawn < weights[i])
        return i;
      drawn -= weights[i];
    }
    return 0;
  }

  static Type anyType() { return static_cast<Type>(choose(4)); }

  template <typename T> static const T &oneOf(const std::vector<T> &options) {
    return options[choose(static_cast<int>(options.size()))];
  }

  static uint64_t constantBits(Type type) {
    switch (weighted({3, 4, 2})) {
    case 0: { // a small integer, or a float of that value
      // 0, 1, -1, 2, -2, ...: shrinks towards 0.
      int drawn = choose(33);
      int64_t small = (drawn + 1) / 2 * (drawn % 2 ? 1 : -1);
      if (type == Type::F32) {
        float value = static_cast<float>(small);
        uint32_t bits;
        std::memcpy(&bits, &value, 4);
        return bits;
      }
      if (type == Type::F64) {
        double value = static_cast<double>(small);
        uint64_t bits;
        std::memcpy(&bits, &value, 8);
        return bits;
      }
      uint64_t bits = static_cast<uint64_t>(small);
      return type == Type::I32 ? bits & 0xffffffff : bits;
    }
    case 1:
      return oneOf(edgeBits(type));
    default: {
      uint64_t bits = *rc::gen::arbitrary<uint64_t>();
      return isWide(type) ? bits : bits & 0xffffffff;
    }
    }
  }

  //===--------------------------------------------------------------------===//
  // Functions
  //===--------------------------------------------------------------------===//

  std::string function(const std::string &label,
                       const std::vector<Type> &params,
                       std::optional<Type> result, size_t firstCallee) {
    Function f;
    f.locals = params;
    f.params = params.size();
    f.result = result;
    f.firstCallee = firstCallee;
    for (size_t i = 0; i < params.size(); ++i)
      f.assignable.push_back(i);
    int declared = choose(4);
    for (int i = 0; i < declared; ++i) {
      f.assignable.push_back(f.locals.size());
      f.locals.push_back(anyType());
    }
    f.scratchF32 = f.locals.size();
    f.locals.push_back(Type::F32);
    f.scratchF64 = f.locals.size();
    f.locals.push_back(Type::F64);
    f.firstCounter = f.locals.size();
    for (int i = 0; i < kMaxLoops; ++i)
      f.locals.push_back(Type::I32);

    std::string text = "(func " + label;
    for (Type type : params)
      text += " (param " + name(type) + ")";
    if (result)
      text += " (result " + name(*result) + ")";
    text += "\n  (local";
    for (size_t i = f.params; i < f.locals.size(); ++i)
      text += " " + name(f.locals[i]);
    text += ")\n";
    text += statements(f, 2, 1 + choose(5));
    if (result) {
      text += "  " + expression(f, *result, maxDepth) + ")\n";
      return text;
    }
    // The kernel: its results and its globals' final values, at fixed
    // places of memory.
    int results = 1 + choose(3);
    uint32_t slot = kResultsAt;
    for (int i = 0; i < results; ++i, slot += 8) {
      Type type = anyType();
      text += "  " +
              store(type, "", slot, "(i32.const 0)",
                    expression(f, type, maxDepth), f) +
              "\n";
    }
    for (size_t g = 0; g < globals.size(); ++g, slot += 8)
      text += "  " +
              store(globals[g], "", slot, "(i32.const 0)",
                    "(global.get $@g" + std::to_string(g) + ")", f) +
              "\n";
    return text + ")\n";
  }

  //===--------------------------------------------------------------------===//
  // Statements: instruction sequences that leave the stack as it was
  //===--------------------------------------------------------------------===//

  std::string statements(Function &f, int depth, int count) {
    std::string text;
    for (int i = 0; i < count; ++i)
      text += "  " + statement(f, depth) + "\n";
    return text;
  }

  /// A branchable label's relative depth, if there is one.
  static std::optional<size_t> branchTarget(const Function &f) {
    std::vector<size_t> targets;
    for (size_t i = 0; i < f.labels.size(); ++i)
      if (f.labels[i])
        targets.push_back(f.labels.size() - 1 - i);
    if (targets.empty())
      return std::nullopt;
    return oneOf(targets);
  }

  std::string statement(Function &f, int depth) {
    enum Kind {
      SetLocal,
      Store,
      SetGlobal,
      Drop,
      Call,
      BranchIf,
      If,
      Block,
      Switch,
      Loop,
      TrapIf,
      Return,
      Branch,
    };
    bool nest = depth > 0;
    bool canCall = f.firstCallee < helpers.size();
    bool canBranch = branchTarget(f).has_value();
    switch (static_cast<Kind>(weighted({
        f.assignable.empty() ? 0 : 6,
        6,
        globals.empty() ? 0 : 3,
        2,
        canCall ? 3 : 0,
        canBranch ? 3 : 0,
        nest ? 3 : 0,
        nest ? 2 : 0,
        nest ? 2 : 0,
        nest && f.loops < kMaxLoops ? 3 : 0,
        1,
        1,
        canBranch ? 1 : 0,
    }))) {
    case SetLocal: {
      size_t local = oneOf(f.assignable);
      return "(local.set " + std::to_string(local) + " " +
             expression(f, f.locals[local], exprDepth) + ")";
    }
    case Store: {
      Type type = anyType();
      return store(type, storeSuffix(type), offset(), address(f, exprDepth),
                   expression(f, type, exprDepth), f);
    }
    case SetGlobal: {
      size_t g = choose(static_cast<int>(globals.size()));
      return "(global.set $@g" + std::to_string(g) + " " +
             expression(f, globals[g], exprDepth) + ")";
    }
    case Drop:
      return "(drop " + expression(f, anyType(), exprDepth) + ")";
    case Call: {
      size_t callee = f.firstCallee +
                      choose(static_cast<int>(helpers.size() - f.firstCallee));
      std::string call = callText(f, callee, exprDepth);
      return helpers[callee].result ? "(drop " + call + ")" : call;
    }
    case BranchIf:
      return "(br_if " + std::to_string(*branchTarget(f)) + " " +
             expression(f, Type::I32, exprDepth) + ")";
    case Branch:
      return "(br " + std::to_string(*branchTarget(f)) + ")";
    case If: {
      std::string condition = expression(f, Type::I32, exprDepth);
      f.labels.push_back(true);
      std::string then = statements(f, depth - 1, 1 + choose(3));
      std::string otherwise = statements(f, depth - 1, choose(3));
      f.labels.pop_back();
      return "(if " + condition + " (then\n" + then + ") (else\n" + otherwise +
             "))";
    }
    case Block: {
      f.labels.push_back(true);
      std::string body = statements(f, depth - 1, 1 + choose(4));
      f.labels.pop_back();
      return "(block\n" + body + ")";
    }
    case Switch: {
      // Nested blocks, innermost first to be left; br_table picks how many
      // to leave, and the statements after each block's end run only for
      // the entries that left fewer.
      int blocks = 2 + choose(3);
      std::string text;
      for (int i = 0; i < blocks; ++i) {
        text += "(block ";
        f.labels.push_back(true);
      }
      text += "(br_table";
      int entries = choose(5);
      for (int i = 0; i <= entries; ++i) // the last one is the default
        text += " " + std::to_string(choose(blocks));
      text += " " + expression(f, Type::I32, exprDepth) + ")";
      for (int i = 0; i < blocks; ++i) {
        text += ")";
        f.labels.pop_back();
        if (i + 1 < blocks)
          text += "\n" + statements(f, depth - 1, choose(3));
      }
      return text;
    }
    case Loop: {
      size_t counter = f.firstCounter + f.loops;
      std::string c = std::to_string(counter);
      ++f.loops;
      f.labels.push_back(true);  // the block around the loop: "break"
      f.labels.push_back(false); // the loop itself
      std::string body = statements(f, depth - 1, 1 + choose(4));
      f.labels.pop_back();
      f.labels.pop_back();
      --f.loops;
      return "(local.set " + c + " (i32.const " +
             std::to_string(1 + choose(kMaxTripCount)) +
             "))\n  (block (loop\n" + body +
             "  (br_if 0 (i32.gt_s (local.tee " + c + " (i32.sub (local.get " +
             c + ") (i32.const 1))) (i32.const 0)))))";
    }
    case TrapIf: // mostly not taken
      return "(if (i32.eq " + expression(f, Type::I32, exprDepth) +
             " (i32.const " + std::to_string(choose(4)) +
             ")) (then unreachable))";
    case Return:
      if (f.result)
        return "(return " + expression(f, *f.result, exprDepth) + ")";
      return "(return)";
    }
    return "(nop)";
  }

  //===--------------------------------------------------------------------===//
  // Memory
  //===--------------------------------------------------------------------===//

  static std::string storeSuffix(Type type) {
    if (isFloat(type))
      return "";
    std::vector<std::string> suffixes = {"", "8", "16"};
    if (type == Type::I64)
      suffixes.push_back("32");
    return oneOf(suffixes);
  }

  /// A static offset: mostly none, sometimes past the end of memory, or so
  /// large that address + offset needs 33 bits.
  static uint32_t offset() {
    switch (weighted({40, 10, 1})) {
    case 0:
      return 0;
    case 1:
      return 1 + choose(64);
    default:
      return oneOf(std::vector<uint32_t>{kMemoryBytes - 4, kMemoryBytes,
                                         0x7fffffff, 0xffffffff, 0xfffffff8});
    }
  }

  /// An address: in bounds, at the end of memory, masked, or anything.
  std::string address(Function &f, int depth) {
    switch (weighted({20, 2, 20, 20, 1, 1})) {
    case 0:
      return "(i32.const " + std::to_string(choose(1024)) + ")";
    case 1:
      return "(i32.const " + std::to_string(kMemoryBytes - choose(17)) + ")";
    case 2:
      return "(i32.and " + expression(f, Type::I32, depth - 1) +
             " (i32.const 0xffff))";
    case 3:
      return "(i32.add (i32.const " +
             std::to_string(choose(2) ? kResultsAt : 0) + ") (i32.and " +
             expression(f, Type::I32, depth - 1) + " (i32.const 0xff)))";
    case 4:
      return expression(f, Type::I32, depth - 1);
    default:
      return constText(Type::I32, *rc::gen::arbitrary<uint32_t>());
    }
  }

  static std::string memarg(uint32_t offset, bool unaligned) {
    std::string text;
    if (offset)
      text += " offset=" + std::to_string(offset);
    if (unaligned)
      text += " align=1";
    return text;
  }

  std::string store(Type type, const std::string &suffix, uint32_t offset,
                    const std::string &address, const std::string &value,
                    Function &f) {
    return "(" + name(type) + ".store" + suffix +
           memarg(offset, choose(4) == 0) + " " + address + " " +
           deterministic(type, value, f) + ")";
  }

  std::string load(Function &f, Type type, int depth) {
    std::vector<std::string> suffixes = {""};
    if (!isFloat(type))
      for (const char *suffix : {"8_s", "8_u", "16_s", "16_u"})
        suffixes.push_back(suffix);
    if (type == Type::I64) {
      suffixes.push_back("32_s");
      suffixes.push_back("32_u");
    }
    std::string suffix = oneOf(suffixes);
    uint32_t at = offset();
    bool unaligned = choose(4) == 0;
    return "(" + name(type) + ".load" + suffix + memarg(at, unaligned) + " " +
           address(f, depth) + ")";
  }

  /// `value` with NaNs made deterministic (see the header): a NaN becomes
  /// the canonical quiet NaN if it is quiet, else one signalling NaN. Uses
  /// the function's scratch local of the type; a nested use finishes before
  /// the outer one writes it.
  std::string deterministic(Type type, const std::string &value, Function &f) {
    if (!isFloat(type))
      return value;
    bool single = type == Type::F32;
    std::string t = name(type);
    std::string s = std::to_string(single ? f.scratchF32 : f.scratchF64);
    std::string bits =
        single ? "(i32.and (i32.reinterpret_f32 (local.get " + s +
                     ")) (i32.const 0x400000))"
               : "(i64.ne (i64.and (i64.reinterpret_f64 (local.get " + s +
                     ")) (i64.const 0x8000000000000)) (i64.const 0))";
    std::string quiet = single ? "nan:0x400000" : "nan:0x8000000000000";
    std::string signalling = single ? "nan:0x200000" : "nan:0x4000000000000";
    return "(select (local.tee " + s + " " + value + ") (select (" + t +
           ".const " + quiet + ") (" + t + ".const " + signalling + ") " +
           bits + ") (" + t + ".eq (local.get " + s + ") (local.get " + s +
           ")))";
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  std::string callText(Function &f, size_t callee, int depth) {
    std::string text = "(call $@f" + std::to_string(callee);
    for (Type type : helpers[callee].params)
      text += " " + expression(f, type, depth - 1);
    return text + ")";
  }

  std::string unary(Function &f, Type type, int depth) {
    std::string t = name(type);
    std::vector<std::string> ops;
    if (isFloat(type))
      ops = {"neg", "abs", "ceil", "floor", "trunc", "nearest", "sqrt"};
    else
      ops = {"clz", "ctz", "popcnt", "extend8_s", "extend16_s"};
    if (type == Type::I64)
      ops.push_back("extend32_s");
    return "(" + t + "." + oneOf(ops) + " " + expression(f, type, depth - 1) +
           ")";
  }

  std::string binary(Function &f, Type type, int depth) {
    std::string t = name(type);
    if (isFloat(type)) {
      std::string op = oneOf(std::vector<std::string>{
          "add", "sub", "mul", "div", "min", "max", "copysign"});
      std::string left = expression(f, type, depth - 1);
      std::string right = expression(f, type, depth - 1);
      // copysign's sign comes from its second operand, NaN or not.
      if (op == "copysign")
        right = deterministic(type, right, f);
      return "(" + t + "." + op + " " + left + " " + right + ")";
    }
    std::string op = oneOf(std::vector<std::string>{
        "add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u",
        "rotl", "rotr", "div_s", "div_u", "rem_s", "rem_u"});
    std::string left = expression(f, type, depth - 1);
    std::string right = expression(f, type, depth - 1);
    // Divisors are often 0 here; most divisions get one that is not, so
    // that fewer cases end at their first division.
    if (op.rfind("div", 0) == 0 || op.rfind("rem", 0) == 0)
      if (choose(4) != 0)
        right = "(" + t + ".or " + right + " (" + t + ".const 1))";
    return "(" + t + "." + op + " " + left + " " + right + ")";
  }

  std::string compare(Function &f, int depth) {
    Type type = anyType();
    std::string t = name(type);
    if (!isFloat(type) && choose(6) == 0)
      return "(" + t + ".eqz " + expression(f, type, depth - 1) + ")";
    std::vector<std::string> ops =
        isFloat(type)
            ? std::vector<std::string>{"eq", "ne", "lt", "gt", "le", "ge"}
            : std::vector<std::string>{"eq",   "ne",   "lt_s", "lt_u", "gt_s",
                                       "gt_u", "le_s", "le_u", "ge_s", "ge_u"};
    return "(" + t + "." + oneOf(ops) + " " + expression(f, type, depth - 1) +
           " " + expression(f, type, depth - 1) + ")";
  }

  /// A conversion to `type` from another type.
  std::string convert(Function &f, Type type, int depth) {
    struct Conversion {
      const char *op;
      Type from;
    };
    std::vector<Conversion> options;
    switch (type) {
    case Type::I32:
      options = {
          {"wrap_i64", Type::I64},        {"trunc_sat_f32_s", Type::F32},
          {"trunc_sat_f32_u", Type::F32}, {"trunc_sat_f64_s", Type::F64},
          {"trunc_sat_f64_u", Type::F64}, {"trunc_f32_s", Type::F32},
          {"trunc_f32_u", Type::F32},     {"trunc_f64_s", Type::F64},
          {"trunc_f64_u", Type::F64},     {"reinterpret_f32", Type::F32}};
      break;
    case Type::I64:
      options = {{"extend_i32_s", Type::I32},    {"extend_i32_u", Type::I32},
                 {"trunc_sat_f32_s", Type::F32}, {"trunc_sat_f32_u", Type::F32},
                 {"trunc_sat_f64_s", Type::F64}, {"trunc_sat_f64_u", Type::F64},
                 {"trunc_f32_s", Type::F32},     {"trunc_f32_u", Type::F32},
                 {"trunc_f64_s", Type::F64},     {"trunc_f64_u", Type::F64},
                 {"reinterpret_f64", Type::F64}};
      break;
    case Type::F32:
      options = {{"convert_i32_s", Type::I32}, {"convert_i32_u", Type::I32},
                 {"convert_i64_s", Type::I64}, {"convert_i64_u", Type::I64},
                 {"demote_f64", Type::F64},    {"reinterpret_i32", Type::I32}};
      break;
    case Type::F64:
      options = {{"convert_i32_s", Type::I32}, {"convert_i32_u", Type::I32},
                 {"convert_i64_s", Type::I64}, {"convert_i64_u", Type::I64},
                 {"promote_f32", Type::F32},   {"reinterpret_i64", Type::I64}};
      break;
    }
    Conversion conversion = oneOf(options);
    // Most floats are out of an integer's range: a trapping truncation
    // mostly becomes the saturating one, so that fewer cases end there.
    std::string op = conversion.op;
    if (op.rfind("trunc_f", 0) == 0 && choose(3) != 0)
      op = "trunc_sat_" + op.substr(6);
    std::string operand = expression(f, conversion.from, depth - 1);
    // A float's bits become an integer's: its NaNs must be deterministic.
    if (isFloat(conversion.from) && !isFloat(type) &&
        op.rfind("reinterpret", 0) == 0)
      operand = deterministic(conversion.from, operand, f);
    return "(" + name(type) + "." + op + " " + operand + ")";
  }

  std::string expression(Function &f, Type type, int depth) {
    enum Kind {
      Constant,
      LocalGet,
      GlobalGet,
      MemorySize,
      Unary,
      Binary,
      Compare,
      Convert,
      Load,
      Select,
      If,
      Block,
      Call,
      LocalTee,
      MemoryGrow,
    };
    std::vector<size_t> localsOfType, assignableOfType, globalsOfType,
        calleesOfType;
    for (size_t i = 0; i < f.locals.size(); ++i)
      if (f.locals[i] == type)
        localsOfType.push_back(i);
    for (size_t i : f.assignable)
      if (f.locals[i] == type)
        assignableOfType.push_back(i);
    for (size_t i = 0; i < globals.size(); ++i)
      if (globals[i] == type)
        globalsOfType.push_back(i);
    for (size_t i = f.firstCallee; i < helpers.size(); ++i)
      if (helpers[i].result == type)
        calleesOfType.push_back(i);
    bool nest = depth > 0;
    bool i32 = type == Type::I32;
    switch (static_cast<Kind>(weighted({
        4,
        localsOfType.empty() ? 0 : 5,
        globalsOfType.empty() ? 0 : 2,
        i32 ? 1 : 0,
        nest ? 4 : 0,
        nest ? 8 : 0,
        nest && i32 ? 4 : 0,
        nest ? 4 : 0,
        nest ? 4 : 0,
        nest ? 2 : 0,
        nest ? 2 : 0,
        nest ? 1 : 0,
        nest && !calleesOfType.empty() ? 3 : 0,
        nest && !assignableOfType.empty() ? 2 : 0,
        nest && i32 ? 1 : 0,
    }))) {
    case Constant:
      return constText(type, constantBits(type));
    case LocalGet:
      return "(local.get " + std::to_string(oneOf(localsOfType)) + ")";
    case GlobalGet:
      return "(global.get $@g" + std::to_string(oneOf(globalsOfType)) + ")";
    case MemorySize:
      return "(memory.size)";
    case Unary:
      return unary(f, type, depth);
    case Binary:
      return binary(f, type, depth);
    case Compare:
      return compare(f, depth);
    case Convert:
      return convert(f, type, depth);
    case Load:
      return load(f, type, depth);
    case Select:
      return "(select " + expression(f, type, depth - 1) + " " +
             expression(f, type, depth - 1) + " " +
             expression(f, Type::I32, depth - 1) + ")";
    case If: {
      std::string condition = expression(f, Type::I32, depth - 1);
      f.labels.push_back(false);
      std::string then = expression(f, type, depth - 1);
      std::string otherwise = expression(f, type, depth - 1);
      f.labels.pop_back();
      return "(if (result " + name(type) + ") " + condition + " (then " + then +
             ") (else " + otherwise + "))";
    }
    case Block: {
      // A block with a result, left early by br_if with a value.
      f.labels.push_back(false);
      // Its statements' expressions nest less deep than this one, so that
      // every chain of nesting shortens.
      int outer = exprDepth;
      exprDepth = depth - 1;
      std::string before = statements(f, 1, choose(3));
      exprDepth = outer;
      std::string early = expression(f, type, depth - 1);
      std::string condition = expression(f, Type::I32, depth - 1);
      std::string last = expression(f, type, depth - 1);
      f.labels.pop_back();
      return "(block (result " + name(type) + ")\n" + before +
             "  (drop (br_if 0 " + early + " " + condition + ")) " + last + ")";
    }
    case Call:
      return callText(f, oneOf(calleesOfType), depth);
    case LocalTee: {
      size_t local = oneOf(assignableOfType);
      return "(local.tee " + std::to_string(local) + " " +
             expression(f, type, depth - 1) + ")";
    }
    case MemoryGrow:
      // Never by 0 pages: growing by 0 succeeds by the spec, while a
      // kernel's memory.grow always fails (kernel ABI, section 8).
      return "(memory.grow (i32.const " + std::to_string(1 + choose(3)) + "))";
    }
    return constText(type, 0);
  }
};

/// The bytes of the data segments: edge values of every type at the start
/// of memory, and at its end, so that loads find NaNs, infinities and
/// subnormals and stores near the end overwrite something.
std::string dataBytes(size_t count, uint32_t seed) {
  std::string bytes;
  uint32_t state = seed;
  const Type order[] = {Type::F32, Type::I32, Type::F64, Type::I64};
  size_t edge = 0;
  while (bytes.size() < count) {
    Type type = order[(bytes.size() / 8) % 4];
    const std::vector<uint64_t> &edges = edgeBits(type);
    uint64_t bits;
    if (state % 3 == 0) {
      bits = (uint64_t(state) << 32) | (state * 2654435761u);
    } else {
      bits = edges[edge++ % edges.size()];
    }
    state = state * 1103515245u + 12345u;
    size_t width = isWide(type) ? 8 : 4;
    for (size_t i = 0; i < width && bytes.size() < count; ++i)
      bytes.push_back(static_cast<char>(bits >> (8 * i)));
    if (width == 4)
      for (size_t i = 0; i < 4 && bytes.size() < count; ++i)
        bytes.push_back(static_cast<char>(state >> (8 * i)));
  }
  return bytes;
}

std::string stringLiteral(const std::string &bytes) {
  std::string text = "\"";
  char escape[4];
  for (unsigned char byte : bytes) {
    std::snprintf(escape, sizeof escape, "\\%02x", byte);
    text += escape;
  }
  return text + "\"";
}

} // namespace

std::string moduleText(const std::vector<Case> &cases) {
  std::string text = "(module\n(memory 1 1)\n";
  text += "(data (i32.const 0) " + stringLiteral(dataBytes(1024, 7)) + ")\n";
  text += "(data (i32.const " + std::to_string(kMemoryBytes - 64) + ") " +
          stringLiteral(dataBytes(64, 11)) + ")\n";
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string prefix = "$c" + std::to_string(i) + "_";
    const std::string &fields = cases[i].fields;
    std::string renamed;
    renamed.reserve(fields.size() + 64);
    for (size_t at = 0; at < fields.size(); ++at) {
      if (fields[at] == '$' && at + 1 < fields.size() &&
          fields[at + 1] == '@') {
        renamed += prefix;
        ++at;
      } else {
        renamed += fields[at];
      }
    }
    text += renamed;
    text += "(export \"" + kernelName(i) + "\" (func " + prefix + "k))\n";
  }
  return text + ")\n";
}

rc::Gen<Case> caseGen(int maxDepth) {
  return rc::gen::exec([maxDepth] { return CaseBuilder(maxDepth).build(); });
}

std::string describe(const Case &oneCase) {
  std::string text = moduleText({oneCase});
  text += ";; launched as " + kernelName(0) + "(";
  for (size_t i = 0; i < oneCase.params.size(); ++i) {
    if (i)
      text += ", ";
    text += constText(oneCase.params[i], oneCase.arguments[i]);
  }
  return text + ")\n";
}

} // namespace twasm::oracle
