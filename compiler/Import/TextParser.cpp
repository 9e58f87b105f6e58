//===- TextParser.cpp - the WebAssembly text format to its binary encoding ===//
//
// Text format: https://webassembly.github.io/spec/core/text/
//
// Three stages: the lexer turns the source into tokens; the parser builds a
// small syntax tree of module fields (folded instructions flattened, names
// unresolved); the encoder resolves names and implicit types and writes the
// binary format, recording where each item came from.
//
//===----------------------------------------------------------------------===//

#include "TextParser.h"

#include "BinaryFormat.h"
#include "Utf8.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <optional>

using namespace mlir::twasm::import_detail;
using llvm::SmallVector;
using llvm::StringRef;

TextPosition EncodedText::positionOf(size_t offset) const {
  auto it = std::upper_bound(
      positions.begin(), positions.end(), offset,
      [](size_t value, const auto &entry) { return value < entry.first; });
  if (it == positions.begin())
    return positions.empty() ? TextPosition{} : positions.front().second;
  return std::prev(it)->second;
}

namespace {

/// Parentheses and blocks may nest this deep; the parser recurses on them.
constexpr unsigned kMaxNesting = 1024;

//===----------------------------------------------------------------------===//
// Tokens
//===----------------------------------------------------------------------===//

enum class TokenKind : uint8_t {
  LParen,
  RParen,
  Keyword,
  Id,
  Number, // starts like a number; parsed as one where one is expected
  String,
  Reserved,
  Eof,
};

struct Token {
  TokenKind kind;
  StringRef text;
  size_t offset;
  /// A string token's value, escapes decoded.
  std::string value;
};

bool isIdChar(char c) {
  if (llvm::isAlnum(c))
    return true;
  switch (c) {
  case '!':
  case '#':
  case '$':
  case '%':
  case '&':
  case '\'':
  case '*':
  case '+':
  case '-':
  case '.':
  case '/':
  case ':':
  case '<':
  case '=':
  case '>':
  case '?':
  case '@':
  case '\\':
  case '^':
  case '_':
  case '`':
  case '|':
  case '~':
    return true;
  default:
    return false;
  }
}

/// Thrown-free failure: the first error is kept, everything else unwinds by
/// returning false.
struct Failure {
  std::optional<TextError> error;
};

class Lexer {
public:
  Lexer(StringRef source, Failure &failure) : source(source), failure(failure) {
    lineStarts.push_back(0);
    for (size_t i = 0; i < source.size(); ++i)
      if (source[i] == '\n')
        lineStarts.push_back(i + 1);
  }

  bool run(std::vector<Token> &tokens) {
    size_t pos = 0;
    while (true) {
      if (!skipBlank(pos))
        return false;
      if (pos >= source.size()) {
        tokens.push_back({TokenKind::Eof, StringRef(), pos, {}});
        return true;
      }
      char c = source[pos];
      if (c == '(') {
        tokens.push_back({TokenKind::LParen, source.substr(pos, 1), pos, {}});
        ++pos;
        continue;
      }
      if (c == ')') {
        tokens.push_back({TokenKind::RParen, source.substr(pos, 1), pos, {}});
        ++pos;
        continue;
      }
      if (!isIdChar(c) && c != '"')
        return fail(
            pos,
            llvm::formatv("unexpected character '{0}'",
                          llvm::isPrint(c)
                              ? std::string(1, c)
                              : llvm::formatv("\\{0:x2}", uint8_t(c)).str()));
      // A token is the longest run of identifier characters and strings; one
      // that mixes them, like `data"a"` or `"a""b"`, is reserved.
      size_t start = pos;
      unsigned strings = 0;
      bool idChars = false;
      std::string value;
      while (pos < source.size()) {
        if (source[pos] == '"') {
          ++strings;
          value.clear();
          if (!scanString(pos, value))
            return false;
        } else if (isIdChar(source[pos])) {
          idChars = true;
          ++pos;
        } else {
          break;
        }
      }
      StringRef text = source.slice(start, pos);
      TokenKind kind = TokenKind::Reserved;
      if (strings == 1 && !idChars)
        kind = TokenKind::String;
      else if (strings == 0 && text[0] == '$' && text.size() > 1)
        kind = TokenKind::Id;
      else if (strings == 0 && text[0] >= 'a' && text[0] <= 'z')
        kind = TokenKind::Keyword;
      else if (strings == 0 &&
               (llvm::isDigit(text[0]) || text[0] == '+' || text[0] == '-'))
        kind = TokenKind::Number;
      tokens.push_back({kind, text, start, std::move(value)});
    }
  }

private:
  bool fail(size_t offset, const llvm::Twine &message);

  bool skipBlank(size_t &pos) {
    while (pos < source.size()) {
      char c = source[pos];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos;
      } else if (source.substr(pos).starts_with(";;")) {
        size_t end = source.find('\n', pos);
        pos = end == StringRef::npos ? source.size() : end + 1;
      } else if (source.substr(pos).starts_with("(;")) {
        size_t start = pos;
        unsigned depth = 0;
        do {
          if (source.substr(pos).starts_with("(;")) {
            ++depth;
            pos += 2;
          } else if (source.substr(pos).starts_with(";)")) {
            --depth;
            pos += 2;
          } else if (pos >= source.size()) {
            return fail(start, "unclosed block comment");
          } else {
            ++pos;
          }
        } while (depth);
      } else {
        break;
      }
    }
    return true;
  }

  bool scanString(size_t &pos, std::string &value) {
    size_t start = pos++;
    while (true) {
      if (pos >= source.size())
        return fail(start, "unclosed string");
      unsigned char c = source[pos];
      if (c == '"') {
        ++pos;
        break;
      }
      if (c < 0x20 || c == 0x7F)
        return fail(pos, "control character in a string");
      if (c != '\\') {
        value += static_cast<char>(c);
        ++pos;
        continue;
      }
      if (pos + 1 >= source.size())
        return fail(start, "unclosed string");
      char escape = source[pos + 1];
      pos += 2;
      switch (escape) {
      case 't':
        value += '\t';
        break;
      case 'n':
        value += '\n';
        break;
      case 'r':
        value += '\r';
        break;
      case '"':
      case '\'':
      case '\\':
        value += escape;
        break;
      case 'u': {
        if (pos >= source.size() || source[pos] != '{')
          return fail(pos, "malformed \\u escape");
        size_t close = source.find('}', pos);
        if (close == StringRef::npos)
          return fail(pos, "malformed \\u escape");
        StringRef digits = source.slice(pos + 1, close);
        uint64_t codePoint;
        if (!parseHexWithUnderscores(digits, codePoint) ||
            (codePoint >= 0xD800 && codePoint < 0xE000) || codePoint > 0x10FFFF)
          return fail(pos, "malformed \\u escape");
        appendUtf8(value, static_cast<uint32_t>(codePoint));
        pos = close + 1;
        break;
      }
      default: {
        if (!llvm::isHexDigit(escape) || pos >= source.size() ||
            !llvm::isHexDigit(source[pos]))
          return fail(pos - 2, "malformed escape in a string");
        value += static_cast<char>(llvm::hexDigitValue(escape) * 16 +
                                   llvm::hexDigitValue(source[pos]));
        ++pos;
      }
      }
    }
    // The characters of the source itself must be UTF-8.
    if (!isValidUtf8(source.slice(start, pos)))
      return fail(start, "malformed UTF-8 encoding in a string");
    return true;
  }

  static bool parseHexWithUnderscores(StringRef digits, uint64_t &value) {
    value = 0;
    bool lastWasDigit = false;
    for (char c : digits) {
      if (c == '_' && lastWasDigit) {
        lastWasDigit = false;
        continue;
      }
      if (!llvm::isHexDigit(c) || value > 0x10FFFF)
        return false;
      value = value * 16 + llvm::hexDigitValue(c);
      lastWasDigit = true;
    }
    return lastWasDigit;
  }

  static void appendUtf8(std::string &out, uint32_t codePoint) {
    if (codePoint < 0x80) {
      out += static_cast<char>(codePoint);
    } else if (codePoint < 0x800) {
      out += static_cast<char>(0xC0 | (codePoint >> 6));
      out += static_cast<char>(0x80 | (codePoint & 0x3F));
    } else if (codePoint < 0x10000) {
      out += static_cast<char>(0xE0 | (codePoint >> 12));
      out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (codePoint & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (codePoint >> 18));
      out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (codePoint & 0x3F));
    }
  }

  StringRef source;
  Failure &failure;
  /// The offset at which each line starts.
  std::vector<size_t> lineStarts;

public:
  /// Line and column (1-based) of a byte offset.
  TextPosition position(size_t offset) const {
    auto next = std::upper_bound(lineStarts.begin(), lineStarts.end(), offset);
    size_t line = next - lineStarts.begin();
    return {static_cast<uint32_t>(line),
            static_cast<uint32_t>(offset - lineStarts[line - 1] + 1)};
  }
};

bool Lexer::fail(size_t offset, const llvm::Twine &message) {
  if (!failure.error)
    failure.error = TextError{message.str(), position(offset)};
  return false;
}

//===----------------------------------------------------------------------===//
// Literals
//===----------------------------------------------------------------------===//

/// Strips the underscores of a digit string, which may only separate digits.
bool stripUnderscores(StringRef digits, bool hex, std::string &out) {
  out.clear();
  bool lastWasDigit = false;
  for (char c : digits) {
    if (c == '_') {
      if (!lastWasDigit)
        return false;
      lastWasDigit = false;
      continue;
    }
    if (hex ? !llvm::isHexDigit(c) : !llvm::isDigit(c))
      return false;
    out += c;
    lastWasDigit = true;
  }
  return lastWasDigit;
}

enum class LiteralStatus : uint8_t { Ok, Malformed, OutOfRange };

/// An unsigned integer literal (`num` or `0x hexnum`) below 2^bits.
LiteralStatus parseUnsigned(StringRef text, unsigned bits, llvm::APInt &value) {
  bool hex = text.consume_front("0x");
  std::string digits;
  if (!stripUnderscores(text, hex, digits))
    return LiteralStatus::Malformed;
  llvm::APInt wide(bits + 8, 0);
  llvm::APInt radix(bits + 8, hex ? 16 : 10);
  for (char c : digits) {
    wide = wide * radix + llvm::APInt(bits + 8, llvm::hexDigitValue(c));
    if (wide.getActiveBits() > bits)
      return LiteralStatus::OutOfRange;
  }
  value = wide.trunc(bits);
  return LiteralStatus::Ok;
}

/// An iN literal: unsigned below 2^N, or signed with `+`/`-` within
/// [-2^(N-1), 2^(N-1)).
LiteralStatus parseInteger(StringRef text, unsigned bits, llvm::APInt &value) {
  bool negative = text.consume_front("-");
  bool positive = !negative && text.consume_front("+");
  llvm::APInt magnitude;
  LiteralStatus status = parseUnsigned(text, bits + 1, magnitude);
  if (status != LiteralStatus::Ok)
    return status;
  llvm::APInt signedLimit = llvm::APInt::getOneBitSet(bits + 1, bits - 1);
  if (negative) {
    if (magnitude.ugt(signedLimit))
      return LiteralStatus::OutOfRange;
    value = (-magnitude).trunc(bits);
  } else if (positive) {
    if (magnitude.uge(signedLimit))
      return LiteralStatus::OutOfRange;
    value = magnitude.trunc(bits);
  } else {
    if (magnitude.getActiveBits() > bits)
      return LiteralStatus::OutOfRange;
    value = magnitude.trunc(bits);
  }
  return LiteralStatus::Ok;
}

/// An fN literal; `bits` is 32 or 64. The value is rounded to nearest; one
/// that rounds to infinity is out of range.
LiteralStatus parseFloat(StringRef text, unsigned bits, uint64_t &result) {
  const llvm::fltSemantics &semantics =
      bits == 32 ? llvm::APFloat::IEEEsingle() : llvm::APFloat::IEEEdouble();
  unsigned significand = bits == 32 ? 23 : 52;
  bool negative = text.starts_with("-");
  if (negative || text.starts_with("+"))
    text = text.drop_front();
  uint64_t sign = negative ? uint64_t(1) << (bits - 1) : 0;
  uint64_t exponentMask = (bits == 32 ? uint64_t(0xFF) : uint64_t(0x7FF))
                          << significand;
  if (text == "inf") {
    result = sign | exponentMask;
    return LiteralStatus::Ok;
  }
  if (text == "nan") {
    result = sign | exponentMask | (uint64_t(1) << (significand - 1));
    return LiteralStatus::Ok;
  }
  if (text.consume_front("nan:0x")) {
    std::string digits;
    if (!stripUnderscores(text, /*hex=*/true, digits))
      return LiteralStatus::Malformed;
    llvm::APInt payload;
    if (parseUnsigned("0x" + digits, significand + 1, payload) !=
            LiteralStatus::Ok ||
        payload.isZero() || payload.getActiveBits() > significand)
      return LiteralStatus::OutOfRange;
    result = sign | exponentMask | payload.getZExtValue();
    return LiteralStatus::Ok;
  }

  // Split into mantissa (integer and fraction) and exponent, checking each
  // part's digits and underscores, then let APFloat round the clean string.
  bool hex = text.consume_front("0x");
  char exponentMarker = hex ? 'p' : 'e';
  size_t exponentAt = text.find_insensitive(exponentMarker);
  StringRef mantissa = text.substr(0, exponentAt);
  StringRef exponent =
      exponentAt == StringRef::npos ? StringRef() : text.substr(exponentAt + 1);
  size_t dot = mantissa.find('.');
  StringRef integerPart = mantissa.substr(0, dot);
  StringRef fractionPart =
      dot == StringRef::npos ? StringRef() : mantissa.substr(dot + 1);
  std::string integer, fraction, exponentDigits;
  if (!stripUnderscores(integerPart, hex, integer))
    return LiteralStatus::Malformed;
  if (!fractionPart.empty() && !stripUnderscores(fractionPart, hex, fraction))
    return LiteralStatus::Malformed;
  std::string clean = (hex ? "0x" : "") + integer;
  if (!fraction.empty())
    clean += "." + fraction;
  if (exponentAt != StringRef::npos) {
    bool negativeExponent = exponent.starts_with("-");
    if (negativeExponent || exponent.starts_with("+"))
      exponent = exponent.drop_front();
    if (!stripUnderscores(exponent, /*hex=*/false, exponentDigits))
      return LiteralStatus::Malformed;
    clean += std::string(1, exponentMarker) + (negativeExponent ? "-" : "") +
             exponentDigits;
  } else if (hex) {
    clean += "p0"; // APFloat wants an exponent on hexadecimal floats
  }
  llvm::APFloat value(semantics);
  auto status =
      value.convertFromString(clean, llvm::RoundingMode::NearestTiesToEven);
  if (!status) {
    llvm::consumeError(status.takeError());
    return LiteralStatus::Malformed;
  }
  if (*status & llvm::APFloat::opOverflow || value.isInfinity())
    return LiteralStatus::OutOfRange;
  result = sign | value.bitcastToAPInt().getZExtValue();
  return LiteralStatus::Ok;
}

//===----------------------------------------------------------------------===//
// Syntax tree
//===----------------------------------------------------------------------===//

using binary::ValType;

struct FuncType {
  SmallVector<ValType, 4> params, results;
  bool operator==(const FuncType &other) const {
    return params == other.params && results == other.results;
  }
};

/// A reference to a definition (or label or local), by index or by $name.
struct Ref {
  bool present = false;
  bool byName = false;
  StringRef name;
  uint32_t index = 0;
  uint32_t token = 0;
};

struct TypeUse {
  Ref type;
  FuncType inlineType;
  bool hasInline = false;
  SmallVector<StringRef, 4> paramNames;
  uint32_t token = 0;
  /// Resolved when encoding.
  uint32_t index = 0;
};

enum class Imm : uint8_t {
  None,
  Block,
  Else,
  End,
  Label,
  BrTable,
  Func,
  CallIndirect,
  Local,
  Global,
  TableOpt,
  TableCopy,
  TableInit,
  Elem,
  Data,
  MemArg,
  MemZero,
  MemZeroZero,
  DataAndZero,
  I32,
  I64,
  F32,
  F64,
  Select,
  RefNull,
};

struct OpInfo {
  StringRef name;
  uint8_t prefix; // 0, 0xFC or 0xFE
  uint32_t code;
  Imm imm;
  uint8_t natural = 0; // memory access width in bytes
};

struct Instr {
  const OpInfo *op = nullptr;
  uint32_t token = 0;
  Ref a, b;
  uint64_t bits = 0;  // constants; memarg offset
  uint32_t align = 0; // memarg alignment in bytes; 0 = natural
  int32_t extra = -1; // block type, label list or type list index
  StringRef label;    // block/loop/if/else/end label
};

/// `i32.const 0`, the offset of the segments that table and memory
/// abbreviations create.
Instr zeroOffset(const OpInfo &i32Const, uint32_t token) {
  Instr instr;
  instr.op = &i32Const;
  instr.token = token;
  return instr;
}

/// A sequence of instructions with the side tables some of them use.
struct Code {
  std::vector<Instr> instrs;
  std::vector<TypeUse> blockTypes;
  std::vector<SmallVector<Ref, 4>> labelLists;
  std::vector<SmallVector<ValType, 1>> typeLists;
};

struct Import {
  std::string module, name;
};

enum class Kind : uint8_t { Func = 0, Table = 1, Memory = 2, Global = 3 };

struct Export {
  std::string name;
  Kind kind;
  Ref target;
  uint32_t token;
};

struct FuncDef {
  StringRef id;
  uint32_t token;
  std::optional<Import> import;
  TypeUse type;
  SmallVector<ValType, 8> locals;
  SmallVector<StringRef, 8> localNames;
  Code body;
};

struct TableDef {
  StringRef id;
  uint32_t token;
  std::optional<Import> import;
  ValType elemType;
  uint64_t min = 0;
  std::optional<uint64_t> max;
};

struct MemoryDef {
  StringRef id;
  uint32_t token;
  std::optional<Import> import;
  uint64_t min = 0;
  std::optional<uint64_t> max;
  /// The threads proposal's `shared` (whether it is allowed, and that it
  /// needs a maximum, is the validator's business).
  bool shared = false;
};

struct GlobalDef {
  StringRef id;
  uint32_t token;
  std::optional<Import> import;
  ValType type;
  bool isMutable = false;
  Code init;
};

enum class SegmentMode : uint8_t { Active, Passive, Declarative };

struct ElemDef {
  StringRef id;
  uint32_t token;
  SegmentMode mode = SegmentMode::Passive;
  Ref table;
  Code offset;
  ValType elemType = ValType::FuncRef;
  bool usesExpressions = false;
  SmallVector<Ref, 8> funcs;
  std::vector<Code> items;
};

struct DataDef {
  StringRef id;
  uint32_t token;
  SegmentMode mode = SegmentMode::Passive;
  Ref memory;
  Code offset;
  std::string bytes;
};

/// A custom section from the annotations proposal's `(@custom "name" ...)`.
struct CustomDef {
  uint32_t token;
  std::string name;
  std::string bytes;
};

struct TypeDef {
  StringRef id;
  uint32_t token;
  FuncType type;
};

struct Module {
  StringRef id;
  std::vector<TypeDef> types;
  // Index spaces in order of appearance (imports come first: enforced).
  std::vector<FuncDef> funcs;
  std::vector<TableDef> tables;
  std::vector<MemoryDef> memories;
  std::vector<GlobalDef> globals;
  std::vector<ElemDef> elems;
  std::vector<DataDef> datas;
  std::vector<Export> exports;
  std::optional<Ref> start;
  /// Imports in order of appearance, across kinds: (kind, index in its space).
  std::vector<std::pair<Kind, uint32_t>> imports;
  std::vector<CustomDef> customs;
};

//===----------------------------------------------------------------------===//
// Instructions: names, encodings and immediates
//===----------------------------------------------------------------------===//

const llvm::StringMap<OpInfo> &opTable() {
  static const llvm::StringMap<OpInfo> table = [] {
    llvm::StringMap<OpInfo> map;
    auto add = [&](StringRef name, uint8_t prefix, uint32_t code, Imm imm,
                   uint8_t natural = 0) {
      map[name] = OpInfo{name, prefix, code, imm, natural};
    };
    add("unreachable", 0, 0x00, Imm::None);
    add("nop", 0, 0x01, Imm::None);
    add("block", 0, 0x02, Imm::Block);
    add("loop", 0, 0x03, Imm::Block);
    add("if", 0, 0x04, Imm::Block);
    add("else", 0, 0x05, Imm::Else);
    add("end", 0, 0x0B, Imm::End);
    add("br", 0, 0x0C, Imm::Label);
    add("br_if", 0, 0x0D, Imm::Label);
    add("br_table", 0, 0x0E, Imm::BrTable);
    add("return", 0, 0x0F, Imm::None);
    add("call", 0, 0x10, Imm::Func);
    add("call_indirect", 0, 0x11, Imm::CallIndirect);
    add("drop", 0, 0x1A, Imm::None);
    add("select", 0, 0x1B, Imm::Select);
    add("local.get", 0, 0x20, Imm::Local);
    add("local.set", 0, 0x21, Imm::Local);
    add("local.tee", 0, 0x22, Imm::Local);
    add("global.get", 0, 0x23, Imm::Global);
    add("global.set", 0, 0x24, Imm::Global);
    add("table.get", 0, 0x25, Imm::TableOpt);
    add("table.set", 0, 0x26, Imm::TableOpt);
    uint32_t code = binary::kFirstMemoryAccess;
    for (const binary::MemoryAccess &access : binary::kMemoryAccesses)
      add(access.name, 0, code++, Imm::MemArg, access.bytes);
    add("memory.size", 0, 0x3F, Imm::MemZero);
    add("memory.grow", 0, 0x40, Imm::MemZero);
    add("i32.const", 0, 0x41, Imm::I32);
    add("i64.const", 0, 0x42, Imm::I64);
    add("f32.const", 0, 0x43, Imm::F32);
    add("f64.const", 0, 0x44, Imm::F64);
    static const char *const numeric[] = {"i32.eqz",
                                          "i32.eq",
                                          "i32.ne",
                                          "i32.lt_s",
                                          "i32.lt_u",
                                          "i32.gt_s",
                                          "i32.gt_u",
                                          "i32.le_s",
                                          "i32.le_u",
                                          "i32.ge_s",
                                          "i32.ge_u",
                                          "i64.eqz",
                                          "i64.eq",
                                          "i64.ne",
                                          "i64.lt_s",
                                          "i64.lt_u",
                                          "i64.gt_s",
                                          "i64.gt_u",
                                          "i64.le_s",
                                          "i64.le_u",
                                          "i64.ge_s",
                                          "i64.ge_u",
                                          "f32.eq",
                                          "f32.ne",
                                          "f32.lt",
                                          "f32.gt",
                                          "f32.le",
                                          "f32.ge",
                                          "f64.eq",
                                          "f64.ne",
                                          "f64.lt",
                                          "f64.gt",
                                          "f64.le",
                                          "f64.ge",
                                          "i32.clz",
                                          "i32.ctz",
                                          "i32.popcnt",
                                          "i32.add",
                                          "i32.sub",
                                          "i32.mul",
                                          "i32.div_s",
                                          "i32.div_u",
                                          "i32.rem_s",
                                          "i32.rem_u",
                                          "i32.and",
                                          "i32.or",
                                          "i32.xor",
                                          "i32.shl",
                                          "i32.shr_s",
                                          "i32.shr_u",
                                          "i32.rotl",
                                          "i32.rotr",
                                          "i64.clz",
                                          "i64.ctz",
                                          "i64.popcnt",
                                          "i64.add",
                                          "i64.sub",
                                          "i64.mul",
                                          "i64.div_s",
                                          "i64.div_u",
                                          "i64.rem_s",
                                          "i64.rem_u",
                                          "i64.and",
                                          "i64.or",
                                          "i64.xor",
                                          "i64.shl",
                                          "i64.shr_s",
                                          "i64.shr_u",
                                          "i64.rotl",
                                          "i64.rotr",
                                          "f32.abs",
                                          "f32.neg",
                                          "f32.ceil",
                                          "f32.floor",
                                          "f32.trunc",
                                          "f32.nearest",
                                          "f32.sqrt",
                                          "f32.add",
                                          "f32.sub",
                                          "f32.mul",
                                          "f32.div",
                                          "f32.min",
                                          "f32.max",
                                          "f32.copysign",
                                          "f64.abs",
                                          "f64.neg",
                                          "f64.ceil",
                                          "f64.floor",
                                          "f64.trunc",
                                          "f64.nearest",
                                          "f64.sqrt",
                                          "f64.add",
                                          "f64.sub",
                                          "f64.mul",
                                          "f64.div",
                                          "f64.min",
                                          "f64.max",
                                          "f64.copysign",
                                          "i32.wrap_i64",
                                          "i32.trunc_f32_s",
                                          "i32.trunc_f32_u",
                                          "i32.trunc_f64_s",
                                          "i32.trunc_f64_u",
                                          "i64.extend_i32_s",
                                          "i64.extend_i32_u",
                                          "i64.trunc_f32_s",
                                          "i64.trunc_f32_u",
                                          "i64.trunc_f64_s",
                                          "i64.trunc_f64_u",
                                          "f32.convert_i32_s",
                                          "f32.convert_i32_u",
                                          "f32.convert_i64_s",
                                          "f32.convert_i64_u",
                                          "f32.demote_f64",
                                          "f64.convert_i32_s",
                                          "f64.convert_i32_u",
                                          "f64.convert_i64_s",
                                          "f64.convert_i64_u",
                                          "f64.promote_f32",
                                          "i32.reinterpret_f32",
                                          "i64.reinterpret_f64",
                                          "f32.reinterpret_i32",
                                          "f64.reinterpret_i64",
                                          "i32.extend8_s",
                                          "i32.extend16_s",
                                          "i64.extend8_s",
                                          "i64.extend16_s",
                                          "i64.extend32_s"};
    code = 0x45;
    for (const char *name : numeric)
      add(name, 0, code++, Imm::None);
    add("ref.null", 0, 0xD0, Imm::RefNull);
    add("ref.is_null", 0, 0xD1, Imm::None);
    add("ref.func", 0, 0xD2, Imm::Func);
    static const char *const saturating[] = {
        "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s",
        "i32.trunc_sat_f64_u", "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u",
        "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u"};
    code = 0;
    for (const char *name : saturating)
      add(name, 0xFC, code++, Imm::None);
    add("memory.init", 0xFC, 8, Imm::DataAndZero);
    add("data.drop", 0xFC, 9, Imm::Data);
    add("memory.copy", 0xFC, 10, Imm::MemZeroZero);
    add("memory.fill", 0xFC, 11, Imm::MemZero);
    add("table.init", 0xFC, 12, Imm::TableInit);
    add("elem.drop", 0xFC, 13, Imm::Elem);
    add("table.copy", 0xFC, 14, Imm::TableCopy);
    add("table.grow", 0xFC, 15, Imm::TableOpt);
    add("table.size", 0xFC, 16, Imm::TableOpt);
    add("table.fill", 0xFC, 17, Imm::TableOpt);
    // The threads proposal (validated only where it is enabled).
    add("memory.atomic.notify", 0xFE, 0x00, Imm::MemArg, 4);
    add("memory.atomic.wait32", 0xFE, 0x01, Imm::MemArg, 4);
    add("memory.atomic.wait64", 0xFE, 0x02, Imm::MemArg, 8);
    add("atomic.fence", 0xFE, 0x03, Imm::MemZero);
    code = binary::kFirstAtomicAccess;
    for (const binary::AtomicAccess &access : binary::kAtomicAccesses)
      add(access.name, 0xFE, code++, Imm::MemArg, access.bytes);
    return map;
  }();
  return table;
}

bool isSimdKeyword(StringRef keyword) {
  for (StringRef prefix :
       {"v128", "i8x16.", "i16x8.", "i32x4.", "i64x2.", "f32x4.", "f64x2."})
    if (keyword.starts_with(prefix))
      return true;
  return false;
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

class Parser {
public:
  Parser(const std::vector<Token> &tokens, const Lexer &lexer, Failure &failure)
      : tokens(tokens), lexer(lexer), failure(failure) {}

  bool parseModule(Module &module);

  TextPosition position(uint32_t token) const {
    // A parser may stand past the last token (end of input) when it fails.
    size_t index = std::min<size_t>(token, tokens.size() - 1);
    return lexer.position(tokens[index].offset);
  }

private:
  // Token access.
  const Token &peek(unsigned ahead = 0) const {
    size_t index = std::min(pos + ahead, tokens.size() - 1);
    return tokens[index];
  }
  bool atKeyword(StringRef keyword, unsigned ahead = 0) const {
    return peek(ahead).kind == TokenKind::Keyword &&
           peek(ahead).text == keyword;
  }
  /// Whether the next tokens are `(` and the keyword.
  bool atClause(StringRef keyword) const {
    return peek().kind == TokenKind::LParen && atKeyword(keyword, 1);
  }
  uint32_t here() const { return static_cast<uint32_t>(pos); }

  bool fail(uint32_t token, const llvm::Twine &message) {
    if (!failure.error)
      failure.error = TextError{message.str(), position(token)};
    return false;
  }
  bool unexpected() {
    const Token &token = peek();
    if (token.kind == TokenKind::Eof)
      return fail(here(), "unexpected end of input");
    return fail(here(), "unexpected token \"" + token.text + "\"");
  }
  bool expect(TokenKind kind) {
    if (peek().kind != kind)
      return unexpected();
    ++pos;
    return true;
  }
  bool expectKeyword(StringRef keyword) {
    if (!atKeyword(keyword))
      return unexpected();
    ++pos;
    return true;
  }
  bool enter() {
    if (++depth > kMaxNesting)
      return fail(here(), llvm::formatv("parentheses and blocks nest more than "
                                        "{0} deep, the limit",
                                        kMaxNesting));
    return true;
  }
  void leave() { --depth; }

  // Pieces.
  bool optionalId(StringRef &id) {
    if (peek().kind == TokenKind::Id) {
      id = peek().text;
      ++pos;
    }
    return true;
  }
  bool string(std::string &value) {
    if (peek().kind != TokenKind::String)
      return unexpected();
    value = peek().value;
    ++pos;
    return true;
  }
  bool name(std::string &value) {
    uint32_t token = here();
    if (!string(value))
      return false;
    if (!isValidUtf8(value))
      return fail(token, "malformed UTF-8 encoding in a name");
    return true;
  }
  bool u32(uint64_t &value, const char *what);
  bool index(Ref &ref);
  bool optionalIndex(Ref &ref) {
    if (peek().kind == TokenKind::Id || peek().kind == TokenKind::Number)
      return index(ref);
    return true;
  }
  bool valType(ValType &type);
  bool refType(ValType &type);
  bool heapType(ValType &type);
  bool limits(uint64_t &min, std::optional<uint64_t> &max);
  bool memoryType(MemoryDef &memory);
  bool typeUse(TypeUse &use, bool namedParams);
  bool funcType(FuncType &type);
  bool inlineExports(Kind kind, uint32_t index, Module &module);
  bool inlineImport(std::optional<Import> &import);
  bool globalType(ValType &type, bool &isMutable);

  // Instructions.
  bool instructions(Code &code);
  bool instruction(Code &code);
  bool plainInstruction(Code &code, const OpInfo &op, uint32_t token);
  bool foldedInstruction(Code &code);
  bool blockType(Code &code, Instr &instr);
  bool endLabel(StringRef label, uint32_t token);
  bool isInstructionStart() const;
  bool constantExpression(Code &code);

  // Fields.
  bool field(Module &module);
  bool annotation(Module &module);
  bool typeField(Module &module);
  bool importField(Module &module);
  bool funcField(Module &module);
  bool tableField(Module &module);
  bool memoryField(Module &module);
  bool globalField(Module &module);
  bool exportField(Module &module);
  bool startField(Module &module);
  bool elemField(Module &module);
  bool dataField(Module &module);
  bool elemList(ElemDef &elem, bool allowBareFuncs);
  bool elemItem(Code &item);
  bool importAllowed(Module &module, uint32_t token);
  template <typename Def>
  bool definitionHead(Def &def, Kind kind, uint32_t index, const char *what,
                      Module &module);

  const std::vector<Token> &tokens;
  const Lexer &lexer;
  Failure &failure;
  size_t pos = 0;
  unsigned depth = 0;
  /// The first definition (not import) of a function, table, memory or
  /// global, after which imports are malformed.
  std::optional<StringRef> firstDefinition;
};

bool Parser::u32(uint64_t &value, const char *what) {
  uint32_t token = here();
  if (peek().kind != TokenKind::Number)
    return unexpected();
  llvm::APInt parsed;
  switch (parseUnsigned(peek().text, 32, parsed)) {
  case LiteralStatus::Ok:
    value = parsed.getZExtValue();
    ++pos;
    return true;
  case LiteralStatus::OutOfRange:
    return fail(token, llvm::Twine("i32 constant out of range: ") + what +
                           " must fit in 32 bits");
  case LiteralStatus::Malformed:
    break;
  }
  return fail(token, "malformed number \"" + peek().text + "\"");
}

bool Parser::index(Ref &ref) {
  ref.present = true;
  ref.token = here();
  if (peek().kind == TokenKind::Id) {
    ref.byName = true;
    ref.name = peek().text;
    ++pos;
    return true;
  }
  uint64_t value;
  if (!u32(value, "an index"))
    return false;
  ref.index = static_cast<uint32_t>(value);
  return true;
}

bool Parser::valType(ValType &type) {
  const Token &token = peek();
  if (token.kind == TokenKind::Keyword) {
    static const std::pair<StringRef, ValType> kTypes[] = {
        {"i32", ValType::I32},         {"i64", ValType::I64},
        {"f32", ValType::F32},         {"f64", ValType::F64},
        {"funcref", ValType::FuncRef}, {"externref", ValType::ExternRef}};
    for (auto [name, value] : kTypes)
      if (token.text == name) {
        type = value;
        ++pos;
        return true;
      }
    if (token.text == "v128")
      return fail(here(), "SIMD (the v128 type) is not supported yet");
  }
  return unexpected();
}

bool Parser::refType(ValType &type) {
  uint32_t token = here();
  if (!valType(type))
    return false;
  if (type != ValType::FuncRef && type != ValType::ExternRef)
    return fail(token, "malformed reference type");
  return true;
}

bool Parser::heapType(ValType &type) {
  if (atKeyword("func")) {
    type = ValType::FuncRef;
  } else if (atKeyword("extern")) {
    type = ValType::ExternRef;
  } else {
    return unexpected();
  }
  ++pos;
  return true;
}

bool Parser::limits(uint64_t &min, std::optional<uint64_t> &max) {
  if (!u32(min, "a limit"))
    return false;
  if (peek().kind == TokenKind::Number) {
    uint64_t value;
    if (!u32(value, "a limit"))
      return false;
    max = value;
  }
  return true;
}

/// Limits, then `shared` for a memory of the threads proposal.
bool Parser::memoryType(MemoryDef &memory) {
  if (!limits(memory.min, memory.max))
    return false;
  if (atKeyword("shared")) {
    ++pos;
    memory.shared = true;
  }
  return true;
}

/// `(type x)? (param ...)* (result ...)*`, in that order.
bool Parser::typeUse(TypeUse &use, bool namedParams) {
  use.token = here();
  if (atClause("type")) {
    pos += 2;
    if (!index(use.type) || !expect(TokenKind::RParen))
      return false;
  }
  while (atClause("param")) {
    use.hasInline = true;
    pos += 2;
    if (peek().kind == TokenKind::Id) {
      if (!namedParams)
        return unexpected();
      StringRef id = peek().text;
      ++pos;
      ValType type;
      if (!valType(type) || !expect(TokenKind::RParen))
        return false;
      use.inlineType.params.push_back(type);
      use.paramNames.push_back(id);
      continue;
    }
    while (peek().kind != TokenKind::RParen) {
      ValType type;
      if (!valType(type))
        return false;
      use.inlineType.params.push_back(type);
      use.paramNames.push_back(StringRef());
    }
    ++pos;
  }
  while (atClause("result")) {
    use.hasInline = true;
    pos += 2;
    while (peek().kind != TokenKind::RParen) {
      ValType type;
      if (!valType(type))
        return false;
      use.inlineType.results.push_back(type);
    }
    ++pos;
  }
  return true;
}

/// `(func (param ...)* (result ...)*)` in a type definition.
bool Parser::funcType(FuncType &type) {
  if (!expect(TokenKind::LParen) || !expectKeyword("func"))
    return false;
  TypeUse use;
  if (atClause("type"))
    return unexpected();
  if (!typeUse(use, /*namedParams=*/true))
    return false;
  type = use.inlineType;
  return expect(TokenKind::RParen);
}

bool Parser::globalType(ValType &type, bool &isMutable) {
  if (atClause("mut")) {
    pos += 2;
    isMutable = true;
    return valType(type) && expect(TokenKind::RParen);
  }
  isMutable = false;
  return valType(type);
}

bool Parser::inlineExports(Kind kind, uint32_t index, Module &module) {
  while (atClause("export")) {
    uint32_t token = here();
    pos += 2;
    Export exp{{}, kind, {}, token};
    if (!name(exp.name) || !expect(TokenKind::RParen))
      return false;
    exp.target.present = true;
    exp.target.index = index;
    exp.target.token = token;
    module.exports.push_back(std::move(exp));
  }
  return true;
}

bool Parser::inlineImport(std::optional<Import> &import) {
  if (!atClause("import"))
    return true;
  pos += 2;
  import.emplace();
  return name(import->module) && name(import->name) &&
         expect(TokenKind::RParen);
}

bool Parser::importAllowed(Module &module, uint32_t token) {
  if (firstDefinition)
    return fail(token, "import after " + *firstDefinition);
  return true;
}

/// `( kind id? (export ...)* (import ...)?`, the head a function, table,
/// memory or global field starts with; an inline import is recorded, and a
/// definition makes later imports malformed.
template <typename Def>
bool Parser::definitionHead(Def &def, Kind kind, uint32_t index,
                            const char *what, Module &module) {
  def.token = here();
  pos += 2;
  if (!optionalId(def.id) || !inlineExports(kind, index, module) ||
      !inlineImport(def.import))
    return false;
  if (def.import) {
    if (!importAllowed(module, def.token))
      return false;
    module.imports.push_back({kind, index});
  } else if (!firstDefinition) {
    firstDefinition = what;
  }
  return true;
}

/// One element of a segment: `(item expr)`, or a single folded instruction.
bool Parser::elemItem(Code &item) {
  if (!atClause("item"))
    return foldedInstruction(item);
  pos += 2;
  return constantExpression(item) && expect(TokenKind::RParen);
}

bool Parser::isInstructionStart() const {
  const Token &token = peek();
  if (token.kind == TokenKind::Keyword)
    return !atKeyword("end") && !atKeyword("else");
  if (token.kind == TokenKind::LParen) {
    const Token &head = peek(1);
    if (head.kind != TokenKind::Keyword)
      return true; // reported as a malformed instruction
    StringRef keyword = head.text;
    return keyword != "then" && keyword != "else" && keyword != "param" &&
           keyword != "result" && keyword != "local" && keyword != "type" &&
           keyword != "export" && keyword != "import";
  }
  return false;
}

bool Parser::instructions(Code &code) {
  while (isInstructionStart())
    if (!instruction(code))
      return false;
  return true;
}

bool Parser::instruction(Code &code) {
  if (peek().kind == TokenKind::LParen)
    return foldedInstruction(code);
  uint32_t token = here();
  StringRef keyword = peek().text;
  auto it = opTable().find(keyword);
  if (it == opTable().end()) {
    if (isSimdKeyword(keyword))
      return fail(token, "SIMD instructions are not supported yet");
    return fail(token, "unknown operator \"" + keyword + "\"");
  }
  const OpInfo &op = it->second;
  ++pos;
  if (op.imm != Imm::Block)
    return plainInstruction(code, op, token);

  // block/loop/if label blocktype instr* (else label? instr*)? end label?
  if (!enter())
    return false;
  Instr instr;
  instr.op = &op;
  instr.token = token;
  if (!optionalId(instr.label) || !blockType(code, instr))
    return false;
  StringRef label = instr.label;
  code.instrs.push_back(instr);
  if (!instructions(code))
    return false;
  if (op.code == 0x04 && atKeyword("else")) {
    Instr elseInstr;
    elseInstr.op = &opTable().find("else")->second;
    elseInstr.token = here();
    ++pos;
    if (!endLabel(label, elseInstr.token))
      return false;
    code.instrs.push_back(elseInstr);
    if (!instructions(code))
      return false;
  }
  uint32_t endToken = here();
  if (!expectKeyword("end") || !endLabel(label, endToken))
    return false;
  Instr end;
  end.op = &opTable().find("end")->second;
  end.token = endToken;
  code.instrs.push_back(end);
  leave();
  return true;
}

/// The optional label after `else` or `end` must repeat the block's label.
bool Parser::endLabel(StringRef label, uint32_t token) {
  if (peek().kind != TokenKind::Id)
    return true;
  if (peek().text != label)
    return fail(here(),
                "mismatching label \"" + peek().text + "\"" +
                    (label.empty() ? llvm::Twine(" on an unlabeled block")
                                   : " for block " + label));
  ++pos;
  return true;
}

bool Parser::blockType(Code &code, Instr &instr) {
  TypeUse use;
  if (!typeUse(use, /*namedParams=*/false))
    return false;
  instr.extra = static_cast<int32_t>(code.blockTypes.size());
  code.blockTypes.push_back(std::move(use));
  return true;
}

bool Parser::plainInstruction(Code &code, const OpInfo &op, uint32_t token) {
  Instr instr;
  instr.op = &op;
  instr.token = token;
  switch (op.imm) {
  case Imm::None:
  case Imm::MemZero:
  case Imm::MemZeroZero:
    break;
  case Imm::Else:
  case Imm::End:
  case Imm::Block:
    return fail(token, "\"" + op.name + "\" outside of a block");
  case Imm::Label:
  case Imm::Func:
  case Imm::Local:
  case Imm::Global:
  case Imm::Elem:
  case Imm::Data:
  case Imm::DataAndZero:
    if (!index(instr.a))
      return false;
    break;
  case Imm::BrTable: {
    SmallVector<Ref, 4> labels;
    while (peek().kind == TokenKind::Id || peek().kind == TokenKind::Number) {
      Ref label;
      if (!index(label))
        return false;
      labels.push_back(label);
    }
    if (labels.empty())
      return unexpected();
    instr.extra = static_cast<int32_t>(code.labelLists.size());
    code.labelLists.push_back(std::move(labels));
    break;
  }
  case Imm::CallIndirect:
    if (!optionalIndex(instr.a) || !blockType(code, instr))
      return false;
    break;
  case Imm::TableOpt:
    if (!optionalIndex(instr.a))
      return false;
    break;
  case Imm::TableCopy:
    if (peek().kind == TokenKind::Id || peek().kind == TokenKind::Number)
      if (!index(instr.a) || !index(instr.b))
        return false;
    break;
  case Imm::TableInit: {
    // `table.init x y` (table, element) or `table.init y` (table 0).
    Ref first;
    if (!index(first))
      return false;
    if (peek().kind == TokenKind::Id || peek().kind == TokenKind::Number) {
      instr.a = first;
      if (!index(instr.b))
        return false;
    } else {
      instr.b = first;
    }
    break;
  }
  case Imm::MemArg: {
    if (peek().kind == TokenKind::Keyword &&
        peek().text.starts_with("offset=")) {
      uint32_t at = here();
      llvm::APInt value;
      LiteralStatus status =
          parseUnsigned(peek().text.drop_front(7), 32, value);
      if (status == LiteralStatus::OutOfRange)
        return fail(at, "i32 constant out of range: the offset must fit in 32 "
                        "bits");
      if (status != LiteralStatus::Ok)
        return fail(at, "malformed offset \"" + peek().text + "\"");
      instr.bits = value.getZExtValue();
      ++pos;
    }
    if (peek().kind == TokenKind::Keyword &&
        peek().text.starts_with("align=")) {
      uint32_t at = here();
      llvm::APInt value;
      LiteralStatus status =
          parseUnsigned(peek().text.drop_front(6), 32, value);
      if (status != LiteralStatus::Ok)
        return fail(at, "malformed alignment \"" + peek().text + "\"");
      if (!value.isPowerOf2())
        return fail(at, "alignment must be a power of two");
      instr.align = static_cast<uint32_t>(value.getZExtValue());
      ++pos;
    }
    break;
  }
  case Imm::I32:
  case Imm::I64: {
    unsigned bits = op.imm == Imm::I32 ? 32 : 64;
    if (peek().kind != TokenKind::Number)
      return peek().kind == TokenKind::Reserved ||
                     peek().kind == TokenKind::Keyword
                 ? fail(here(), "unknown operator \"" + peek().text + "\"")
                 : unexpected();
    llvm::APInt value;
    switch (parseInteger(peek().text, bits, value)) {
    case LiteralStatus::Ok:
      instr.bits = value.getZExtValue();
      break;
    case LiteralStatus::OutOfRange:
      return fail(here(), llvm::formatv("constant out of range: {0} does not "
                                        "fit in i{1}",
                                        peek().text, bits));
    case LiteralStatus::Malformed:
      return fail(here(), "unknown operator \"" + peek().text + "\"");
    }
    ++pos;
    break;
  }
  case Imm::F32:
  case Imm::F64: {
    unsigned bits = op.imm == Imm::F32 ? 32 : 64;
    const Token &literal = peek();
    bool looksNumeric = literal.kind == TokenKind::Number ||
                        (literal.kind == TokenKind::Keyword &&
                         (literal.text == "inf" || literal.text == "nan" ||
                          literal.text.starts_with("nan:")));
    if (!looksNumeric)
      return literal.kind == TokenKind::Reserved
                 ? fail(here(), "unknown operator \"" + literal.text + "\"")
                 : unexpected();
    if (literal.text == "nan:arithmetic" || literal.text == "nan:canonical")
      return unexpected(); // only for test-script results
    switch (parseFloat(literal.text, bits, instr.bits)) {
    case LiteralStatus::Ok:
      break;
    case LiteralStatus::OutOfRange:
      return fail(here(), llvm::formatv("constant out of range: {0} as f{1}",
                                        literal.text, bits));
    case LiteralStatus::Malformed:
      return fail(here(), "unknown operator \"" + literal.text + "\"");
    }
    ++pos;
    break;
  }
  case Imm::Select: {
    SmallVector<ValType, 1> results;
    bool typed = false;
    while (atClause("result")) {
      typed = true;
      pos += 2;
      while (peek().kind != TokenKind::RParen) {
        ValType type;
        if (!valType(type))
          return false;
        results.push_back(type);
      }
      ++pos;
    }
    if (typed) {
      instr.extra = static_cast<int32_t>(code.typeLists.size());
      code.typeLists.push_back(std::move(results));
    }
    break;
  }
  case Imm::RefNull: {
    ValType type;
    if (!heapType(type))
      return false;
    instr.bits = static_cast<uint8_t>(type);
    break;
  }
  }
  code.instrs.push_back(instr);
  return true;
}

bool Parser::foldedInstruction(Code &code) {
  if (peek().kind != TokenKind::LParen)
    return unexpected();
  if (!enter())
    return false;
  ++pos; // (
  if (peek().kind != TokenKind::Keyword)
    return unexpected();
  uint32_t token = here();
  StringRef keyword = peek().text;
  auto it = opTable().find(keyword);
  if (it == opTable().end()) {
    if (isSimdKeyword(keyword))
      return fail(token, "SIMD instructions are not supported yet");
    return fail(token, "unknown operator \"" + keyword + "\"");
  }
  const OpInfo &op = it->second;
  ++pos;

  if (op.imm != Imm::Block) {
    // (plaininstr folded*): the operands come first.
    size_t at = code.instrs.size();
    if (!plainInstruction(code, op, token))
      return false;
    Instr instr = code.instrs[at];
    code.instrs.pop_back();
    if (!instructions(code))
      return false;
    if (peek().kind != TokenKind::RParen)
      return unexpected();
    code.instrs.push_back(instr);
    ++pos;
    leave();
    return true;
  }

  Instr instr;
  instr.op = &op;
  instr.token = token;
  if (!optionalId(instr.label) || !blockType(code, instr))
    return false;
  Instr end;
  end.op = &opTable().find("end")->second;

  if (op.code != 0x04) {
    // (block label bt instr*) and (loop label bt instr*)
    code.instrs.push_back(instr);
    if (!instructions(code))
      return false;
    end.token = here();
    if (!expect(TokenKind::RParen))
      return false;
    code.instrs.push_back(end);
    leave();
    return true;
  }

  // (if label bt folded* (then instr*) (else instr*)?): the condition first.
  while (peek().kind == TokenKind::LParen && !atClause("then"))
    if (!foldedInstruction(code))
      return false;
  code.instrs.push_back(instr);
  if (!atClause("then"))
    return unexpected();
  pos += 2;
  if (!instructions(code) || !expect(TokenKind::RParen))
    return false;
  if (atClause("else")) {
    Instr elseInstr;
    elseInstr.op = &opTable().find("else")->second;
    elseInstr.token = here();
    pos += 2;
    code.instrs.push_back(elseInstr);
    if (!instructions(code) || !expect(TokenKind::RParen))
      return false;
  }
  end.token = here();
  if (!expect(TokenKind::RParen))
    return false;
  code.instrs.push_back(end);
  leave();
  return true;
}

bool Parser::constantExpression(Code &code) { return instructions(code); }

//===----------------------------------------------------------------------===//
// Module fields
//===----------------------------------------------------------------------===//

bool Parser::parseModule(Module &module) {
  bool wrapped = atClause("module");
  if (wrapped) {
    pos += 2;
    if (!optionalId(module.id))
      return false;
    if (atKeyword("binary") || atKeyword("quote"))
      return fail(here(), "\"module " + peek().text +
                              "\" is a test-script form, not a module");
  }
  while (peek().kind == TokenKind::LParen)
    if (!field(module))
      return false;
  if (wrapped && !expect(TokenKind::RParen))
    return false;
  if (peek().kind != TokenKind::Eof)
    return unexpected();
  return true;
}

bool Parser::field(Module &module) {
  const Token &head = peek(1);
  if (head.kind == TokenKind::Reserved && head.text.starts_with("@"))
    return annotation(module);
  if (head.kind != TokenKind::Keyword)
    return fail(here() + 1, "unexpected token \"" + head.text +
                                "\": a module field is expected");
  StringRef keyword = head.text;
  if (keyword == "type")
    return typeField(module);
  if (keyword == "import")
    return importField(module);
  if (keyword == "func")
    return funcField(module);
  if (keyword == "table")
    return tableField(module);
  if (keyword == "memory")
    return memoryField(module);
  if (keyword == "global")
    return globalField(module);
  if (keyword == "export")
    return exportField(module);
  if (keyword == "start")
    return startField(module);
  if (keyword == "elem")
    return elemField(module);
  if (keyword == "data")
    return dataField(module);
  return fail(here() + 1, "unknown module field \"" + keyword + "\"");
}

/// `(@custom "name" placement? "bytes"*)` becomes a custom section (placed at
/// the end of the module: the placement only orders custom sections among the
/// others, which nothing here depends on). Other annotations are ignored, as
/// the annotations proposal says; their parentheses must still balance.
bool Parser::annotation(Module &module) {
  uint32_t start = here();
  if (peek(1).text != "@custom") {
    unsigned depth = 0;
    do {
      if (peek().kind == TokenKind::Eof)
        return fail(start, "unclosed annotation");
      if (peek().kind == TokenKind::LParen)
        ++depth;
      else if (peek().kind == TokenKind::RParen)
        --depth;
      ++pos;
    } while (depth != 0);
    return true;
  }
  pos += 2;
  CustomDef custom;
  custom.token = start;
  if (!name(custom.name))
    return false;
  if (peek().kind == TokenKind::LParen) {
    ++pos;
    if (!atKeyword("before") && !atKeyword("after"))
      return fail(here(), "a custom section's placement is (before ...) or "
                          "(after ...)");
    ++pos;
    if (peek().kind != TokenKind::Keyword)
      return unexpected();
    ++pos;
    if (!expect(TokenKind::RParen))
      return false;
  }
  while (peek().kind == TokenKind::String) {
    custom.bytes += peek().value;
    ++pos;
  }
  if (!expect(TokenKind::RParen))
    return false;
  module.customs.push_back(std::move(custom));
  return true;
}

bool Parser::typeField(Module &module) {
  TypeDef type;
  type.token = here();
  pos += 2;
  return optionalId(type.id) && funcType(type.type) &&
         expect(TokenKind::RParen) &&
         (module.types.push_back(std::move(type)), true);
}

bool Parser::importField(Module &module) {
  uint32_t token = here();
  pos += 2;
  Import import;
  if (!importAllowed(module, token) || !name(import.module) ||
      !name(import.name) || !expect(TokenKind::LParen))
    return false;
  uint32_t descToken = here();
  if (atKeyword("func")) {
    ++pos;
    FuncDef func;
    func.token = descToken;
    func.import = std::move(import);
    if (!optionalId(func.id) || !typeUse(func.type, /*namedParams=*/true))
      return false;
    module.imports.push_back({Kind::Func, uint32_t(module.funcs.size())});
    module.funcs.push_back(std::move(func));
  } else if (atKeyword("table")) {
    ++pos;
    TableDef table;
    table.token = descToken;
    table.import = std::move(import);
    if (!optionalId(table.id) || !limits(table.min, table.max) ||
        !refType(table.elemType))
      return false;
    module.imports.push_back({Kind::Table, uint32_t(module.tables.size())});
    module.tables.push_back(std::move(table));
  } else if (atKeyword("memory")) {
    ++pos;
    MemoryDef memory;
    memory.token = descToken;
    memory.import = std::move(import);
    if (!optionalId(memory.id) || !memoryType(memory))
      return false;
    module.imports.push_back({Kind::Memory, uint32_t(module.memories.size())});
    module.memories.push_back(std::move(memory));
  } else if (atKeyword("global")) {
    ++pos;
    GlobalDef global;
    global.token = descToken;
    global.import = std::move(import);
    if (!optionalId(global.id) || !globalType(global.type, global.isMutable))
      return false;
    module.imports.push_back({Kind::Global, uint32_t(module.globals.size())});
    module.globals.push_back(std::move(global));
  } else {
    return unexpected();
  }
  return expect(TokenKind::RParen) && expect(TokenKind::RParen);
}

bool Parser::funcField(Module &module) {
  FuncDef func;
  if (!definitionHead(func, Kind::Func, uint32_t(module.funcs.size()),
                      "function", module) ||
      !typeUse(func.type, /*namedParams=*/true))
    return false;
  if (func.import) {
    if (!expect(TokenKind::RParen))
      return false;
    module.funcs.push_back(std::move(func));
    return true;
  }
  while (atClause("local")) {
    pos += 2;
    if (peek().kind == TokenKind::Id) {
      StringRef id = peek().text;
      ++pos;
      ValType type;
      if (!valType(type) || !expect(TokenKind::RParen))
        return false;
      func.locals.push_back(type);
      func.localNames.push_back(id);
      continue;
    }
    while (peek().kind != TokenKind::RParen) {
      ValType type;
      if (!valType(type))
        return false;
      func.locals.push_back(type);
      func.localNames.push_back(StringRef());
    }
    ++pos;
  }
  if (!instructions(func.body) || !expect(TokenKind::RParen))
    return false;
  module.funcs.push_back(std::move(func));
  return true;
}

bool Parser::tableField(Module &module) {
  TableDef table;
  uint32_t tableIndex = uint32_t(module.tables.size());
  if (!definitionHead(table, Kind::Table, tableIndex, "table", module))
    return false;
  if (peek().kind == TokenKind::Keyword && !table.import) {
    // `reftype (elem ...)`: a table exactly as large as its elements.
    if (!refType(table.elemType) || !expect(TokenKind::LParen) ||
        !expectKeyword("elem"))
      return false;
    ElemDef elem;
    elem.token = here();
    elem.mode = SegmentMode::Active;
    elem.table.present = true;
    elem.table.index = tableIndex;
    elem.offset.instrs.push_back(
        zeroOffset(opTable().find("i32.const")->second, elem.token));
    elem.elemType = table.elemType;
    if (peek().kind == TokenKind::LParen) {
      elem.usesExpressions = true;
      while (peek().kind == TokenKind::LParen) {
        if (!elemItem(elem.items.emplace_back()))
          return false;
      }
    } else {
      while (peek().kind == TokenKind::Id || peek().kind == TokenKind::Number) {
        Ref func;
        if (!index(func))
          return false;
        elem.funcs.push_back(func);
      }
    }
    if (!expect(TokenKind::RParen))
      return false;
    uint64_t count =
        elem.usesExpressions ? elem.items.size() : elem.funcs.size();
    table.min = count;
    table.max = count;
    module.elems.push_back(std::move(elem));
  } else if (!limits(table.min, table.max) || !refType(table.elemType)) {
    return false;
  }
  module.tables.push_back(std::move(table));
  return expect(TokenKind::RParen);
}

bool Parser::memoryField(Module &module) {
  MemoryDef memory;
  uint32_t memoryIndex = uint32_t(module.memories.size());
  if (!definitionHead(memory, Kind::Memory, memoryIndex, "memory", module))
    return false;
  if (atClause("data") && !memory.import) {
    // `(data "..."*)`: a memory exactly as large as its data.
    DataDef data;
    data.token = here();
    pos += 2;
    data.mode = SegmentMode::Active;
    data.memory.present = true;
    data.memory.index = memoryIndex;
    data.offset.instrs.push_back(
        zeroOffset(opTable().find("i32.const")->second, data.token));
    while (peek().kind == TokenKind::String) {
      data.bytes += peek().value;
      ++pos;
    }
    if (!expect(TokenKind::RParen))
      return false;
    uint64_t pages = (data.bytes.size() + 65535) / 65536;
    memory.min = pages;
    memory.max = pages;
    module.datas.push_back(std::move(data));
  } else if (!memoryType(memory)) {
    return false;
  }
  module.memories.push_back(std::move(memory));
  return expect(TokenKind::RParen);
}

bool Parser::globalField(Module &module) {
  GlobalDef global;
  if (!definitionHead(global, Kind::Global, uint32_t(module.globals.size()),
                      "global", module) ||
      !globalType(global.type, global.isMutable) ||
      (!global.import && !constantExpression(global.init)))
    return false;
  module.globals.push_back(std::move(global));
  return expect(TokenKind::RParen);
}

bool Parser::exportField(Module &module) {
  Export exp;
  exp.token = here();
  pos += 2;
  if (!name(exp.name) || !expect(TokenKind::LParen))
    return false;
  static const std::pair<StringRef, Kind> kKinds[] = {{"func", Kind::Func},
                                                      {"table", Kind::Table},
                                                      {"memory", Kind::Memory},
                                                      {"global", Kind::Global}};
  bool known = false;
  for (auto [keyword, kind] : kKinds)
    if (atKeyword(keyword)) {
      exp.kind = kind;
      known = true;
    }
  if (!known)
    return unexpected();
  ++pos;
  if (!index(exp.target) || !expect(TokenKind::RParen) ||
      !expect(TokenKind::RParen))
    return false;
  module.exports.push_back(std::move(exp));
  return true;
}

bool Parser::startField(Module &module) {
  uint32_t token = here();
  pos += 2;
  if (module.start)
    return fail(token, "multiple start sections");
  Ref func;
  if (!index(func) || !expect(TokenKind::RParen))
    return false;
  module.start = func;
  return true;
}

/// `reftype item*` or `func funcidx*`; with `allowBareFuncs`, also a bare
/// `funcidx*` (the legacy abbreviation of active funcref segments).
bool Parser::elemList(ElemDef &elem, bool allowBareFuncs) {
  if (atKeyword("func")) {
    ++pos;
  } else if (peek().kind == TokenKind::Keyword) {
    if (!refType(elem.elemType))
      return false;
    elem.usesExpressions = true;
    while (peek().kind == TokenKind::LParen)
      if (!elemItem(elem.items.emplace_back()))
        return false;
    return true;
  } else if (!allowBareFuncs) {
    return unexpected();
  }
  while (peek().kind == TokenKind::Id || peek().kind == TokenKind::Number) {
    Ref func;
    if (!index(func))
      return false;
    elem.funcs.push_back(func);
  }
  return true;
}

bool Parser::elemField(Module &module) {
  ElemDef elem;
  elem.token = here();
  pos += 2;
  if (!optionalId(elem.id))
    return false;
  if (atKeyword("declare")) {
    ++pos;
    elem.mode = SegmentMode::Declarative;
    if (!elemList(elem, /*allowBareFuncs=*/false))
      return false;
  } else if (peek().kind == TokenKind::LParen) {
    // Active: (table x)? then (offset expr) or a single folded instruction.
    elem.mode = SegmentMode::Active;
    bool explicitTable = false;
    if (atClause("table")) {
      pos += 2;
      explicitTable = true;
      if (!index(elem.table) || !expect(TokenKind::RParen))
        return false;
    } else {
      elem.table.present = true;
      elem.table.index = 0;
    }
    if (atClause("offset")) {
      pos += 2;
      if (!constantExpression(elem.offset) || !expect(TokenKind::RParen))
        return false;
    } else if (!foldedInstruction(elem.offset)) {
      return false;
    }
    if (!elemList(elem, /*allowBareFuncs=*/!explicitTable))
      return false;
  } else {
    elem.mode = SegmentMode::Passive;
    if (!elemList(elem, /*allowBareFuncs=*/false))
      return false;
  }
  module.elems.push_back(std::move(elem));
  return expect(TokenKind::RParen);
}

bool Parser::dataField(Module &module) {
  DataDef data;
  data.token = here();
  pos += 2;
  if (!optionalId(data.id))
    return false;
  if (peek().kind == TokenKind::LParen) {
    data.mode = SegmentMode::Active;
    if (atClause("memory")) {
      pos += 2;
      if (!index(data.memory) || !expect(TokenKind::RParen))
        return false;
    } else {
      data.memory.present = true;
      data.memory.index = 0;
    }
    if (atClause("offset")) {
      pos += 2;
      if (!constantExpression(data.offset) || !expect(TokenKind::RParen))
        return false;
    } else if (!foldedInstruction(data.offset)) {
      return false;
    }
  }
  while (peek().kind == TokenKind::String) {
    data.bytes += peek().value;
    ++pos;
  }
  module.datas.push_back(std::move(data));
  return expect(TokenKind::RParen);
}

//===----------------------------------------------------------------------===//
// Encoder
//===----------------------------------------------------------------------===//

/// Bytes with the text positions of what they encode.
struct Buffer {
  std::string bytes;
  std::vector<std::pair<size_t, TextPosition>> positions;

  void byte(uint8_t value) { bytes += static_cast<char>(value); }
  void u32(uint64_t value) {
    do {
      uint8_t b = value & 0x7F;
      value >>= 7;
      byte(value ? (b | 0x80) : b);
    } while (value);
  }
  void s64(int64_t value) {
    while (true) {
      uint8_t b = value & 0x7F;
      value >>= 7; // arithmetic: the sign is kept
      bool done = (value == 0 && !(b & 0x40)) || (value == -1 && (b & 0x40));
      byte(done ? b : (b | 0x80));
      if (done)
        return;
    }
  }
  void raw(StringRef data) { bytes.append(data.data(), data.size()); }
  void name(StringRef value) {
    u32(value.size());
    raw(value);
  }
  void mark(TextPosition position) {
    positions.push_back({bytes.size(), position});
  }
  /// Appends `inner`, length-prefixed when `sized`.
  void append(const Buffer &inner, bool sized) {
    if (sized)
      u32(inner.bytes.size());
    size_t base = bytes.size();
    for (const auto &[offset, position] : inner.positions)
      positions.push_back({base + offset, position});
    raw(inner.bytes);
  }
};

/// A function type's encoding, which identifies it.
std::string typeKey(const FuncType &type) {
  std::string key;
  key.reserve(type.params.size() + type.results.size() + 1);
  for (ValType param : type.params)
    key += static_cast<char>(param);
  key += '\0';
  for (ValType result : type.results)
    key += static_cast<char>(result);
  return key;
}

class Encoder {
public:
  Encoder(Module &module, const Parser &parser, Failure &failure,
          const TextOptions &options)
      : module(module), parser(parser), failure(failure), options(options) {}

  bool run(EncodedText &encoded);

private:
  bool fail(uint32_t token, const llvm::Twine &message) {
    if (!failure.error)
      failure.error = TextError{message.str(), parser.position(token)};
    return false;
  }

  // Names.
  bool collectNames();
  bool resolve(const Ref &ref, const llvm::StringMap<uint32_t> &names,
               const char *kind, uint32_t &index) {
    if (!ref.byName) {
      index = ref.index;
      return true;
    }
    auto it = names.find(ref.name);
    if (it == names.end())
      return fail(ref.token, llvm::Twine("unknown ") + kind + " " + ref.name);
    index = it->second;
    return true;
  }
  bool resolveTypeUse(TypeUse &use);
  uint32_t typeIndexOf(const FuncType &type);

  // Sections.
  void section(Buffer &out, uint8_t id, const Buffer &content) {
    out.byte(id);
    out.append(content, /*sized=*/true);
  }
  bool code(Buffer &out, const Code &code,
            const llvm::StringMap<uint32_t> *locals);
  bool instr(Buffer &out, const Code &code, const Instr &instr,
             const llvm::StringMap<uint32_t> *locals);
  void limits(Buffer &out, uint64_t min, std::optional<uint64_t> max,
              bool shared = false) {
    // Flags: bit 0 a maximum follows, bit 1 shared (threads proposal).
    out.byte((max ? 1 : 0) | (shared ? 2 : 0));
    out.u32(min);
    if (max)
      out.u32(*max);
  }
  void limits(Buffer &out, const MemoryDef &memory) {
    limits(out, memory.min, memory.max, memory.shared);
  }
  void nameSection(Buffer &out);

  Module &module;
  const Parser &parser;
  Failure &failure;
  const TextOptions &options;
  std::vector<FuncType> types;
  /// The first index of each distinct function type.
  llvm::StringMap<uint32_t> typeIndices;
  llvm::StringMap<uint32_t> typeNames, funcNames, tableNames, memoryNames,
      globalNames, elemNames, dataNames;
  /// The labels of the enclosing blocks, innermost last.
  SmallVector<StringRef, 16> labels;
};

bool Encoder::collectNames() {
  auto collect = [&](auto &defs, llvm::StringMap<uint32_t> &names,
                     const char *kind) {
    for (auto [index, def] : llvm::enumerate(defs)) {
      if (def.id.empty())
        continue;
      if (!names.try_emplace(def.id, index).second)
        return fail(def.token, llvm::Twine("duplicate ") + kind + " " + def.id);
    }
    return true;
  };
  for (auto [index, type] : llvm::enumerate(module.types)) {
    types.push_back(type.type);
    typeIndices.try_emplace(typeKey(type.type), uint32_t(index));
    if (!type.id.empty() && !typeNames.try_emplace(type.id, index).second)
      return fail(type.token, "duplicate type " + type.id);
  }
  return collect(module.funcs, funcNames, "func") &&
         collect(module.tables, tableNames, "table") &&
         collect(module.memories, memoryNames, "memory") &&
         collect(module.globals, globalNames, "global") &&
         collect(module.elems, elemNames, "elem") &&
         collect(module.datas, dataNames, "data");
}

uint32_t Encoder::typeIndexOf(const FuncType &type) {
  auto [it, inserted] =
      typeIndices.try_emplace(typeKey(type), uint32_t(types.size()));
  if (inserted)
    types.push_back(type);
  return it->second;
}

/// Resolves a type use: `(type x)` whose inline form, if any, must agree, or
/// the first matching type, appended if there is none.
bool Encoder::resolveTypeUse(TypeUse &use) {
  if (!use.type.present) {
    use.index = typeIndexOf(use.inlineType);
    return true;
  }
  if (!resolve(use.type, typeNames, "type", use.index))
    return false;
  if (use.index >= types.size())
    return fail(use.type.token, "unknown type " + llvm::Twine(use.index));
  if (use.hasInline && !(types[use.index] == use.inlineType))
    return fail(use.token, "inline function type does not match type " +
                               llvm::Twine(use.index));
  if (!use.hasInline)
    use.inlineType = types[use.index];
  return true;
}

bool Encoder::code(Buffer &out, const Code &code,
                   const llvm::StringMap<uint32_t> *locals) {
  labels.clear();
  for (const Instr &instr : code.instrs)
    if (!this->instr(out, code, instr, locals))
      return false;
  out.byte(0x0B);
  return true;
}

bool Encoder::instr(Buffer &out, const Code &code, const Instr &instr,
                    const llvm::StringMap<uint32_t> *locals) {
  const OpInfo &op = *instr.op;
  out.mark(parser.position(instr.token));
  if (op.prefix) {
    out.byte(op.prefix);
    out.u32(op.code);
  } else {
    out.byte(static_cast<uint8_t>(op.code));
  }
  auto labelDepth = [&](const Ref &ref, uint32_t &depth) {
    if (!ref.byName) {
      depth = ref.index;
      return true;
    }
    for (size_t i = labels.size(); i-- > 0;)
      if (labels[i] == ref.name) {
        depth = static_cast<uint32_t>(labels.size() - 1 - i);
        return true;
      }
    return fail(ref.token, "unknown label " + ref.name);
  };
  uint32_t index = 0;
  switch (op.imm) {
  case Imm::None:
    return true;
  case Imm::Block: {
    TypeUse &use = const_cast<TypeUse &>(code.blockTypes[instr.extra]);
    labels.push_back(instr.label);
    if (!use.type.present && use.inlineType.params.empty() &&
        use.inlineType.results.size() <= 1) {
      if (use.inlineType.results.empty())
        out.byte(0x40);
      else
        out.byte(static_cast<uint8_t>(use.inlineType.results[0]));
      return true;
    }
    if (!resolveTypeUse(use))
      return false;
    out.s64(use.index);
    return true;
  }
  case Imm::Else:
    return true;
  case Imm::End:
    if (!labels.empty())
      labels.pop_back();
    return true;
  case Imm::Label:
    if (!labelDepth(instr.a, index))
      return false;
    out.u32(index);
    return true;
  case Imm::BrTable: {
    const auto &targets = code.labelLists[instr.extra];
    out.u32(targets.size() - 1);
    for (const Ref &target : targets) {
      if (!labelDepth(target, index))
        return false;
      out.u32(index);
    }
    return true;
  }
  case Imm::Func:
    if (!resolve(instr.a, funcNames, "function", index))
      return false;
    out.u32(index);
    return true;
  case Imm::CallIndirect: {
    TypeUse &use = const_cast<TypeUse &>(code.blockTypes[instr.extra]);
    uint32_t table = 0;
    if ((instr.a.present && !resolve(instr.a, tableNames, "table", table)) ||
        !resolveTypeUse(use))
      return false;
    out.u32(use.index);
    out.u32(table);
    return true;
  }
  case Imm::Local:
    if (!instr.a.byName) {
      index = instr.a.index;
    } else if (!locals || !resolve(instr.a, *locals, "local", index)) {
      return locals ? false
                    : fail(instr.a.token, "unknown local " + instr.a.name);
    }
    out.u32(index);
    return true;
  case Imm::Global:
    if (!resolve(instr.a, globalNames, "global", index))
      return false;
    out.u32(index);
    return true;
  case Imm::TableOpt:
    if (instr.a.present && !resolve(instr.a, tableNames, "table", index))
      return false;
    out.u32(index);
    return true;
  case Imm::TableCopy: {
    uint32_t dst = 0, src = 0;
    if (instr.a.present && (!resolve(instr.a, tableNames, "table", dst) ||
                            !resolve(instr.b, tableNames, "table", src)))
      return false;
    out.u32(dst);
    out.u32(src);
    return true;
  }
  case Imm::TableInit: {
    uint32_t table = 0, elem;
    if ((instr.a.present && !resolve(instr.a, tableNames, "table", table)) ||
        !resolve(instr.b, elemNames, "elem", elem))
      return false;
    out.u32(elem);
    out.u32(table);
    return true;
  }
  case Imm::Elem:
    if (!resolve(instr.a, elemNames, "elem", index))
      return false;
    out.u32(index);
    return true;
  case Imm::Data:
  case Imm::DataAndZero:
    if (!resolve(instr.a, dataNames, "data", index))
      return false;
    out.u32(index);
    if (op.imm == Imm::DataAndZero)
      out.byte(0);
    return true;
  case Imm::MemArg: {
    uint32_t align = instr.align ? instr.align : op.natural;
    out.u32(llvm::Log2_32(align));
    out.u32(instr.bits);
    return true;
  }
  case Imm::MemZero:
    out.byte(0);
    return true;
  case Imm::MemZeroZero:
    out.byte(0);
    out.byte(0);
    return true;
  case Imm::I32:
    out.s64(static_cast<int32_t>(static_cast<uint32_t>(instr.bits)));
    return true;
  case Imm::I64:
    out.s64(static_cast<int64_t>(instr.bits));
    return true;
  case Imm::F32:
    for (unsigned i = 0; i < 4; ++i)
      out.byte(static_cast<uint8_t>(instr.bits >> (8 * i)));
    return true;
  case Imm::F64:
    for (unsigned i = 0; i < 8; ++i)
      out.byte(static_cast<uint8_t>(instr.bits >> (8 * i)));
    return true;
  case Imm::Select:
    if (instr.extra < 0)
      return true;
    out.bytes.back() = static_cast<char>(0x1C); // typed select
    out.u32(code.typeLists[instr.extra].size());
    for (ValType type : code.typeLists[instr.extra])
      out.byte(static_cast<uint8_t>(type));
    return true;
  case Imm::RefNull:
    out.byte(static_cast<uint8_t>(instr.bits));
    return true;
  }
  return true;
}

void Encoder::nameSection(Buffer &out) {
  Buffer content;
  content.name("name");
  auto subsection = [&](uint8_t id, const Buffer &body) {
    content.byte(id);
    content.append(body, /*sized=*/true);
  };
  if (!module.id.empty()) {
    Buffer body;
    body.name(module.id.drop_front());
    subsection(0, body);
  }
  auto nameMap = [&](uint8_t id, const auto &defs) {
    Buffer body;
    uint32_t count = 0;
    for (const auto &def : defs)
      count += !def.id.empty();
    if (!count)
      return;
    body.u32(count);
    for (auto [index, def] : llvm::enumerate(defs))
      if (!def.id.empty()) {
        body.u32(index);
        body.name(def.id.drop_front());
      }
    subsection(id, body);
  };
  nameMap(1, module.funcs);
  nameMap(5, module.tables);
  nameMap(6, module.memories);
  nameMap(7, module.globals);
  nameMap(8, module.elems);
  nameMap(9, module.datas);
  section(out, 0, content);
}

bool Encoder::run(EncodedText &encoded) {
  if (!collectNames())
    return false;
  // Resolve every type use in order of appearance, so that implicit types
  // are appended in that order.
  for (FuncDef &func : module.funcs)
    if (!resolveTypeUse(func.type))
      return false;

  Buffer out;
  out.raw(llvm::StringRef("\0asm\1\0\0\0", 8));

  // Function bodies first (they may append implicit types), then sections in
  // their order.
  std::vector<Buffer> bodies;
  for (FuncDef &func : module.funcs) {
    if (func.import)
      continue;
    llvm::StringMap<uint32_t> locals;
    for (auto [index, name] : llvm::enumerate(func.type.paramNames))
      if (!name.empty() && !locals.try_emplace(name, index).second)
        return fail(func.token, "duplicate local " + name);
    size_t params = func.type.inlineType.params.size();
    for (auto [index, name] : llvm::enumerate(func.localNames))
      if (!name.empty() && !locals.try_emplace(name, params + index).second)
        return fail(func.token, "duplicate local " + name);
    Buffer body;
    SmallVector<std::pair<uint32_t, ValType>, 4> groups;
    for (ValType type : func.locals) {
      if (!groups.empty() && groups.back().second == type)
        ++groups.back().first;
      else
        groups.push_back({1, type});
    }
    body.u32(groups.size());
    for (auto [count, type] : groups) {
      body.u32(count);
      body.byte(static_cast<uint8_t>(type));
    }
    if (!code(body, func.body, &locals))
      return false;
    bodies.push_back(std::move(body));
  }
  std::vector<Buffer> elemSegments, dataSegments, globalInits;
  for (GlobalDef &global : module.globals) {
    Buffer init;
    if (!global.import && !code(init, global.init, nullptr))
      return false;
    globalInits.push_back(std::move(init));
  }

  // Type section.
  Buffer typeSection;
  typeSection.u32(types.size());
  for (const FuncType &type : types) {
    typeSection.byte(0x60);
    typeSection.u32(type.params.size());
    for (ValType param : type.params)
      typeSection.byte(static_cast<uint8_t>(param));
    typeSection.u32(type.results.size());
    for (ValType result : type.results)
      typeSection.byte(static_cast<uint8_t>(result));
  }
  if (!types.empty())
    section(out, 1, typeSection);

  // Import section.
  if (!module.imports.empty()) {
    Buffer imports;
    imports.u32(module.imports.size());
    for (const auto &import : module.imports) {
      Kind kind = import.first;
      uint32_t index = import.second;
      auto write = [&](const auto &def) {
        imports.mark(parser.position(def.token));
        imports.name(def.import->module);
        imports.name(def.import->name);
        imports.byte(static_cast<uint8_t>(kind));
      };
      switch (kind) {
      case Kind::Func:
        write(module.funcs[index]);
        imports.u32(module.funcs[index].type.index);
        break;
      case Kind::Table:
        write(module.tables[index]);
        imports.byte(static_cast<uint8_t>(module.tables[index].elemType));
        limits(imports, module.tables[index].min, module.tables[index].max);
        break;
      case Kind::Memory:
        write(module.memories[index]);
        limits(imports, module.memories[index]);
        break;
      case Kind::Global:
        write(module.globals[index]);
        imports.byte(static_cast<uint8_t>(module.globals[index].type));
        imports.byte(module.globals[index].isMutable ? 1 : 0);
        break;
      }
    }
    section(out, 2, imports);
  }

  // Function section.
  if (!bodies.empty()) {
    Buffer functions;
    functions.u32(bodies.size());
    for (const FuncDef &func : module.funcs)
      if (!func.import)
        functions.u32(func.type.index);
    section(out, 3, functions);
  }

  auto definedCount = [](const auto &defs) {
    return llvm::count_if(defs, [](const auto &def) { return !def.import; });
  };
  if (size_t count = definedCount(module.tables)) {
    Buffer tables;
    tables.u32(count);
    for (const TableDef &table : module.tables)
      if (!table.import) {
        tables.mark(parser.position(table.token));
        tables.byte(static_cast<uint8_t>(table.elemType));
        limits(tables, table.min, table.max);
      }
    section(out, 4, tables);
  }
  if (size_t count = definedCount(module.memories)) {
    Buffer memories;
    memories.u32(count);
    for (const MemoryDef &memory : module.memories)
      if (!memory.import) {
        memories.mark(parser.position(memory.token));
        limits(memories, memory);
      }
    section(out, 5, memories);
  }
  if (size_t count = definedCount(module.globals)) {
    Buffer globals;
    globals.u32(count);
    for (auto [index, global] : llvm::enumerate(module.globals))
      if (!global.import) {
        globals.mark(parser.position(global.token));
        globals.byte(static_cast<uint8_t>(global.type));
        globals.byte(global.isMutable ? 1 : 0);
        globals.append(globalInits[index], /*sized=*/false);
      }
    section(out, 6, globals);
  }
  if (!module.exports.empty()) {
    Buffer exports;
    exports.u32(module.exports.size());
    for (const Export &exp : module.exports) {
      static const char *const kKinds[] = {"function", "table", "memory",
                                           "global"};
      const llvm::StringMap<uint32_t> *names[] = {&funcNames, &tableNames,
                                                  &memoryNames, &globalNames};
      uint32_t index;
      int kind = static_cast<int>(exp.kind);
      if (!resolve(exp.target, *names[kind], kKinds[kind], index))
        return false;
      exports.mark(parser.position(exp.token));
      exports.name(exp.name);
      exports.byte(static_cast<uint8_t>(kind));
      exports.u32(index);
    }
    section(out, 7, exports);
  }
  if (module.start) {
    Buffer start;
    uint32_t index;
    if (!resolve(*module.start, funcNames, "function", index))
      return false;
    start.mark(parser.position(module.start->token));
    start.u32(index);
    section(out, 8, start);
  }
  if (!module.elems.empty()) {
    Buffer elems;
    elems.u32(module.elems.size());
    for (ElemDef &elem : module.elems) {
      elems.mark(parser.position(elem.token));
      uint32_t table = 0;
      if (elem.mode == SegmentMode::Active &&
          !resolve(elem.table, tableNames, "table", table))
        return false;
      bool active = elem.mode == SegmentMode::Active;
      bool implicitTable =
          active && table == 0 && elem.elemType == ValType::FuncRef;
      uint32_t flags = elem.usesExpressions ? 4 : 0;
      if (!active)
        flags |= elem.mode == SegmentMode::Declarative ? 3 : 1;
      else if (!implicitTable)
        flags |= 2;
      elems.u32(flags);
      if (active && !implicitTable)
        elems.u32(table);
      if (active && !code(elems, elem.offset, nullptr))
        return false;
      if (!implicitTable) {
        if (elem.usesExpressions)
          elems.byte(static_cast<uint8_t>(elem.elemType));
        else
          elems.byte(0x00); // elemkind funcref
      }
      if (elem.usesExpressions) {
        elems.u32(elem.items.size());
        for (const Code &item : elem.items)
          if (!code(elems, item, nullptr))
            return false;
      } else {
        elems.u32(elem.funcs.size());
        for (const Ref &func : elem.funcs) {
          uint32_t index;
          if (!resolve(func, funcNames, "function", index))
            return false;
          elems.u32(index);
        }
      }
    }
    section(out, 9, elems);
  }
  if (!module.datas.empty()) {
    Buffer count;
    count.u32(module.datas.size());
    section(out, 12, count);
  }
  if (!bodies.empty()) {
    Buffer codeSection;
    codeSection.u32(bodies.size());
    size_t body = 0;
    for (const FuncDef &func : module.funcs)
      if (!func.import) {
        codeSection.mark(parser.position(func.token));
        codeSection.append(bodies[body++], /*sized=*/true);
      }
    section(out, 10, codeSection);
  }
  if (!module.datas.empty()) {
    Buffer datas;
    datas.u32(module.datas.size());
    for (DataDef &data : module.datas) {
      datas.mark(parser.position(data.token));
      uint32_t memory = 0;
      if (data.mode == SegmentMode::Active &&
          !resolve(data.memory, memoryNames, "memory", memory))
        return false;
      if (data.mode == SegmentMode::Passive) {
        datas.u32(1);
      } else {
        datas.u32(memory == 0 ? 0 : 2);
        if (memory != 0)
          datas.u32(memory);
        if (!code(datas, data.offset, nullptr))
          return false;
      }
      datas.name(data.bytes);
    }
    section(out, 11, datas);
  }
  if (options.names)
    nameSection(out);
  for (const CustomDef &custom : module.customs) {
    Buffer content;
    content.mark(parser.position(custom.token));
    content.name(custom.name);
    content.raw(custom.bytes);
    section(out, 0, content);
  }

  encoded.binary = std::move(out.bytes);
  encoded.positions = std::move(out.positions);
  return true;
}

} // namespace

std::optional<TextError> mlir::twasm::import_detail::encodeTextModule(
    StringRef text, EncodedText &encoded, const TextOptions &options) {
  Failure failure;
  Lexer lexer(text, failure);
  std::vector<Token> tokens;
  if (!lexer.run(tokens))
    return failure.error;
  Parser parser(tokens, lexer, failure);
  Module module;
  if (!parser.parseModule(module))
    return failure.error;
  Encoder encoder(module, parser, failure, options);
  if (!encoder.run(encoded))
    return failure.error;
  return std::nullopt;
}
