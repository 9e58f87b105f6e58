//===- BinaryValidator.cpp - a spec-exact check of a binary Wasm module ---===//
//
// Binary format: https://webassembly.github.io/spec/core/binary/
// Validation: https://webassembly.github.io/spec/core/valid/, with function
// bodies checked by the algorithm of the spec's appendix
// (https://webassembly.github.io/spec/core/appendix/algorithm.html).
//
//===----------------------------------------------------------------------===//

#include "BinaryValidator.h"

#include "BinaryFormat.h"
#include "Utf8.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <optional>
#include <vector>

using namespace mlir::twasm;
using namespace mlir::twasm::import_detail;

namespace {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// The encoded value types, plus the type of a value popped from an
/// unreachable, polymorphic stack.
enum class ValType : uint8_t {
  I32 = uint8_t(binary::ValType::I32),
  I64 = uint8_t(binary::ValType::I64),
  F32 = uint8_t(binary::ValType::F32),
  F64 = uint8_t(binary::ValType::F64),
  FuncRef = uint8_t(binary::ValType::FuncRef),
  ExternRef = uint8_t(binary::ValType::ExternRef),
  Unknown = 0,
};

bool isNumeric(ValType type) {
  return type == ValType::I32 || type == ValType::I64 || type == ValType::F32 ||
         type == ValType::F64 || type == ValType::Unknown;
}
bool isReference(ValType type) {
  return type == ValType::FuncRef || type == ValType::ExternRef ||
         type == ValType::Unknown;
}

const char *typeName(ValType type) {
  switch (type) {
  case ValType::I32:
    return "i32";
  case ValType::I64:
    return "i64";
  case ValType::F32:
    return "f32";
  case ValType::F64:
    return "f64";
  case ValType::FuncRef:
    return "funcref";
  case ValType::ExternRef:
    return "externref";
  case ValType::Unknown:
    return "any";
  }
  return "?";
}

using TypeList = llvm::SmallVector<ValType, 4>;

struct FuncType {
  TypeList params, results;
};

struct TableType {
  ValType elemType;
};

struct GlobalType {
  ValType type;
  bool isMutable;
};

//===----------------------------------------------------------------------===//
// Errors and the byte reader
//===----------------------------------------------------------------------===//

/// The first error, with the byte offset it was found at.
struct Diagnostic {
  std::string message;
  size_t offset = 0;
  bool hasOffset = true;
};

class Reader {
public:
  Reader(llvm::StringRef bytes, size_t base, Diagnostic &diag)
      : data(reinterpret_cast<const uint8_t *>(bytes.data())),
        size(bytes.size()), base(base), diag(diag) {}

  size_t offset() const { return base + position; }
  bool atEnd() const { return position == size; }
  size_t remaining() const { return size - position; }

  bool fail(const llvm::Twine &message) { return failAt(offset(), message); }
  bool failAt(size_t at, const llvm::Twine &message) {
    if (diag.message.empty()) {
      diag.message = message.str();
      diag.offset = at;
    }
    return false;
  }

  bool byte(uint8_t &value) {
    if (position >= size)
      return fail("unexpected end");
    value = data[position++];
    return true;
  }

  bool bytes(size_t count, llvm::StringRef &value) {
    if (count > remaining())
      return fail("unexpected end: " + llvm::Twine(count) +
                  " bytes expected, " + llvm::Twine(remaining()) + " left");
    value =
        llvm::StringRef(reinterpret_cast<const char *>(data + position), count);
    position += count;
    return true;
  }

  bool skip(size_t count) {
    llvm::StringRef ignored;
    return bytes(count, ignored);
  }

  /// An unsigned LEB128 of at most `bits` bits.
  bool unsignedLeb(unsigned bits, uint64_t &value) {
    value = 0;
    size_t start = offset();
    unsigned maxBytes = (bits + 6) / 7;
    for (unsigned index = 0;; ++index) {
      uint8_t b = 0;
      if (!byte(b))
        return false;
      if (index == maxBytes - 1) {
        if (b & 0x80)
          return failAt(start, "integer representation too long");
        unsigned usedBits = bits - 7 * index;
        if (usedBits < 7 && (b >> usedBits) != 0)
          return failAt(start, "integer too large");
      }
      value |= uint64_t(b & 0x7F) << (7 * index);
      if (!(b & 0x80))
        return true;
    }
  }

  /// A signed LEB128 of at most `bits` bits, sign-extended to 64.
  bool signedLeb(unsigned bits, int64_t &value) {
    uint64_t result = 0;
    size_t start = offset();
    unsigned maxBytes = (bits + 6) / 7;
    unsigned shift = 0;
    uint8_t b = 0;
    for (unsigned index = 0;; ++index) {
      if (!byte(b))
        return false;
      if (index == maxBytes - 1) {
        if (b & 0x80)
          return failAt(start, "integer representation too long");
        // The bits past the value's width must repeat its sign bit.
        unsigned usedBits = bits - 7 * index;
        if (usedBits < 7) {
          uint8_t unused = static_cast<uint8_t>(b & 0x7F) >> (usedBits - 1);
          uint8_t allOnes = static_cast<uint8_t>(0x7F >> (usedBits - 1));
          if (unused != 0 && unused != allOnes)
            return failAt(start, "integer too large");
        }
      }
      result |= uint64_t(b & 0x7F) << shift;
      shift += 7;
      if (!(b & 0x80))
        break;
    }
    if (shift < 64 && (b & 0x40))
      result |= ~uint64_t(0) << shift;
    value = static_cast<int64_t>(result);
    return true;
  }

  bool u32(uint32_t &value) {
    uint64_t wide;
    if (!unsignedLeb(32, wide))
      return false;
    value = static_cast<uint32_t>(wide);
    return true;
  }

  /// A vector length, which cannot exceed the bytes left (each element takes
  /// at least `minElementBytes`); this keeps allocations bounded by the input.
  bool count(uint32_t &value, size_t minElementBytes = 1) {
    size_t start = offset();
    if (!u32(value))
      return false;
    if (minElementBytes && value > remaining() / minElementBytes)
      return failAt(start, "unexpected end: a vector of " + llvm::Twine(value) +
                               " elements does not fit in the bytes left");
    return true;
  }

  /// A name: a length-prefixed, valid UTF-8 string.
  bool name(llvm::StringRef &value) {
    uint32_t length;
    if (!u32(length))
      return false;
    size_t start = offset();
    if (!bytes(length, value))
      return false;
    if (!isValidUtf8(value))
      return failAt(start, "malformed UTF-8 encoding");
    return true;
  }

  bool valType(ValType &type) {
    size_t start = offset();
    uint8_t b;
    if (!byte(b))
      return false;
    switch (b) {
    case 0x7F:
    case 0x7E:
    case 0x7D:
    case 0x7C:
    case 0x70:
    case 0x6F:
      type = static_cast<ValType>(b);
      return true;
    case 0x7B:
      return failAt(start, "SIMD (the v128 type) is not supported yet");
    default:
      return failAt(start, llvm::formatv("malformed value type {0:x2}", b));
    }
  }

  bool refType(ValType &type) {
    size_t start = offset();
    if (!valType(type))
      return false;
    if (type != ValType::FuncRef && type != ValType::ExternRef)
      return failAt(start, "malformed reference type");
    return true;
  }

private:
  const uint8_t *data;
  size_t size;
  size_t position = 0;
  size_t base;
  Diagnostic &diag;
};

//===----------------------------------------------------------------------===//
// The module's context (the spec's C)
//===----------------------------------------------------------------------===//

struct Context {
  ImportFeatures features;
  std::vector<FuncType> types;
  /// The type index of every function, imported ones first.
  std::vector<uint32_t> funcs;
  std::vector<TableType> tables;
  uint32_t memories = 0;
  std::vector<GlobalType> globals;
  uint32_t importedGlobals = 0;
  std::vector<ValType> elems;
  std::optional<uint32_t> dataCount;
  /// Functions that may be referenced by ref.func in code (C.refs).
  llvm::DenseSet<uint32_t> refs;
};

//===----------------------------------------------------------------------===//
// Function bodies
//===----------------------------------------------------------------------===//

enum class Opcode : uint8_t {
  Unreachable = 0x00,
  Nop = 0x01,
  Block = 0x02,
  Loop = 0x03,
  If = 0x04,
  Else = 0x05,
  End = 0x0B,
};

class CodeValidator {
public:
  CodeValidator(Reader &reader, const Context &context,
                const ImportLimits &limits)
      : r(reader), context(context), limits(limits) {}

  /// Validates one function body (locals and instructions), which must end
  /// exactly where the reader ends.
  bool function(const FuncType &type);
  /// Validates a constant expression producing one value of type `expected`;
  /// the functions it references are added to `funcRefs`. As in WebAssembly
  /// 2.0, it may only read imported (and immutable) globals.
  bool constantExpression(ValType expected,
                          llvm::SmallVectorImpl<uint32_t> *funcRefs);

private:
  struct Frame {
    uint8_t opcode;
    TypeList startTypes, endTypes;
    size_t height;
    bool unreachable = false;
  };

  bool fail(const llvm::Twine &message) {
    return r.failAt(instructionOffset, message);
  }
  bool mismatch(ValType expected, ValType actual) {
    return fail(llvm::Twine("type mismatch in ") + instructionName +
                ": expected " + typeName(expected) + ", found " +
                typeName(actual));
  }

  void push(ValType type) { values.push_back(type); }
  void push(llvm::ArrayRef<ValType> types) {
    values.append(types.begin(), types.end());
  }
  bool popAny(ValType &type) {
    Frame &frame = frames.back();
    if (values.size() == frame.height) {
      if (frame.unreachable) {
        type = ValType::Unknown;
        return true;
      }
      return fail(llvm::Twine("type mismatch in ") + instructionName +
                  ": the operand stack is empty");
    }
    type = values.pop_back_val();
    return true;
  }
  bool pop(ValType expected) {
    ValType actual = ValType::Unknown;
    if (!popAny(actual))
      return false;
    if (actual != expected && actual != ValType::Unknown &&
        expected != ValType::Unknown)
      return mismatch(expected, actual);
    return true;
  }
  bool pop(llvm::ArrayRef<ValType> types) {
    for (ValType type : llvm::reverse(types))
      if (!pop(type))
        return false;
    return true;
  }
  void pushFrame(uint8_t opcode, TypeList in, TypeList out) {
    frames.push_back({opcode, std::move(in), std::move(out), values.size()});
    push(frames.back().startTypes);
  }
  bool popFrame(Frame &frame) {
    if (frames.empty())
      return fail("unexpected end of a block");
    if (!pop(frames.back().endTypes))
      return false;
    if (values.size() != frames.back().height)
      return fail(
          llvm::Twine("type mismatch: values remain on the stack at "
                      "the end of a ") +
          (frames.back().opcode == uint8_t(Opcode::Loop) ? "loop" : "block"));
    frame = frames.pop_back_val();
    return true;
  }
  const TypeList &labelTypes(const Frame &frame) {
    return frame.opcode == uint8_t(Opcode::Loop) ? frame.startTypes
                                                 : frame.endTypes;
  }
  void setUnreachable() {
    values.resize(frames.back().height);
    frames.back().unreachable = true;
  }

  bool label(const Frame *&frame) {
    uint32_t depth;
    if (!r.u32(depth))
      return false;
    if (depth >= frames.size())
      return fail("unknown label " + llvm::Twine(depth));
    frame = &frames[frames.size() - 1 - depth];
    return true;
  }
  bool blockType(TypeList &in, TypeList &out);
  bool memoryArgument(unsigned naturalBytes);
  bool requireMemory();
  bool zeroByte();
  bool instruction(uint8_t opcode);
  bool prefixedInstruction();
  bool atomicInstruction();
  bool unary(ValType in, ValType out) {
    if (!pop(in))
      return false;
    push(out);
    return true;
  }
  bool binary(ValType in, ValType out) {
    if (!pop(in) || !pop(in))
      return false;
    push(out);
    return true;
  }
  bool tableIndex(uint32_t &index) {
    if (!r.u32(index))
      return false;
    if (index >= context.tables.size())
      return fail("unknown table " + llvm::Twine(index));
    return true;
  }
  bool elemIndex(uint32_t &index) {
    if (!r.u32(index))
      return false;
    if (index >= context.elems.size())
      return fail("unknown elem segment " + llvm::Twine(index));
    return true;
  }
  bool dataIndex() {
    uint32_t index;
    if (!r.u32(index))
      return false;
    if (!context.dataCount)
      return fail("data count section required");
    if (index >= *context.dataCount)
      return fail("unknown data segment " + llvm::Twine(index));
    return true;
  }

  Reader &r;
  const Context &context;
  const ImportLimits &limits;
  TypeList locals;
  TypeList results;
  llvm::SmallVector<ValType, 64> values;
  llvm::SmallVector<Frame, 16> frames;
  size_t instructionOffset = 0;
  const char *instructionName = "";
};

bool CodeValidator::blockType(TypeList &in, TypeList &out) {
  size_t start = r.offset();
  int64_t encoded;
  if (!r.signedLeb(33, encoded))
    return false;
  if (encoded >= 0) {
    if (static_cast<uint64_t>(encoded) >= context.types.size())
      return r.failAt(start, "unknown type " + llvm::Twine(encoded));
    const FuncType &type = context.types[encoded];
    in = type.params;
    out = type.results;
    return true;
  }
  switch (encoded) {
  case -64: // 0x40: no results
    return true;
  case -1:
  case -2:
  case -3:
  case -4:
  case -16:
  case -17:
    out.push_back(static_cast<ValType>(encoded & 0x7F));
    return true;
  case -5:
    return r.failAt(start, "SIMD (the v128 type) is not supported yet");
  default:
    return r.failAt(start, "malformed block type");
  }
}

bool CodeValidator::requireMemory() {
  if (context.memories == 0)
    return fail(llvm::Twine("unknown memory 0 in ") + instructionName);
  return true;
}

bool CodeValidator::zeroByte() {
  uint8_t b;
  if (!r.byte(b))
    return false;
  if (b != 0)
    return fail("zero byte expected (a memory index beyond 0 needs the "
                "multi-memory proposal)");
  return true;
}

bool CodeValidator::memoryArgument(unsigned naturalBytes) {
  uint32_t align, offset;
  if (!r.u32(align) || !r.u32(offset))
    return false;
  if (align >= 32 || (uint64_t(1) << align) > naturalBytes)
    return fail(llvm::Twine("alignment must not be larger than natural in ") +
                instructionName);
  return requireMemory();
}

bool CodeValidator::function(const FuncType &type) {
  uint32_t groups;
  if (!r.count(groups, 2))
    return false;
  locals.assign(type.params.begin(), type.params.end());
  uint64_t declared = 0;
  for (uint32_t i = 0; i < groups; ++i) {
    uint32_t n;
    ValType localType;
    size_t start = r.offset();
    if (!r.u32(n) || !r.valType(localType))
      return false;
    declared += n;
    if (declared > UINT32_MAX)
      return r.failAt(start, "too many locals");
    if (declared > limits.maxLocals)
      return r.failAt(start, llvm::formatv("the function declares {0} locals, "
                                           "more than the limit of {1}",
                                           declared, limits.maxLocals));
    locals.append(n, localType);
  }
  results = type.results;
  frames.clear();
  values.clear();
  pushFrame(uint8_t(Opcode::Block), {}, results);
  while (!frames.empty()) {
    instructionOffset = r.offset();
    uint8_t opcode;
    if (!r.byte(opcode))
      return false;
    if (!instruction(opcode))
      return false;
  }
  if (!r.atEnd())
    return r.fail("section size mismatch: bytes follow the function's end");
  return true;
}

bool CodeValidator::constantExpression(
    ValType expected, llvm::SmallVectorImpl<uint32_t> *funcRefs) {
  values.clear();
  frames.clear();
  frames.push_back({uint8_t(Opcode::Block), {}, {}, 0});
  while (true) {
    instructionOffset = r.offset();
    uint8_t opcode;
    if (!r.byte(opcode))
      return false;
    switch (opcode) {
    case 0x0B: // end
      instructionName = "a constant expression";
      if (values.size() != 1)
        return fail(llvm::Twine("type mismatch: a constant expression must "
                                "produce one ") +
                    typeName(expected) + ", not " + llvm::Twine(values.size()) +
                    " values");
      if (values[0] != expected)
        return mismatch(expected, values[0]);
      return true;
    case 0x41: {
      int64_t v;
      if (!r.signedLeb(32, v))
        return false;
      push(ValType::I32);
      break;
    }
    case 0x42: {
      int64_t v;
      if (!r.signedLeb(64, v))
        return false;
      push(ValType::I64);
      break;
    }
    case 0x43:
      if (!r.skip(4))
        return false;
      push(ValType::F32);
      break;
    case 0x44:
      if (!r.skip(8))
        return false;
      push(ValType::F64);
      break;
    case 0xD0: {
      ValType type;
      if (!r.refType(type))
        return false;
      push(type);
      break;
    }
    case 0xD2: {
      uint32_t index;
      if (!r.u32(index))
        return false;
      if (index >= context.funcs.size())
        return fail("unknown function " + llvm::Twine(index));
      if (funcRefs)
        funcRefs->push_back(index);
      push(ValType::FuncRef);
      break;
    }
    case 0x23: {
      uint32_t index;
      if (!r.u32(index))
        return false;
      if (index >= context.importedGlobals)
        return fail("unknown global " + llvm::Twine(index) +
                    ": a constant expression may only read imported globals");
      if (context.globals[index].isMutable)
        return fail("constant expression required: global " +
                    llvm::Twine(index) + " is mutable");
      push(context.globals[index].type);
      break;
    }
    default:
      return fail(llvm::formatv("constant expression required: opcode {0:x2} "
                                "is not a constant instruction",
                                opcode));
    }
  }
}

bool CodeValidator::instruction(uint8_t opcode) {
  using V = ValType;
  instructionName = "an instruction";
  switch (opcode) {
  case 0x00: // unreachable
    setUnreachable();
    return true;
  case 0x01: // nop
    return true;
  case 0x02:   // block
  case 0x03:   // loop
  case 0x04: { // if
    instructionName = opcode == 0x04 ? "if" : "a block";
    if (frames.size() > limits.maxNestingDepth)
      return fail(llvm::formatv("blocks nest more than {0} deep, the limit",
                                limits.maxNestingDepth));
    TypeList in, out;
    if (!blockType(in, out))
      return false;
    if (opcode == 0x04 && !pop(V::I32))
      return false;
    if (!pop(in))
      return false;
    pushFrame(opcode, std::move(in), std::move(out));
    return true;
  }
  case 0x05: { // else
    instructionName = "else";
    if (frames.back().opcode != 0x04)
      return fail("else without a matching if");
    Frame frame;
    if (!popFrame(frame))
      return false;
    pushFrame(0x05, std::move(frame.startTypes), std::move(frame.endTypes));
    return true;
  }
  case 0x0B: { // end
    instructionName = "end";
    Frame frame;
    if (!popFrame(frame))
      return false;
    // An if without else passes its parameters through as its results.
    if (frame.opcode == 0x04 && frame.startTypes != frame.endTypes)
      return fail("type mismatch: an if without else must have results equal "
                  "to its parameters");
    if (!frames.empty())
      push(frame.endTypes);
    return true;
  }
  case 0x0C: { // br
    instructionName = "br";
    const Frame *target;
    if (!label(target) || !pop(labelTypes(*target)))
      return false;
    setUnreachable();
    return true;
  }
  case 0x0D: { // br_if
    instructionName = "br_if";
    const Frame *target;
    if (!label(target) || !pop(V::I32))
      return false;
    TypeList types = labelTypes(*target);
    if (!pop(types))
      return false;
    push(types);
    return true;
  }
  case 0x0E: { // br_table
    instructionName = "br_table";
    uint32_t count;
    if (!r.count(count))
      return false;
    llvm::SmallVector<const Frame *, 8> targets(count);
    for (uint32_t i = 0; i < count; ++i)
      if (!label(targets[i]))
        return false;
    const Frame *fallback;
    if (!label(fallback) || !pop(V::I32))
      return false;
    size_t arity = labelTypes(*fallback).size();
    // Each target checks the same operands; what is pushed back is what was
    // popped, which stays polymorphic in unreachable code (spec appendix).
    for (const Frame *target : targets) {
      const TypeList &types = labelTypes(*target);
      if (types.size() != arity)
        return fail("type mismatch in br_table: targets carry different "
                    "numbers of values");
      TypeList popped(types.size());
      for (size_t i = types.size(); i-- > 0;) {
        if (!popAny(popped[i]))
          return false;
        if (popped[i] != types[i] && popped[i] != V::Unknown)
          return mismatch(types[i], popped[i]);
      }
      push(popped);
    }
    if (!pop(labelTypes(*fallback)))
      return false;
    setUnreachable();
    return true;
  }
  case 0x0F: // return
    instructionName = "return";
    if (!pop(results))
      return false;
    setUnreachable();
    return true;
  case 0x10: { // call
    instructionName = "call";
    uint32_t index;
    if (!r.u32(index))
      return false;
    if (index >= context.funcs.size())
      return fail("unknown function " + llvm::Twine(index));
    const FuncType &type = context.types[context.funcs[index]];
    if (!pop(type.params))
      return false;
    push(type.results);
    return true;
  }
  case 0x11: { // call_indirect
    instructionName = "call_indirect";
    uint32_t typeIndex, table;
    if (!r.u32(typeIndex))
      return false;
    if (typeIndex >= context.types.size())
      return fail("unknown type " + llvm::Twine(typeIndex));
    if (!tableIndex(table))
      return false;
    if (context.tables[table].elemType != V::FuncRef)
      return fail("type mismatch in call_indirect: table " +
                  llvm::Twine(table) + " does not hold funcref");
    const FuncType &type = context.types[typeIndex];
    if (!pop(V::I32) || !pop(type.params))
      return false;
    push(type.results);
    return true;
  }
  case 0x1A: { // drop
    instructionName = "drop";
    ValType ignored;
    return popAny(ignored);
  }
  case 0x1B: { // select
    instructionName = "select";
    ValType first, second;
    if (!pop(V::I32) || !popAny(first) || !popAny(second))
      return false;
    if (!isNumeric(first) || !isNumeric(second))
      return fail("type mismatch in select: selecting references needs a "
                  "typed select");
    if (first != second && first != V::Unknown && second != V::Unknown)
      return mismatch(first, second);
    push(first == V::Unknown ? second : first);
    return true;
  }
  case 0x1C: { // select t*
    instructionName = "select";
    uint32_t count;
    if (!r.count(count))
      return false;
    if (count != 1)
      return fail("invalid result arity: a typed select names one type");
    ValType type;
    if (!r.valType(type) || !pop(V::I32) || !pop(type) || !pop(type))
      return false;
    push(type);
    return true;
  }
  case 0x20:   // local.get
  case 0x21:   // local.set
  case 0x22: { // local.tee
    instructionName = opcode == 0x20   ? "local.get"
                      : opcode == 0x21 ? "local.set"
                                       : "local.tee";
    uint32_t index;
    if (!r.u32(index))
      return false;
    if (index >= locals.size())
      return fail("unknown local " + llvm::Twine(index));
    ValType type = locals[index];
    if (opcode == 0x20) {
      push(type);
      return true;
    }
    if (!pop(type))
      return false;
    if (opcode == 0x22)
      push(type);
    return true;
  }
  case 0x23:   // global.get
  case 0x24: { // global.set
    instructionName = opcode == 0x23 ? "global.get" : "global.set";
    uint32_t index;
    if (!r.u32(index))
      return false;
    if (index >= context.globals.size())
      return fail("unknown global " + llvm::Twine(index));
    const GlobalType &global = context.globals[index];
    if (opcode == 0x23) {
      push(global.type);
      return true;
    }
    if (!global.isMutable)
      return fail("global is immutable: global.set of global " +
                  llvm::Twine(index));
    return pop(global.type);
  }
  case 0x25:   // table.get
  case 0x26: { // table.set
    instructionName = opcode == 0x25 ? "table.get" : "table.set";
    uint32_t table;
    if (!tableIndex(table))
      return false;
    ValType elem = context.tables[table].elemType;
    if (opcode == 0x25)
      return unary(V::I32, elem);
    return pop(elem) && pop(V::I32);
  }
  case 0x3F: // memory.size
    instructionName = "memory.size";
    if (!zeroByte() || !requireMemory())
      return false;
    push(V::I32);
    return true;
  case 0x40: // memory.grow
    instructionName = "memory.grow";
    return zeroByte() && requireMemory() && unary(V::I32, V::I32);
  case 0x41: { // i32.const
    int64_t v;
    if (!r.signedLeb(32, v))
      return false;
    push(V::I32);
    return true;
  }
  case 0x42: { // i64.const
    int64_t v;
    if (!r.signedLeb(64, v))
      return false;
    push(V::I64);
    return true;
  }
  case 0x43: // f32.const
    if (!r.skip(4))
      return false;
    push(V::F32);
    return true;
  case 0x44: // f64.const
    if (!r.skip(8))
      return false;
    push(V::F64);
    return true;
  case 0xFC:
    return prefixedInstruction();
  case 0xFE:
    if (!context.features.threads)
      return fail("illegal opcode fe: atomic instructions need the threads "
                  "proposal, which is not enabled");
    return atomicInstruction();
  case 0xFD:
    return fail("SIMD instructions are not supported yet");
  case 0xD0: { // ref.null
    instructionName = "ref.null";
    ValType type;
    if (!r.refType(type))
      return false;
    push(type);
    return true;
  }
  case 0xD1: { // ref.is_null
    instructionName = "ref.is_null";
    ValType type;
    if (!popAny(type))
      return false;
    if (!isReference(type))
      return fail(llvm::Twine("type mismatch in ref.is_null: expected a "
                              "reference, found ") +
                  typeName(type));
    push(V::I32);
    return true;
  }
  case 0xD2: { // ref.func
    instructionName = "ref.func";
    uint32_t index;
    if (!r.u32(index))
      return false;
    if (index >= context.funcs.size())
      return fail("unknown function " + llvm::Twine(index));
    if (!context.refs.count(index))
      return fail("undeclared function reference " + llvm::Twine(index) +
                  ": a function referenced in code must appear in an element "
                  "segment, export or global initializer");
    push(V::FuncRef);
    return true;
  }
  default:
    break;
  }

  if (opcode >= binary::kFirstMemoryAccess &&
      opcode <
          binary::kFirstMemoryAccess + std::size(binary::kMemoryAccesses)) {
    const binary::MemoryAccess &access =
        binary::kMemoryAccesses[opcode - binary::kFirstMemoryAccess];
    instructionName = access.name;
    auto value = static_cast<ValType>(access.valueType);
    if (!memoryArgument(access.bytes))
      return false;
    if (access.isStore)
      return pop(value) && pop(V::I32);
    return unary(V::I32, value);
  }

  // Numeric instructions, by range.
  instructionName = "a numeric instruction";
  if (opcode == 0x45)
    return unary(V::I32, V::I32); // i32.eqz
  if (opcode >= 0x46 && opcode <= 0x4F)
    return binary(V::I32, V::I32); // i32 comparisons
  if (opcode == 0x50)
    return unary(V::I64, V::I32); // i64.eqz
  if (opcode >= 0x51 && opcode <= 0x5A)
    return binary(V::I64, V::I32);
  if (opcode >= 0x5B && opcode <= 0x60)
    return binary(V::F32, V::I32);
  if (opcode >= 0x61 && opcode <= 0x66)
    return binary(V::F64, V::I32);
  if (opcode >= 0x67 && opcode <= 0x69)
    return unary(V::I32, V::I32);
  if (opcode >= 0x6A && opcode <= 0x78)
    return binary(V::I32, V::I32);
  if (opcode >= 0x79 && opcode <= 0x7B)
    return unary(V::I64, V::I64);
  if (opcode >= 0x7C && opcode <= 0x8A)
    return binary(V::I64, V::I64);
  if (opcode >= 0x8B && opcode <= 0x91)
    return unary(V::F32, V::F32);
  if (opcode >= 0x92 && opcode <= 0x98)
    return binary(V::F32, V::F32);
  if (opcode >= 0x99 && opcode <= 0x9F)
    return unary(V::F64, V::F64);
  if (opcode >= 0xA0 && opcode <= 0xA6)
    return binary(V::F64, V::F64);
  if (opcode >= 0xA7 && opcode <= 0xBF) {
    // Conversions, in opcode order: operand and result types.
    static constexpr V kFrom[] = {
        V::I64, V::F32, V::F32, V::F64, V::F64, V::I32, V::I32, V::F32, V::F32,
        V::F64, V::F64, V::I32, V::I32, V::I64, V::I64, V::F64, V::I32, V::I32,
        V::I64, V::I64, V::F32, V::F32, V::F64, V::I32, V::I64};
    static constexpr V kTo[] = {
        V::I32, V::I32, V::I32, V::I32, V::I32, V::I64, V::I64, V::I64, V::I64,
        V::I64, V::I64, V::F32, V::F32, V::F32, V::F32, V::F32, V::F64, V::F64,
        V::F64, V::F64, V::F64, V::I32, V::I64, V::F32, V::F64};
    return unary(kFrom[opcode - 0xA7], kTo[opcode - 0xA7]);
  }
  if (opcode == 0xC0 || opcode == 0xC1)
    return unary(V::I32, V::I32); // i32.extend8_s, i32.extend16_s
  if (opcode >= 0xC2 && opcode <= 0xC4)
    return unary(V::I64, V::I64); // i64.extend8/16/32_s
  return fail(llvm::formatv("illegal opcode {0:x2}", opcode));
}

/// The threads proposal's instructions (0xFE prefix). Atomic accesses must
/// state exactly their natural alignment.
bool CodeValidator::atomicInstruction() {
  using V = ValType;
  uint32_t sub;
  if (!r.u32(sub))
    return false;
  auto exactMemArg = [&](unsigned naturalBytes) {
    uint32_t align, offset;
    if (!r.u32(align) || !r.u32(offset))
      return false;
    if (align >= 32 || (uint64_t(1) << align) != naturalBytes)
      return fail(llvm::Twine("alignment must be exactly natural in ") +
                  instructionName);
    return requireMemory();
  };
  switch (sub) {
  case 0x00: // memory.atomic.notify
    instructionName = "memory.atomic.notify";
    if (!exactMemArg(4) || !pop(V::I32) || !pop(V::I32))
      return false;
    push(V::I32);
    return true;
  case 0x01: // memory.atomic.wait32
    instructionName = "memory.atomic.wait32";
    if (!exactMemArg(4) || !pop(V::I64) || !pop(V::I32) || !pop(V::I32))
      return false;
    push(V::I32);
    return true;
  case 0x02: // memory.atomic.wait64
    instructionName = "memory.atomic.wait64";
    if (!exactMemArg(8) || !pop(V::I64) || !pop(V::I64) || !pop(V::I32))
      return false;
    push(V::I32);
    return true;
  case 0x03: // atomic.fence
    instructionName = "atomic.fence";
    return zeroByte();
  default:
    break;
  }
  if (sub < binary::kFirstAtomicAccess ||
      sub >= binary::kFirstAtomicAccess + std::size(binary::kAtomicAccesses))
    return fail("illegal opcode fe " + llvm::Twine(sub));
  const binary::AtomicAccess &access =
      binary::kAtomicAccesses[sub - binary::kFirstAtomicAccess];
  instructionName = access.name;
  V value = static_cast<V>(access.valueType);
  if (!exactMemArg(access.bytes))
    return false;
  switch (access.kind) {
  case binary::AtomicKind::Load:
    return unary(V::I32, value);
  case binary::AtomicKind::Store:
    return pop(value) && pop(V::I32);
  case binary::AtomicKind::Rmw:
    if (!pop(value) || !pop(V::I32))
      return false;
    push(value);
    return true;
  case binary::AtomicKind::Cmpxchg:
    if (!pop(value) || !pop(value) || !pop(V::I32))
      return false;
    push(value);
    return true;
  }
  return false;
}

bool CodeValidator::prefixedInstruction() {
  using V = ValType;
  uint32_t sub;
  if (!r.u32(sub))
    return false;
  if (sub <= 7) { // trunc_sat: i32/i64 from f32/f64, signed and unsigned
    instructionName = "trunc_sat";
    V to = sub < 4 ? V::I32 : V::I64;
    V from = (sub / 2) % 2 == 0 ? V::F32 : V::F64;
    return unary(from, to);
  }
  switch (sub) {
  case 8: // memory.init
    instructionName = "memory.init";
    return dataIndex() && zeroByte() && requireMemory() && pop(V::I32) &&
           pop(V::I32) && pop(V::I32);
  case 9: // data.drop
    instructionName = "data.drop";
    return dataIndex();
  case 10: // memory.copy
    instructionName = "memory.copy";
    return zeroByte() && zeroByte() && requireMemory() && pop(V::I32) &&
           pop(V::I32) && pop(V::I32);
  case 11: // memory.fill
    instructionName = "memory.fill";
    return zeroByte() && requireMemory() && pop(V::I32) && pop(V::I32) &&
           pop(V::I32);
  case 12: { // table.init
    instructionName = "table.init";
    uint32_t elem, table;
    if (!elemIndex(elem) || !tableIndex(table))
      return false;
    if (context.elems[elem] != context.tables[table].elemType)
      return fail("type mismatch in table.init: the segment's element type "
                  "differs from the table's");
    return pop(V::I32) && pop(V::I32) && pop(V::I32);
  }
  case 13: { // elem.drop
    instructionName = "elem.drop";
    uint32_t elem;
    return elemIndex(elem);
  }
  case 14: { // table.copy
    instructionName = "table.copy";
    uint32_t dst, src;
    if (!tableIndex(dst) || !tableIndex(src))
      return false;
    if (context.tables[dst].elemType != context.tables[src].elemType)
      return fail("type mismatch in table.copy: the tables hold different "
                  "element types");
    return pop(V::I32) && pop(V::I32) && pop(V::I32);
  }
  case 15: { // table.grow
    instructionName = "table.grow";
    uint32_t table;
    if (!tableIndex(table))
      return false;
    if (!pop(V::I32) || !pop(context.tables[table].elemType))
      return false;
    push(V::I32);
    return true;
  }
  case 16: { // table.size
    instructionName = "table.size";
    uint32_t table;
    if (!tableIndex(table))
      return false;
    push(V::I32);
    return true;
  }
  case 17: { // table.fill
    instructionName = "table.fill";
    uint32_t table;
    if (!tableIndex(table))
      return false;
    return pop(V::I32) && pop(context.tables[table].elemType) && pop(V::I32);
  }
  default:
    return fail("illegal opcode fc " + llvm::Twine(sub));
  }
}

//===----------------------------------------------------------------------===//
// Sections
//===----------------------------------------------------------------------===//

using namespace binary;

/// The position of each known section in the required order.
int sectionRank(uint8_t id) {
  static constexpr int kRank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
  return id < sizeof(kRank) / sizeof(kRank[0]) ? kRank[id] : -1;
}

class ModuleValidator {
public:
  ModuleValidator(llvm::StringRef bytes, const ImportLimits &limits,
                  const ImportFeatures &features,
                  std::vector<CustomSection> *customSections)
      : limits(limits), customSections(customSections), r(bytes, 0, diag) {
    context.features = features;
  }

  bool run();
  ValidationError error() const {
    ValidationError result{diag.message, std::nullopt};
    if (diag.hasOffset)
      result.offset = diag.offset;
    return result;
  }

private:
  bool section(uint8_t id, Reader &s);
  bool typeSection(Reader &s);
  bool importSection(Reader &s);
  bool functionSection(Reader &s);
  bool tableSection(Reader &s);
  bool memorySection(Reader &s);
  bool globalSection(Reader &s);
  bool exportSection(Reader &s);
  bool startSection(Reader &s);
  bool elementSection(Reader &s);
  bool dataCountSection(Reader &s);
  bool codeSection(Reader &s);
  bool dataSection(Reader &s);

  bool limitsOf(Reader &s, uint64_t bound, const char *what,
                bool isMemory = false);
  bool globalType(Reader &s, GlobalType &global);
  bool typeIndex(Reader &s, uint32_t &index);
  bool funcIndex(Reader &s, uint32_t &index);
  bool addMemory(Reader &s, size_t at);
  bool addFunctionTypeLimits(Reader &s, size_t at, const FuncType &type);
  bool limitFailure(const llvm::Twine &message) {
    diag.hasOffset = false;
    return r.fail(message);
  }

  const ImportLimits &limits;
  std::vector<CustomSection> *customSections;
  Diagnostic diag;
  Reader r;
  Context context;
  std::optional<uint32_t> declaredFunctions;
  std::optional<uint32_t> dataSegments;
  bool hasCode = false;
};

bool ModuleValidator::run() {
  llvm::StringRef header;
  if (!r.bytes(4, header))
    return false;
  if (header != llvm::StringRef("\0asm", 4))
    return r.failAt(0, "magic header not detected: not a WebAssembly module");
  if (!r.bytes(4, header))
    return false;
  if (header != llvm::StringRef("\1\0\0\0", 4))
    return r.failAt(4, "unknown binary version: only version 1 exists");

  int lastRank = 0;
  while (!r.atEnd()) {
    size_t idOffset = r.offset();
    uint8_t id;
    uint32_t size;
    if (!r.byte(id) || !r.u32(size))
      return false;
    int rank = sectionRank(id);
    if (rank < 0)
      return r.failAt(idOffset, llvm::formatv("malformed section id {0}", id));
    if (id != kCustomSection) {
      if (rank <= lastRank)
        return r.failAt(idOffset, "unexpected content after last section: "
                                  "section " +
                                      llvm::Twine(int(id)) +
                                      " is out of order or repeated");
      lastRank = rank;
    }
    size_t contentOffset = r.offset();
    llvm::StringRef content;
    if (!r.bytes(size, content))
      return false;
    Reader s(content, contentOffset, diag);
    if (!section(id, s))
      return false;
    if (!s.atEnd())
      return s.fail("section size mismatch: bytes remain at the end of "
                    "section " +
                    llvm::Twine(int(id)));
  }

  uint32_t functions = declaredFunctions.value_or(0);
  if (functions != 0 && !hasCode)
    return r.fail("function and code section have inconsistent lengths: " +
                  llvm::Twine(functions) + " functions but no code section");
  if (context.dataCount && *context.dataCount != dataSegments.value_or(0))
    return r.fail("data count and data section have inconsistent lengths");
  return true;
}

bool ModuleValidator::section(uint8_t id, Reader &s) {
  switch (id) {
  case kCustomSection: {
    llvm::StringRef name;
    if (!s.name(name))
      return false;
    size_t contentOffset = s.offset();
    llvm::StringRef content;
    if (!s.bytes(s.remaining(), content))
      return false;
    if (customSections)
      customSections->push_back({name, content, contentOffset});
    return true;
  }
  case kTypeSection:
    return typeSection(s);
  case kImportSection:
    return importSection(s);
  case kFunctionSection:
    return functionSection(s);
  case kTableSection:
    return tableSection(s);
  case kMemorySection:
    return memorySection(s);
  case kGlobalSection:
    return globalSection(s);
  case kExportSection:
    return exportSection(s);
  case kStartSection:
    return startSection(s);
  case kElementSection:
    return elementSection(s);
  case kDataCountSection:
    return dataCountSection(s);
  case kCodeSection:
    return codeSection(s);
  case kDataSection:
    return dataSection(s);
  default:
    return s.fail("malformed section id");
  }
}

bool ModuleValidator::addFunctionTypeLimits(Reader &s, size_t at,
                                            const FuncType &type) {
  if (type.params.size() > limits.maxParams)
    return s.failAt(at, llvm::formatv("a function type has {0} parameters, "
                                      "more than the limit of {1}",
                                      type.params.size(), limits.maxParams));
  if (type.results.size() > limits.maxResults)
    return s.failAt(at, llvm::formatv("a function type has {0} results, more "
                                      "than the limit of {1}",
                                      type.results.size(), limits.maxResults));
  return true;
}

bool ModuleValidator::typeSection(Reader &s) {
  uint32_t count;
  if (!s.count(count, 3))
    return false;
  context.types.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = s.offset();
    uint8_t form;
    if (!s.byte(form))
      return false;
    if (form != 0x60)
      return s.failAt(at, llvm::formatv("integer representation too long: "
                                        "function type expected (0x60), "
                                        "found {0:x2}",
                                        form));
    FuncType type;
    for (TypeList *list : {&type.params, &type.results}) {
      uint32_t n;
      if (!s.count(n))
        return false;
      list->resize(n);
      for (ValType &t : *list)
        if (!s.valType(t))
          return false;
    }
    if (!addFunctionTypeLimits(s, at, type))
      return false;
    context.types.push_back(std::move(type));
  }
  return true;
}

bool ModuleValidator::typeIndex(Reader &s, uint32_t &index) {
  size_t at = s.offset();
  if (!s.u32(index))
    return false;
  if (index >= context.types.size())
    return s.failAt(at, "unknown type " + llvm::Twine(index));
  return true;
}

bool ModuleValidator::funcIndex(Reader &s, uint32_t &index) {
  size_t at = s.offset();
  if (!s.u32(index))
    return false;
  if (index >= context.funcs.size())
    return s.failAt(at, "unknown function " + llvm::Twine(index));
  return true;
}

bool ModuleValidator::limitsOf(Reader &s, uint64_t bound, const char *what,
                               bool isMemory) {
  size_t at = s.offset();
  uint8_t flags;
  if (!s.byte(flags))
    return false;
  if (flags > 3)
    return s.failAt(at, "integer too large: malformed limits flags");
  if (flags > 1) {
    // 0x02 and 0x03 mark a shared memory (the threads proposal).
    if (!isMemory || !context.features.threads)
      return s.failAt(at, isMemory ? "shared memories need the threads "
                                     "proposal, which is not enabled"
                                   : "integer too large: malformed limits "
                                     "flags");
    if (flags == 2)
      return s.failAt(at, "shared memory must have maximum");
  }
  bool hasMax = flags & 1;
  uint32_t min, max = 0;
  if (!s.u32(min) || (hasMax && !s.u32(max)))
    return false;
  if (min > bound)
    return s.failAt(at,
                    llvm::formatv("{0} size must be at most {1}", what, bound));
  if (hasMax && max > bound)
    return s.failAt(at,
                    llvm::formatv("{0} size must be at most {1}", what, bound));
  if (hasMax && min > max)
    return s.failAt(at, "size minimum must not be greater than maximum");
  return true;
}

/// A global's value type and mutability.
bool ModuleValidator::globalType(Reader &s, GlobalType &global) {
  if (!s.valType(global.type))
    return false;
  size_t at = s.offset();
  uint8_t mutability = 0;
  if (!s.byte(mutability))
    return false;
  if (mutability > 1)
    return s.failAt(at, "malformed mutability");
  global.isMutable = mutability == 1;
  return true;
}

bool ModuleValidator::addMemory(Reader &s, size_t at) {
  if (++context.memories > 1)
    return s.failAt(at, "multiple memories: a WebAssembly 2.0 module has at "
                        "most one");
  return limitsOf(s, 65536, "memory", /*isMemory=*/true);
}

bool ModuleValidator::importSection(Reader &s) {
  uint32_t count;
  if (!s.count(count, 4))
    return false;
  for (uint32_t i = 0; i < count; ++i) {
    llvm::StringRef module, field;
    if (!s.name(module) || !s.name(field))
      return false;
    size_t at = s.offset();
    uint8_t kind;
    if (!s.byte(kind))
      return false;
    switch (kind) {
    case 0x00: {
      uint32_t type;
      if (!typeIndex(s, type))
        return false;
      context.funcs.push_back(type);
      break;
    }
    case 0x01: {
      ValType elem;
      if (!s.refType(elem) || !limitsOf(s, UINT32_MAX, "table"))
        return false;
      context.tables.push_back({elem});
      break;
    }
    case 0x02:
      if (!addMemory(s, at))
        return false;
      break;
    case 0x03: {
      GlobalType global;
      if (!globalType(s, global))
        return false;
      context.globals.push_back(global);
      ++context.importedGlobals;
      break;
    }
    default:
      return s.failAt(at, "malformed import kind");
    }
  }
  if (context.funcs.size() > limits.maxFunctions)
    return limitFailure(llvm::formatv("the module has {0} functions, more "
                                      "than the limit of {1}",
                                      context.funcs.size(),
                                      limits.maxFunctions));
  return true;
}

bool ModuleValidator::functionSection(Reader &s) {
  uint32_t count;
  if (!s.count(count))
    return false;
  if (uint64_t(count) + context.funcs.size() > limits.maxFunctions)
    return limitFailure(llvm::formatv("the module has {0} functions, more "
                                      "than the limit of {1}",
                                      uint64_t(count) + context.funcs.size(),
                                      limits.maxFunctions));
  declaredFunctions = count;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t type;
    if (!typeIndex(s, type))
      return false;
    context.funcs.push_back(type);
  }
  return true;
}

bool ModuleValidator::tableSection(Reader &s) {
  uint32_t count;
  if (!s.count(count, 3))
    return false;
  for (uint32_t i = 0; i < count; ++i) {
    ValType elem;
    if (!s.refType(elem) || !limitsOf(s, UINT32_MAX, "table"))
      return false;
    context.tables.push_back({elem});
  }
  return true;
}

bool ModuleValidator::memorySection(Reader &s) {
  uint32_t count;
  if (!s.count(count, 2))
    return false;
  for (uint32_t i = 0; i < count; ++i)
    if (!addMemory(s, s.offset()))
      return false;
  return true;
}

bool ModuleValidator::globalSection(Reader &s) {
  uint32_t count;
  if (!s.count(count, 4))
    return false;
  for (uint32_t i = 0; i < count; ++i) {
    GlobalType global;
    if (!globalType(s, global))
      return false;
    llvm::SmallVector<uint32_t, 2> funcRefs;
    CodeValidator code(s, context, limits);
    if (!code.constantExpression(global.type, &funcRefs))
      return false;
    context.refs.insert(funcRefs.begin(), funcRefs.end());
    context.globals.push_back(global);
  }
  return true;
}

bool ModuleValidator::exportSection(Reader &s) {
  uint32_t count;
  if (!s.count(count, 3))
    return false;
  llvm::StringSet<> names;
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = s.offset();
    llvm::StringRef name;
    if (!s.name(name))
      return false;
    if (!names.insert(name).second)
      return s.failAt(at, "duplicate export name \"" + name + "\"");
    size_t kindAt = s.offset();
    uint8_t kind;
    uint32_t index;
    if (!s.byte(kind) || !s.u32(index))
      return false;
    uint64_t bound;
    switch (kind) {
    case 0x00:
      bound = context.funcs.size();
      if (index < bound)
        context.refs.insert(index);
      break;
    case 0x01:
      bound = context.tables.size();
      break;
    case 0x02:
      bound = context.memories;
      break;
    case 0x03:
      bound = context.globals.size();
      break;
    default:
      return s.failAt(kindAt, "malformed export kind");
    }
    if (index >= bound)
      return s.failAt(kindAt, "unknown " +
                                  llvm::Twine(kind == 0   ? "function"
                                              : kind == 1 ? "table"
                                              : kind == 2 ? "memory"
                                                          : "global") +
                                  " " + llvm::Twine(index) + " in an export");
  }
  return true;
}

bool ModuleValidator::startSection(Reader &s) {
  size_t at = s.offset();
  uint32_t index;
  if (!funcIndex(s, index))
    return false;
  const FuncType &type = context.types[context.funcs[index]];
  if (!type.params.empty() || !type.results.empty())
    return s.failAt(at, "start function must take and return nothing");
  return true;
}

bool ModuleValidator::elementSection(Reader &s) {
  uint32_t count;
  if (!s.count(count, 2))
    return false;
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = s.offset();
    uint32_t flags;
    if (!s.u32(flags))
      return false;
    if (flags > 7)
      return s.failAt(at, "malformed elements segment kind");
    bool passiveOrDeclarative = flags & 1;
    bool explicitTable = flags & 2;
    bool usesExpressions = flags & 4;
    uint32_t table = 0;
    if (!passiveOrDeclarative && explicitTable && !s.u32(table))
      return false;
    if (!passiveOrDeclarative) {
      if (table >= context.tables.size())
        return s.failAt(at, "unknown table " + llvm::Twine(table));
      CodeValidator code(s, context, limits);
      if (!code.constantExpression(ValType::I32, nullptr))
        return false;
    }
    ValType elemType = ValType::FuncRef;
    if (passiveOrDeclarative || explicitTable) {
      size_t kindAt = s.offset();
      if (usesExpressions) {
        if (!s.refType(elemType))
          return false;
      } else {
        uint8_t kind;
        if (!s.byte(kind))
          return false;
        if (kind != 0x00)
          return s.failAt(kindAt, "malformed element kind");
      }
    }
    uint32_t items;
    if (!s.count(items))
      return false;
    for (uint32_t j = 0; j < items; ++j) {
      if (usesExpressions) {
        llvm::SmallVector<uint32_t, 1> funcRefs;
        CodeValidator code(s, context, limits);
        if (!code.constantExpression(elemType, &funcRefs))
          return false;
        context.refs.insert(funcRefs.begin(), funcRefs.end());
      } else {
        uint32_t index;
        if (!funcIndex(s, index))
          return false;
        context.refs.insert(index);
      }
    }
    if (!passiveOrDeclarative && context.tables[table].elemType != elemType)
      return s.failAt(at, "type mismatch: the segment's element type differs "
                          "from its table's");
    context.elems.push_back(elemType);
  }
  return true;
}

bool ModuleValidator::dataCountSection(Reader &s) {
  uint32_t count;
  if (!s.u32(count))
    return false;
  context.dataCount = count;
  return true;
}

bool ModuleValidator::codeSection(Reader &s) {
  hasCode = true;
  uint32_t count;
  if (!s.count(count))
    return false;
  uint32_t declared = declaredFunctions.value_or(0);
  if (count != declared)
    return s.fail("function and code section have inconsistent lengths: " +
                  llvm::Twine(declared) + " functions, " + llvm::Twine(count) +
                  " bodies");
  size_t firstDefined = context.funcs.size() - declared;
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = s.offset();
    uint32_t size;
    if (!s.u32(size))
      return false;
    if (size > limits.maxFunctionBodyBytes)
      return s.failAt(at, llvm::formatv("the body of function {0} is {1} "
                                        "bytes, more than the limit of {2}",
                                        firstDefined + i, size,
                                        limits.maxFunctionBodyBytes));
    size_t bodyOffset = s.offset();
    llvm::StringRef body;
    if (!s.bytes(size, body))
      return false;
    Reader bodyReader(body, bodyOffset, diag);
    CodeValidator code(bodyReader, context, limits);
    if (!code.function(context.types[context.funcs[firstDefined + i]]))
      return false;
  }
  return true;
}

bool ModuleValidator::dataSection(Reader &s) {
  uint32_t count;
  if (!s.count(count))
    return false;
  dataSegments = count;
  if (context.dataCount && *context.dataCount != count)
    return s.fail("data count and data section have inconsistent lengths");
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = s.offset();
    uint32_t flags;
    if (!s.u32(flags))
      return false;
    if (flags > 2)
      return s.failAt(at, "malformed data segment kind");
    if (flags != 1) {
      uint32_t memory = 0;
      if (flags == 2 && !s.u32(memory))
        return false;
      if (memory >= context.memories)
        return s.failAt(at, "unknown memory " + llvm::Twine(memory));
      CodeValidator code(s, context, limits);
      if (!code.constantExpression(ValType::I32, nullptr))
        return false;
    }
    uint32_t length;
    if (!s.u32(length) || !s.skip(length))
      return false;
  }
  return true;
}

} // namespace

std::optional<ValidationError> mlir::twasm::import_detail::validateBinaryModule(
    llvm::StringRef bytes, const ImportLimits &limits,
    const ImportFeatures &features,
    std::vector<CustomSection> *customSections) {
  ModuleValidator validator(bytes, limits, features, customSections);
  if (validator.run())
    return std::nullopt;
  return validator.error();
}
