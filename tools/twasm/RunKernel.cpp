//===- RunKernel.cpp - One kernel launch through the runtime --------------===//
//
// Everything here goes through the runtime's public API, as a service would:
// a signed artifact is verified and loaded; a .wasm or .wat is compiled
// in-process for what the device says it runs (Device::codeTarget()) by the
// compile function `twasm run` hands in, and signed for the run; a .so or
// .ptx is loaded with the manifest beside it only with --allow-unsigned; and
// every failure comes back from the API as a value that is printed as
// "error: ..." with exit status 1.
// Plain C++ only: `twasm-run` links this without LLVM.
//
//===----------------------------------------------------------------------===//

#include "RunKernel.h"
#include "CommandText.h"

#include "twasm/Artifact.h"
#include "twasm/Runtime.h"
#include "twasm/Snapshot.h"

#include "program/Program.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace tensorwasm::tool {
namespace {

const char runDetails[] = R"(
EXAMPLE:
  twasm run saxpy.wasm --device cpu --grid 4 --block 256 --grow 1 \
      --fill 0x10000=iota:f32:1024 --fill 0x11000=const:f32:1024:1 \
      --print 0x11000:f32:8  1024 2.5 0x10000 0x11000

The module is a signed artifact (X.twa from `twasm compile --sign`), checked
against --trust, --key or the registry's trusted keys; or a registry
reference NAME[@VERSION] (--registry); or a .wasm or .wat, compiled for the
device first (as --target host for the cpu, for the GPU's sm_XY for cuda;
`twasm run` only) and signed for this run alone. A .so or .ptx from `twasm
compile`, with the manifest beside it (X.so: X.json), is unsigned: it is
loaded only with --allow-unsigned (development only). The
kernel's arguments follow the input, one per parameter: i32 and i64 in
decimal or 0x hex, f32 and f64 in decimal, inf or nan; a negative one may be
given as it is ("-7", "-inf") or after `--`, which ends the options.

--fill ADDR=SPEC, before the launch (TYPE: i8, i16, i32, i64, f32, f64, all
little endian; ADDR and COUNT in decimal or 0x hex):
  file:PATH                       the file's bytes
  iota:TYPE:COUNT[:START[:STEP]]  START + i*STEP (default 0 and 1); integers
                                  wrap, floats are computed in double and
                                  rounded to TYPE
  const:TYPE:COUNT:VALUE          COUNT copies of VALUE
  random:TYPE:COUNT[:SEED]        SplitMix64 from the state SEED (default 1):
                                  integers are the low bytes of its outputs,
                                  f32 the top 24 bits * 2^-24 and f64 the top
                                  53 bits * 2^-53, uniform in [0, 1)

PROGRAMS: a .wasm or .wat that exports _start (or whose --invoke names an
exported function that is not a kernel) runs as a program: its host code on
the CPU with WASI's arguments (those after the module), --env, stdout,
stderr, clocks and random bytes, launching its own kernels through
twasm_host (docs/host-programs.md). Its exit status is the program's.

OUTPUT: one line saying how the launch ended ("completed in 1.234 ms (1024
threads) on cpu", "trapped: <where and why>" or "interrupted after ..."),
then one line per --print (integers signed, f32 as %.9g, f64 as %.17g, which
read back to the same bits). Memory is printed and written out whatever the
outcome.

EXIT STATUS: 0 completed, 1 a usage, I/O, compile or runtime error (printed
as "error: ..."), 2 the kernel trapped, 3 it was interrupted (--timeout).
)";

int error(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//

bool isSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back()))
    text.remove_suffix(1);
  return text;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i])
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// Numbers
//===----------------------------------------------------------------------===//

/// A non-negative integer in decimal or 0x hex.
std::optional<uint64_t> parseUnsigned(std::string_view text) {
  unsigned radix = 10;
  if (startsWithNoCase(text, "0x")) {
    radix = 16;
    text.remove_prefix(2);
  }
  if (text.empty())
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    unsigned digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return std::nullopt;
    if (digit >= radix || value > (UINT64_MAX - digit) / radix)
      return std::nullopt;
    value = value * radix + digit;
  }
  return value;
}

/// An integer of `bits` bits in decimal or 0x hex, signed ("-1") or unsigned
/// ("0xffffffff"); its two's-complement bits, zero-extended.
std::optional<uint64_t> parseInteger(std::string_view text, unsigned bits) {
  bool negative = startsWith(text, "-");
  if (negative)
    text.remove_prefix(1);
  std::optional<uint64_t> magnitude = parseUnsigned(text);
  if (!magnitude)
    return std::nullopt;
  uint64_t mask = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  if (negative) {
    if (*magnitude > (uint64_t(1) << (bits - 1)))
      return std::nullopt;
    return (0 - *magnitude) & mask;
  }
  if (*magnitude > mask)
    return std::nullopt;
  return *magnitude;
}

/// A decimal (or hex) float, inf or nan, as strtod reads it, whole.
template <typename T> std::optional<T> parseFloat(std::string_view text) {
  if (text.empty() || isSpace(text.front()))
    return std::nullopt;
  std::string whole(text);
  char *end = nullptr;
  errno = 0;
  T value;
  if constexpr (sizeof(T) == 4)
    value = std::strtof(whole.c_str(), &end);
  else
    value = std::strtod(whole.c_str(), &end);
  if (end != whole.c_str() + whole.size())
    return std::nullopt;
  // Out of range: a finite number too large for the type.
  if (errno == ERANGE && std::isinf(value))
    return std::nullopt;
  return value;
}

template <typename T> uint64_t bitsOf(T value) {
  if constexpr (sizeof(T) == 4) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
  } else {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
  }
}

//===----------------------------------------------------------------------===//
// Element types of fills and prints
//===----------------------------------------------------------------------===//

enum class Element { I8, I16, I32, I64, F32, F64 };

struct ElementInfo {
  const char *name;
  unsigned bytes;
  bool isFloat;
};

constexpr ElementInfo elementInfos[] = {
    {"i8", 1, false},  {"i16", 2, false}, {"i32", 4, false},
    {"i64", 8, false}, {"f32", 4, true},  {"f64", 8, true},
};

const ElementInfo &info(Element type) {
  return elementInfos[static_cast<int>(type)];
}

std::optional<Element> parseElement(std::string_view text) {
  for (int i = 0; i < 6; ++i)
    if (text == elementInfos[i].name)
      return static_cast<Element>(i);
  return std::nullopt;
}

/// VALUE as the bits of an element of `type`.
std::optional<uint64_t> parseElementValue(Element type, std::string_view text) {
  switch (type) {
  case Element::F32:
    if (std::optional<float> value = parseFloat<float>(text))
      return bitsOf(*value);
    return std::nullopt;
  case Element::F64:
    if (std::optional<double> value = parseFloat<double>(text))
      return bitsOf(*value);
    return std::nullopt;
  default:
    return parseInteger(text, 8 * info(type).bytes);
  }
}

void appendLittleEndian(std::string &bytes, uint64_t bits, unsigned size) {
  for (unsigned i = 0; i < size; ++i)
    bytes.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

uint64_t readLittleEndian(const uint8_t *bytes, unsigned size) {
  uint64_t bits = 0;
  for (unsigned i = 0; i < size; ++i)
    bits |= uint64_t(bytes[i]) << (8 * i);
  return bits;
}

std::string formatElement(Element type, uint64_t bits) {
  char text[64];
  switch (type) {
  case Element::I8:
    std::snprintf(text, sizeof text, "%d", int(int8_t(bits)));
    break;
  case Element::I16:
    std::snprintf(text, sizeof text, "%d", int(int16_t(bits)));
    break;
  case Element::I32:
    std::snprintf(text, sizeof text, "%" PRId32, int32_t(bits));
    break;
  case Element::I64:
    std::snprintf(text, sizeof text, "%" PRId64, int64_t(bits));
    break;
  case Element::F32: {
    float value;
    uint32_t narrow = static_cast<uint32_t>(bits);
    std::memcpy(&value, &narrow, sizeof value);
    std::snprintf(text, sizeof text, "%.9g", double(value));
    break;
  }
  case Element::F64: {
    double value;
    std::memcpy(&value, &bits, sizeof value);
    std::snprintf(text, sizeof text, "%.17g", value);
    break;
  }
  }
  return text;
}

/// SplitMix64 (Steele, Lea and Flood, 2014): the generator of `random:`,
/// small enough to be written again anywhere a fill must be reproduced.
uint64_t splitMix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

/// The whole file, or false with `why` set to strerror's message.
bool readFile(const std::string &path, std::string &contents,
              std::string &why) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file) {
    why = std::strerror(errno);
    return false;
  }
  contents.clear();
  char buffer[1 << 16];
  size_t read;
  while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    contents.append(buffer, read);
  bool failed = std::ferror(file);
  int saved = errno;
  std::fclose(file);
  if (failed) {
    why = std::strerror(saved);
    return false;
  }
  return true;
}

struct FileCloser {
  void operator()(std::FILE *file) const { std::fclose(file); }
};
using FilePointer = std::unique_ptr<std::FILE, FileCloser>;

/// The extension of the path's last component, with its dot ("" if none).
std::string_view extensionOf(std::string_view path) {
  size_t slash = path.find_last_of('/');
  std::string_view name =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0)
    return {};
  return name.substr(dot);
}

//===----------------------------------------------------------------------===//
// --fill, --print, --out
//===----------------------------------------------------------------------===//

struct Fill {
  enum class Kind { File, Iota, Const, Random };
  /// The option as given, for messages.
  std::string option;
  uint64_t address = 0;
  Kind kind = Kind::Const;
  Element type = Element::I8;
  uint64_t count = 0;
  /// iota: START and STEP, as integer bits or as doubles.
  uint64_t intStart = 0, intStep = 1;
  double floatStart = 0, floatStep = 1;
  /// const: the value's bits; random: the seed.
  uint64_t value = 0;
  /// file: its bytes.
  std::string contents;

  uint64_t bytes() const {
    return kind == Kind::File ? contents.size() : count * info(type).bytes;
  }

  /// The bytes to write; bytes() must fit in memory.
  std::string generate() const {
    if (kind == Kind::File)
      return contents;
    unsigned size = info(type).bytes;
    std::string bytes;
    bytes.reserve(count * size);
    uint64_t state = value;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t bits = 0;
      switch (kind) {
      case Kind::File:
        break;
      case Kind::Const:
        bits = value;
        break;
      case Kind::Iota:
        if (type == Element::F32)
          bits = bitsOf(float(floatStart + double(i) * floatStep));
        else if (type == Element::F64)
          bits = bitsOf(floatStart + double(i) * floatStep);
        else
          bits = intStart + i * intStep;
        break;
      case Kind::Random: {
        uint64_t random = splitMix64(state);
        if (type == Element::F32)
          bits = bitsOf(float(random >> 40) * 0x1p-24f);
        else if (type == Element::F64)
          bits = bitsOf(double(random >> 11) * 0x1p-53);
        else
          bits = random;
        break;
      }
      }
      appendLittleEndian(bytes, bits, size);
    }
    return bytes;
  }
};

/// An element count whose size in bytes does not overflow.
std::optional<uint64_t> parseCount(std::string_view text, Element type) {
  std::optional<uint64_t> count = parseUnsigned(text);
  if (count && *count > UINT64_MAX / info(type).bytes)
    return std::nullopt;
  return count;
}

std::optional<Fill> parseFill(std::string_view option, std::string &why) {
  Fill fill;
  fill.option = std::string(option);
  auto [addressText, spec] = split(option, '=');
  std::optional<uint64_t> address = parseUnsigned(addressText);
  if (!address || option.find('=') == std::string_view::npos) {
    why = "expected ADDR=SPEC with ADDR in decimal or 0x hex";
    return std::nullopt;
  }
  fill.address = *address;
  auto [kindText, rest] = split(spec, ':');
  if (kindText == "file") {
    if (rest.empty()) {
      why = "expected file:PATH";
      return std::nullopt;
    }
    std::string path(rest), reason;
    if (!readFile(path, fill.contents, reason)) {
      why = "cannot read " + path + ": " + reason;
      return std::nullopt;
    }
    fill.kind = Fill::Kind::File;
    return fill;
  }

  std::vector<std::string_view> fields = splitAll(rest, ':');
  const char *usage = nullptr;
  size_t least = 2, most = 2;
  if (kindText == "iota") {
    fill.kind = Fill::Kind::Iota;
    usage = "iota:TYPE:COUNT[:START[:STEP]]";
    most = 4;
  } else if (kindText == "const") {
    fill.kind = Fill::Kind::Const;
    usage = "const:TYPE:COUNT:VALUE";
    least = most = 3;
  } else if (kindText == "random") {
    fill.kind = Fill::Kind::Random;
    usage = "random:TYPE:COUNT[:SEED]";
    most = 3;
  } else {
    why = "unknown SPEC '" + std::string(spec) +
          "': expected file:PATH, iota:TYPE:COUNT[:START[:STEP]], "
          "const:TYPE:COUNT:VALUE or random:TYPE:COUNT[:SEED]";
    return std::nullopt;
  }
  auto bad = [&](const std::string &detail) {
    why = detail + " (" + usage + ")";
    return std::nullopt;
  };
  if (rest.empty() || fields.size() < least || fields.size() > most) {
    why = "expected " + std::string(usage);
    return std::nullopt;
  }
  std::optional<Element> type = parseElement(fields[0]);
  if (!type)
    return bad("unknown TYPE '" + std::string(fields[0]) +
               "': expected i8, i16, i32, i64, f32 or f64");
  fill.type = *type;
  std::optional<uint64_t> count = parseCount(fields[1], *type);
  if (!count)
    return bad("bad COUNT '" + std::string(fields[1]) + "'");
  fill.count = *count;
  bool isFloat = info(*type).isFloat;

  switch (fill.kind) {
  case Fill::Kind::File:
    break;
  case Fill::Kind::Const: {
    std::optional<uint64_t> value = parseElementValue(*type, fields[2]);
    if (!value)
      return bad("VALUE '" + std::string(fields[2]) + "' is not an " +
                 info(*type).name);
    fill.value = *value;
    break;
  }
  case Fill::Kind::Iota:
    for (size_t i = 2; i < fields.size(); ++i) {
      const char *name = i == 2 ? "START" : "STEP";
      if (isFloat) {
        std::optional<double> number = parseFloat<double>(fields[i]);
        if (!number)
          return bad(std::string(name) + " '" + std::string(fields[i]) +
                     "' is not a number");
        (i == 2 ? fill.floatStart : fill.floatStep) = *number;
      } else {
        std::optional<uint64_t> number = parseInteger(fields[i], 64);
        if (!number)
          return bad(std::string(name) + " '" + std::string(fields[i]) +
                     "' is not an integer");
        (i == 2 ? fill.intStart : fill.intStep) = *number;
      }
    }
    break;
  case Fill::Kind::Random:
    fill.value = 1;
    if (fields.size() == 3) {
      std::optional<uint64_t> seed = parseUnsigned(fields[2]);
      if (!seed)
        return bad("bad SEED '" + std::string(fields[2]) + "'");
      fill.value = *seed;
    }
    break;
  }
  return fill;
}

/// A range read back after the launch: --print or --out.
struct Readback {
  /// "--print 0x100:f32:4", for messages.
  std::string option;
  uint64_t address = 0;
  uint64_t bytes = 0;
  /// --print: the elements' type; --out: where to write.
  std::optional<Element> type;
  std::string path;
  FilePointer file;
  std::vector<uint8_t> data;
};

std::optional<Readback> parsePrint(std::string_view option, std::string &why) {
  std::vector<std::string_view> fields = splitAll(option, ':');
  Readback print;
  print.option = "--print " + std::string(option);
  std::optional<uint64_t> address;
  std::optional<Element> type;
  std::optional<uint64_t> count;
  if (fields.size() == 3 && (address = parseUnsigned(fields[0])) &&
      (type = parseElement(fields[1])) &&
      (count = parseCount(fields[2], *type))) {
    print.address = *address;
    print.type = *type;
    print.bytes = *count * info(*type).bytes;
    return print;
  }
  why = "expected ADDR:TYPE:COUNT, with ADDR and COUNT in decimal or 0x hex "
        "and TYPE one of i8, i16, i32, i64, f32, f64";
  return std::nullopt;
}

std::optional<Readback> parseOut(std::string_view option, std::string &why) {
  auto [range, path] = split(option, '=');
  auto [addressText, bytesText] = split(range, ':');
  Readback out;
  out.option = "--out " + std::string(option);
  std::optional<uint64_t> address = parseUnsigned(addressText);
  std::optional<uint64_t> bytes = parseUnsigned(bytesText);
  if (!address || !bytes || path.empty()) {
    why = "expected ADDR:BYTES=PATH, with ADDR and BYTES in decimal or 0x hex";
    return std::nullopt;
  }
  out.address = *address;
  out.bytes = *bytes;
  out.path = std::string(path);
  return out;
}

//===----------------------------------------------------------------------===//
// Launch shape and arguments
//===----------------------------------------------------------------------===//

std::optional<Dim3> parseDim3(std::string_view text) {
  std::vector<std::string_view> fields = splitAll(text, ',');
  if (fields.empty() || fields.size() > 3)
    return std::nullopt;
  uint32_t values[3] = {1, 1, 1};
  for (size_t i = 0; i < fields.size(); ++i) {
    std::optional<uint64_t> value = parseUnsigned(trim(fields[i]));
    if (!value || *value == 0 || *value > UINT32_MAX)
      return std::nullopt;
    values[i] = static_cast<uint32_t>(*value);
  }
  return Dim3{values[0], values[1], values[2]};
}

std::string signature(const KernelInfo &kernel) {
  std::string text = kernel.name + "(";
  for (size_t i = 0; i < kernel.params.size(); ++i)
    text += (i ? ", " : "") + std::string(valueTypeName(kernel.params[i]));
  return text + ")";
}

std::optional<Value> parseArgument(ValueType type, std::string_view text) {
  switch (type) {
  case ValueType::I32:
    if (std::optional<uint64_t> bits = parseInteger(text, 32))
      return Value{ValueType::I32, *bits};
    return std::nullopt;
  case ValueType::I64:
    if (std::optional<uint64_t> bits = parseInteger(text, 64))
      return Value{ValueType::I64, *bits};
    return std::nullopt;
  case ValueType::F32:
    if (std::optional<float> value = parseFloat<float>(text))
      return Value::f32(*value);
    return std::nullopt;
  case ValueType::F64:
    if (std::optional<double> value = parseFloat<double>(text))
      return Value::f64(*value);
    return std::nullopt;
  }
  return std::nullopt;
}

const char *expectedForm(ValueType type) {
  switch (type) {
  case ValueType::I32:
    return "an integer from -2147483648 to 4294967295, in decimal or 0x hex";
  case ValueType::I64:
    return "an integer from -9223372036854775808 to 18446744073709551615, in "
           "decimal or 0x hex";
  case ValueType::F32:
  case ValueType::F64:
    return "a decimal number, inf or nan";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// The command line
//===----------------------------------------------------------------------===//

struct Options {
  std::string program;
  std::string inputFile;
  std::vector<std::string> argumentTexts;
  std::string deviceName = "auto";
  MemoryMode memoryMode = MemoryMode::Managed;
  uint32_t cpuWorkers = 0;
  std::string kernelName;
  std::string gridText, blockText;
  uint32_t sharedBytes = 0, timeoutMs = 0, growPages = 0, repeat = 1;
  std::vector<std::string> fillTexts, printTexts, outTexts;
  bool quiet = false;
  bool help = false;
  /// Where the trusted keys come from: a policy file, public keys (each
  /// trusted for every name), else the registry's policy.
  std::string trustFile;
  std::vector<std::string> keyFiles;
  std::string registryDirectory;
  bool allowUnsigned = false;
  /// Snapshots (docs/snapshot-format.md): FILE, or @NAME in the registry's
  /// snapshot store.
  std::string saveSnapshot, restoreSnapshot;
  std::vector<std::string> snapshotKeyFiles;
  std::string tenant;
  std::string counterText;
  bool compress = false;
  bool noLaunch = false;
  /// A program's WASI environment (--env).
  std::vector<std::string> environment;
  /// A program's largest linear memory (--max-memory); unset: the runtime's
  /// default.
  std::optional<uint64_t> maxMemoryBytes;
};

struct OptionHelp {
  const char *name;
  const char *value;
  const char *description;
};

constexpr OptionHelp optionHelps[] = {
    {"allow-unsigned", nullptr,
     "Development only: load a .so or .ptx that no trusted key signed"},
    {"block", "X[,Y[,Z]]",
     "Threads per block (default: the kernel's declared shape, else 1)"},
    {"compress", nullptr, "With --save-snapshot: compress memory with zstd"},
    {"counter", "N",
     "With --save-snapshot FILE: the snapshot's replay counter (a store "
     "issues its own)"},
    {"cpu-workers", "N",
     "cpu: OS threads that run blocks (default 0: one per hardware thread)"},
    {"device", "auto|cuda|cpu|mock",
     "Where to run: cuda where a driver sees a GPU, else cpu (auto, the "
     "default); cuda; cpu; mock"},
    {"fill", "ADDR=SPEC",
     "Fill linear memory at ADDR before the launch (SPEC "
     "below)"},
    {"grid", "X[,Y[,Z]]", "Blocks in the grid (default 1)"},
    {"grow", "PAGES",
     "Grow linear memory by PAGES of 64 KiB before the fills and the launch"},
    {"help", nullptr, "Print this help and exit"},
    {"env", "NAME=VALUE",
     "A program's environment variable (repeatable; none by default)"},
    {"invoke", "NAME",
     "The kernel to launch (needed when the module has more than one), or a "
     "program's exported function to call instead of _start"},
    {"key", "KEY.pub",
     "Trust this public key for every name (repeatable; instead of the "
     "registry's trusted keys)"},
    {"max-memory", "BYTES",
     "A program's largest linear memory, on every device (default 1 GiB; at "
     "most 4 GiB): its memory.grow, and so malloc, fails past it"},
    {"memory", "managed|device",
     "cuda: where linear memory lives: managed (unified memory, kept on the "
     "GPU; the default) or device (device memory, copied to and from the "
     "host)"},
    {"no-launch", nullptr,
     "Launch nothing: restore, grow, fill, print and snapshot only"},
    {"out", "ADDR:BYTES=PATH",
     "Write BYTES bytes at ADDR to PATH after the "
     "launch"},
    {"print", "ADDR:TYPE:COUNT",
     "Print COUNT values of TYPE at ADDR after the launch"},
    {"quiet", nullptr,
     "Do not print the device's description and compile time"},
    {"registry", "DIR",
     "The kernel registry whose trusted keys check a .twa, and which a "
     "NAME[@VERSION] is fetched from (default: $TWASM_REGISTRY, else "
     "~/.local/share/tensorwasm/registry)"},
    {"repeat", "N",
     "Launch N times, one after the other, and report the minimum and median "
     "time (each launch sees what the last left in memory)"},
    {"restore-snapshot", "FILE|@NAME",
     "Start from this snapshot instead of a new instance (@NAME: the "
     "registry's snapshot store), checked with --snapshot-key"},
    {"save-snapshot", "FILE|@NAME",
     "After a launch that completed, snapshot the instance into FILE "
     "(written atomically) or into the registry's snapshot store as NAME"},
    {"shared", "BYTES",
     "Shared scratch per block (at least the kernel's declared size)"},
    {"snapshot-key", "KEY",
     "The secret key that authenticates snapshots (twasm snapshot keygen); "
     "repeatable for --restore-snapshot"},
    {"tenant", "NAME",
     "With --save-snapshot: whom the snapshot belongs to; with "
     "--restore-snapshot: refuse another tenant's"},
    {"timeout", "MS",
     "Interrupt a launch that runs longer (default 0: no limit)"},
    {"trust", "POLICY.json",
     "The trust policy that checks a .twa (docs/artifact-format.md; instead "
     "of the registry's)"},
};

void printHelp(const Options &options, bool canCompile) {
  std::printf("OVERVIEW: Run a kernel of a module on a device, through the "
              "runtime (exit status 0: completed, 1: an error, 2: trapped, 3: "
              "interrupted)\n\n");
  std::printf("USAGE: %s [options] <%s> <kernel arguments>...\n\nOPTIONS:\n",
              options.program.c_str(),
              canCompile ? "module.twa|.wasm|.wat|.so|.ptx|NAME[@VERSION]"
                         : "module.twa|.so|.ptx|NAME[@VERSION]");
  for (const OptionHelp &help : optionHelps) {
    std::string name = std::string("--") + help.name;
    if (help.value)
      name += std::string(" <") + help.value + ">";
    std::printf("%s\n", formatOptionHelp(name, help.description, 36).c_str());
  }
  std::fputs(runDetails, stdout);
  if (!canCompile)
    std::printf("\n%s runs compiled modules only: compile a .wasm or .wat "
                "with `twasm compile X --target host` (cpu) or `--target "
                "sm_XY` (cuda) first, or use `twasm run`.\n",
                options.program.c_str());
}

/// Whether a token that starts with '-' is a negative number (a kernel
/// argument) rather than an option: "-7", "-0x10", "-.5", "-inf", "-nan".
bool isNegativeNumber(std::string_view token) {
  if (token.size() < 2 || token[0] != '-')
    return false;
  char next = token[1];
  if (next >= '0' && next <= '9')
    return true;
  if (next == '.' && token.size() > 2 && token[2] >= '0' && token[2] <= '9')
    return true;
  std::string_view rest = token.substr(1);
  return startsWithNoCase(rest, "inf") || startsWithNoCase(rest, "nan");
}

/// Parses the command line into `options`; prints the error and returns
/// false on a bad one.
bool parseCommandLine(int argc, char **argv, Options &options) {
  std::vector<std::string> positionals;
  bool optionsEnded = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view token = argv[i];
    if (optionsEnded || token.empty() || token[0] != '-' || token == "-" ||
        isNegativeNumber(token)) {
      positionals.emplace_back(token);
      continue;
    }
    if (token == "--") {
      optionsEnded = true;
      continue;
    }
    // -name or --name, with its value after '=' or in the next token.
    std::string_view body = token.substr(token[1] == '-' ? 2 : 1);
    auto [name, inlineValue] = split(body, '=');
    bool hasInlineValue = body.find('=') != std::string_view::npos;
    std::string spelled = "--" + std::string(name);

    if (name == "help" || name == "h") {
      options.help = true;
      continue;
    }
    if (name == "allow-unsigned") {
      // A flag that lets unsigned code run takes no value that could be
      // read the wrong way ("--allow-unsigned=false").
      if (hasInlineValue) {
        error(spelled + " takes no value");
        return false;
      }
      options.allowUnsigned = true;
      continue;
    }
    if (name == "compress" || name == "no-launch") {
      if (hasInlineValue) {
        error(spelled + " takes no value");
        return false;
      }
      (name == "compress" ? options.compress : options.noLaunch) = true;
      continue;
    }
    if (name == "quiet") {
      if (hasInlineValue) {
        if (inlineValue == "true" || inlineValue == "1") {
          options.quiet = true;
        } else if (inlineValue == "false" || inlineValue == "0") {
          options.quiet = false;
        } else {
          error(spelled + "=" + std::string(inlineValue) +
                ": expected true or false");
          return false;
        }
      } else {
        options.quiet = true;
      }
      continue;
    }
    const OptionHelp *known = nullptr;
    for (const OptionHelp &help : optionHelps)
      if (help.value && name == help.name)
        known = &help;
    if (!known) {
      error("unknown option '" + std::string(token) + "' (see " +
            options.program + " --help)");
      return false;
    }
    std::string value;
    if (hasInlineValue) {
      value = std::string(inlineValue);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      error(spelled + ": expects a value <" + known->value + ">");
      return false;
    }

    auto number = [&](uint32_t &target) {
      std::optional<uint64_t> parsed = parseUnsigned(value);
      if (!parsed || *parsed > UINT32_MAX) {
        error(spelled + " " + value +
              ": expected an integer from 0 to 4294967295, in decimal or 0x "
              "hex");
        return false;
      }
      target = static_cast<uint32_t>(*parsed);
      return true;
    };
    if (name == "device") {
      options.deviceName = value;
    } else if (name == "memory") {
      if (value == "managed") {
        options.memoryMode = MemoryMode::Managed;
      } else if (value == "device") {
        options.memoryMode = MemoryMode::Device;
      } else {
        error("--memory " + value + ": expected managed or device");
        return false;
      }
    } else if (name == "max-memory") {
      std::optional<uint64_t> parsed = parseUnsigned(value);
      if (!parsed || *parsed < abi::kPageBytes ||
          *parsed > 65536 * abi::kPageBytes) {
        error(spelled + " " + value +
              ": expected a number of bytes from 65536 (one page) to "
              "4294967296 (4 GiB)");
        return false;
      }
      options.maxMemoryBytes = *parsed;
    } else if (name == "cpu-workers") {
      if (!number(options.cpuWorkers))
        return false;
    } else if (name == "invoke") {
      options.kernelName = value;
    } else if (name == "env") {
      if (value.find('=') == std::string::npos) {
        error("--env " + value + ": expected NAME=VALUE");
        return false;
      }
      options.environment.push_back(value);
    } else if (name == "grid") {
      options.gridText = value;
    } else if (name == "block") {
      options.blockText = value;
    } else if (name == "shared") {
      if (!number(options.sharedBytes))
        return false;
    } else if (name == "timeout") {
      if (!number(options.timeoutMs))
        return false;
    } else if (name == "grow") {
      if (!number(options.growPages))
        return false;
    } else if (name == "repeat") {
      if (!number(options.repeat))
        return false;
    } else if (name == "fill") {
      options.fillTexts.push_back(value);
    } else if (name == "print") {
      options.printTexts.push_back(value);
    } else if (name == "out") {
      options.outTexts.push_back(value);
    } else if (name == "trust") {
      options.trustFile = value;
    } else if (name == "key") {
      options.keyFiles.push_back(value);
    } else if (name == "registry") {
      options.registryDirectory = value;
    } else if (name == "save-snapshot") {
      options.saveSnapshot = value;
    } else if (name == "restore-snapshot") {
      options.restoreSnapshot = value;
    } else if (name == "snapshot-key") {
      options.snapshotKeyFiles.push_back(value);
    } else if (name == "tenant") {
      options.tenant = value;
    } else if (name == "counter") {
      options.counterText = value;
    }
  }
  if (options.help)
    return true;
  if (positionals.empty()) {
    error("no module given (see " + options.program + " --help)");
    return false;
  }
  options.inputFile = positionals.front();
  options.argumentTexts.assign(positionals.begin() + 1, positionals.end());
  return true;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

/// The trust policy that checks artifacts: --trust, else --key (each for
/// every name), else the registry's.
Result<TrustPolicy> readTrustPolicy(const Options &options) {
  if (!options.trustFile.empty() && !options.keyFiles.empty())
    return Error{ErrorCode::InvalidArgument,
                 "give the trusted keys one way: --trust or --key, not both"};
  if (!options.trustFile.empty()) {
    Result<TrustPolicy> policy = TrustPolicy::readFile(options.trustFile);
    if (!policy)
      return Error{policy.error().code, "--trust " + policy.error().message};
    return policy;
  }
  if (!options.keyFiles.empty()) {
    TrustPolicy policy;
    for (const std::string &file : options.keyFiles) {
      Result<PublicKey> key = PublicKey::readFile(file);
      if (!key)
        return Error{key.error().code, "--key " + key.error().message};
      (void)policy.add(*key, {"*"});
    }
    return policy;
  }
  Result<Registry> registry = Registry::open(options.registryDirectory);
  Result<TrustPolicy> policy =
      registry ? registry->trust() : Result<TrustPolicy>(registry.error());
  if (!policy)
    return Error{policy.error().code,
                 "the registry's trusted keys: " + policy.error().message};
  return policy;
}

/// readTrustPolicy(), printing the error on failure.
std::optional<TrustPolicy> trustPolicy(const Options &options) {
  Result<TrustPolicy> policy = readTrustPolicy(options);
  if (!policy) {
    error(policy.error().message);
    return std::nullopt;
  }
  return std::move(*policy);
}

/// The artifact a registry reference (NAME[@VERSION]) names, checked with
/// the registry's trusted keys and, when --trust or --key is given, with
/// those too: keys given on the command line must vouch for it as well.
Result<Artifact> fetchFromRegistry(const Options &options) {
  Result<Registry> registry = Registry::open(options.registryDirectory);
  if (!registry)
    return registry.error();
  Result<Artifact> artifact = registry->fetch(options.inputFile);
  if (!artifact)
    return Error{artifact.error().code,
                 artifact.error().message +
                     " (a module is a .twa, .wasm, .wat, .so or .ptx file, or "
                     "a registry reference NAME[@VERSION])"};
  if (options.trustFile.empty() && options.keyFiles.empty())
    return artifact;
  Result<TrustPolicy> policy = readTrustPolicy(options);
  if (!policy)
    return policy.error();
  return Artifact::verify(std::string(artifact->bytes()), *policy);
}

/// Whether `inputFile` names a registry entry rather than a file: it has
/// none of the extensions a module file has.
bool isRegistryReference(std::string_view inputFile) {
  std::string_view extension = extensionOf(inputFile);
  return extension != ".twa" && extension != ".wasm" && extension != ".wat" &&
         extension != ".so" && extension != ".ptx";
}

std::shared_ptr<Module> loadVerified(Device &device, const std::string &what,
                                     Result<Artifact> artifact) {
  if (!artifact) {
    error(artifact.error().message);
    return nullptr;
  }
  Result<std::shared_ptr<Module>> module = device.loadArtifact(*artifact);
  if (!module) {
    error(what + ": " + module.error().message);
    return nullptr;
  }
  return *module;
}

/// Code this process has just compiled, signed with a key that lives only
/// as long as the run, so that it reaches the device through the same
/// verification as any artifact.
Result<Artifact> signForThisRun(const std::string &inputFile,
                                const std::string &target,
                                CompiledCode compiled) {
  Result<SigningKey> key = SigningKey::generate();
  if (!key)
    return key.error();
  ArtifactContents contents;
  contents.name = "local/run";
  contents.created = static_cast<int64_t>(std::time(nullptr));
  contents.expires = contents.created + 3600;
  contents.wasm = std::move(compiled.wasm);
  contents.targets.push_back(
      {target, std::move(compiled.code), std::move(compiled.manifest)});
  Result<std::string> bytes = buildArtifact(contents, *key);
  if (!bytes)
    return Error{bytes.error().code, inputFile + ": " + bytes.error().message};
  TrustPolicy policy;
  (void)policy.add(key->publicKey(), {contents.name});
  return Artifact::verify(std::move(*bytes), policy);
}

/// The module, from a signed artifact, a registry, code compiled here, or
/// (--allow-unsigned) a .so or .ptx with its manifest. Prints the error and
/// returns null on failure.
std::shared_ptr<Module> loadModule(Device &device, const Options &options,
                                   const CompileFunction &compile) {
  const std::string &inputFile = options.inputFile;
  std::string_view extension = extensionOf(inputFile);
  if (extension == ".twa") {
    std::optional<TrustPolicy> policy = trustPolicy(options);
    if (!policy)
      return nullptr;
    return loadVerified(device, inputFile,
                        Artifact::readFile(inputFile, *policy));
  }
  if (extension == ".so" || extension == ".ptx") {
    if (!options.allowUnsigned) {
      error(inputFile + ": unsigned compiled code is loaded only with "
                        "--allow-unsigned (development only); run a signed "
                        "artifact (twasm compile --sign), or the .wasm");
      return nullptr;
    }
    if (extension != device.codeExtension()) {
      const char *runs = device.codeExtension() == ".so"
                             ? "CPU code (.so, twasm compile --target host)"
                             : "PTX (.ptx, twasm compile --target sm_XY)";
      const char *is = extension == ".so" ? "CPU code" : "PTX";
      error(inputFile + ": this is " + is + ", but the " +
            deviceKindName(device.kind()) + " device runs " + runs +
            (compile ? "; pass the .wasm to compile it for the device, or "
                       "choose another --device"
                     : "; compile the .wasm for the device, or choose "
                       "another --device"));
      return nullptr;
    }
    std::string manifestPath =
        inputFile.substr(0, inputFile.size() - extension.size()) + ".json";
    std::string code, manifest, why;
    if (!readFile(inputFile, code, why)) {
      error(inputFile + ": " + why);
      return nullptr;
    }
    if (!readFile(manifestPath, manifest, why)) {
      error(manifestPath + ": " + why +
            " (a compiled module is loaded with the manifest `twasm "
            "compile` writes beside it)");
      return nullptr;
    }
    Result<std::shared_ptr<Module>> module = device.loadModule(code, manifest);
    if (!module) {
      error(inputFile + ": " + module.error().message);
      return nullptr;
    }
    return *module;
  }
  if (isRegistryReference(inputFile)) {
    Result<Artifact> artifact = fetchFromRegistry(options);
    if (!artifact)
      return loadVerified(device, inputFile,
                          Error{artifact.error().code,
                                inputFile + ": " + artifact.error().message});
    return loadVerified(device, inputFile, std::move(artifact));
  }

  std::string target = device.codeTarget();
  if (!compile) {
    error(options.program + " runs compiled modules; compile " + inputFile +
          " with `twasm compile " + inputFile + " --target " + target +
          " --sign KEY` first (or use `twasm run`)");
    return nullptr;
  }
  CompiledCode compiled = compile(inputFile, target);
  if (!compiled.error.empty()) {
    error(inputFile + ": " + compiled.error);
    return nullptr;
  }
  if (!options.quiet)
    std::fprintf(stderr, "compiled %s for %s in %.1f ms\n", inputFile.c_str(),
                 target.c_str(), compiled.milliseconds);
  return loadVerified(device, inputFile,
                      signForThisRun(inputFile, target, std::move(compiled)));
}

std::string milliseconds(std::chrono::nanoseconds elapsed) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", elapsed.count() / 1e6);
  return text;
}

void printLine(const std::string &line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

} // namespace

//===----------------------------------------------------------------------===//
// Snapshots
//===----------------------------------------------------------------------===//

/// The --snapshot-key files: all of them to check a restore, the first to
/// make a snapshot.
struct SnapshotKeys {
  SnapshotKeyring ring;
  std::optional<SnapshotKey> first;
};

/// The snapshot keys, once the snapshot options are checked; prints the
/// error and returns nullopt on bad ones.
std::optional<SnapshotKeys> readSnapshotKeys(const Options &options) {
  bool saving = !options.saveSnapshot.empty();
  bool restoring = !options.restoreSnapshot.empty();
  auto fail = [](const std::string &message) {
    error(message);
    return std::nullopt;
  };
  if ((saving || restoring) && options.snapshotKeyFiles.empty())
    return fail("--save-snapshot and --restore-snapshot need --snapshot-key");
  if (!saving && !restoring && !options.snapshotKeyFiles.empty())
    return fail("--snapshot-key without --save-snapshot or --restore-snapshot");
  if (saving && !restoring && options.snapshotKeyFiles.size() > 1)
    return fail("--save-snapshot takes one --snapshot-key");
  if (!saving && (options.compress || !options.counterText.empty()))
    return fail("--compress and --counter go with --save-snapshot");
  if (!options.counterText.empty() &&
      (options.saveSnapshot[0] == '@' || !parseUnsigned(options.counterText)))
    return fail("--counter " + options.counterText +
                ": expected a number, for a snapshot file (a store issues "
                "its own)");
  SnapshotKeys keys;
  for (const std::string &path : options.snapshotKeyFiles) {
    Result<SnapshotKey> key = SnapshotKey::readFile(path);
    if (!key)
      return fail("--snapshot-key " + key.error().message);
    if (!keys.first)
      keys.first = *key;
    if (Status added = keys.ring.add(*key); !added)
      return fail("--snapshot-key " + path + ": " + added.error().message);
  }
  return keys;
}

/// The registry's snapshot store, for @NAME.
Result<SnapshotStore> snapshotStore(const Options &options) {
  std::string registry = options.registryDirectory.empty()
                             ? Registry::defaultDirectory()
                             : options.registryDirectory;
  if (registry.empty())
    return Error{ErrorCode::InvalidArgument,
                 "no registry for @NAME: pass --registry DIR, or set "
                 "TWASM_REGISTRY or HOME"};
  return SnapshotStore::open(registry + "/snapshots");
}

Result<std::unique_ptr<Instance>> restoreInstance(Module &module,
                                                  const Options &options,
                                                  const SnapshotKeyring &keys) {
  RestoreOptions restore;
  if (!options.tenant.empty())
    restore.tenant = options.tenant;
  SnapshotInfo info;
  Result<std::unique_ptr<Instance>> instance =
      Error{ErrorCode::InvalidArgument, ""};
  const std::string &source = options.restoreSnapshot;
  auto start = std::chrono::steady_clock::now();
  if (source[0] == '@') {
    Result<SnapshotStore> store = snapshotStore(options);
    if (!store)
      return store.error();
    instance = store->restore(source.substr(1), module, keys, restore, &info);
  } else {
    instance = restoreSnapshotFile(module, source, keys, restore, &info);
  }
  if (instance && !options.quiet)
    std::fprintf(
        stderr,
        "restored %s: %llu bytes of memory, counter %llu, tenant "
        "'%s', taken on %s, in %s\n",
        source.c_str(), static_cast<unsigned long long>(info.memoryBytes),
        static_cast<unsigned long long>(info.metadata.counter),
        info.metadata.tenant.c_str(), deviceKindName(info.metadata.device),
        milliseconds(std::chrono::steady_clock::now() - start).c_str());
  return instance;
}

bool saveInstance(const Module &module, Instance &instance,
                  const Options &options, const SnapshotKey &key) {
  SnapshotOptions snapshot;
  snapshot.tenant = options.tenant;
  snapshot.counter = parseUnsigned(options.counterText).value_or(0);
  snapshot.compression =
      options.compress ? SnapshotCompression::Zstd : SnapshotCompression::None;
  const std::string &target = options.saveSnapshot;
  Result<SnapshotInfo> info = Error{ErrorCode::InvalidArgument, ""};
  if (target[0] == '@') {
    Result<SnapshotStore> store = snapshotStore(options);
    if (!store) {
      error("--save-snapshot " + target + ": " + store.error().message);
      return false;
    }
    info = store->save(target.substr(1), module, instance, key, snapshot);
  } else {
    info = writeSnapshotFile(target, module, instance, key, snapshot);
  }
  if (!info) {
    error("--save-snapshot " + target + ": " + info.error().message);
    return false;
  }
  double percent =
      info->memoryBytes ? 100.0 * info->fileBytes / info->memoryBytes : 0;
  char line[512];
  std::snprintf(line, sizeof line,
                "snapshot %s: %llu bytes (%.3g%% of %llu bytes of memory), "
                "counter %llu, key '%s'",
                target.c_str(),
                static_cast<unsigned long long>(info->fileBytes), percent,
                static_cast<unsigned long long>(info->memoryBytes),
                static_cast<unsigned long long>(info->metadata.counter),
                info->keyId.c_str());
  printLine(line);
  return true;
}

//===----------------------------------------------------------------------===//
// Programs: a module's entry run as host code (docs/host-programs.md)
//===----------------------------------------------------------------------===//

/// Runs the module as a program when it is one: a .wasm or .wat that
/// exports `_start` (and no kernel was asked for), or whose --invoke names
/// an exported function that is not a kernel. Returns the exit status, or
/// nothing when the module is to be run as a kernel.
std::optional<int> runIfProgram(const Options &options,
                                const CompileFunction &compile) {
  std::string_view extension = extensionOf(options.inputFile);
  bool source = extension == ".wasm" || extension == ".wat";
  bool fetched = isRegistryReference(options.inputFile);
  if ((!source || !compile) && extension != ".twa" && !fetched)
    return std::nullopt;
  if (!options.gridText.empty() || !options.blockText.empty() ||
      !options.fillTexts.empty() || !options.printTexts.empty() ||
      !options.outTexts.empty() || options.noLaunch ||
      !options.saveSnapshot.empty() || !options.restoreSnapshot.empty())
    return std::nullopt;
  // The host code: compiled here from a .wasm or .wat, or a signed
  // artifact's "host" target (`twasm compile --target host,sm_90 --sign`,
  // one artifact with both, which twasm-run runs without a compiler), from
  // a file or the registry.
  std::string hostCode, hostManifest;
  std::optional<Artifact> signedArtifact;
  if (source) {
    CompiledCode compiled = compile(options.inputFile, "host");
    if (!compiled.error.empty())
      return std::nullopt; // the kernel path reports it, for its device
    hostCode = std::move(compiled.code);
    hostManifest = std::move(compiled.manifest);
  } else {
    std::optional<TrustPolicy> policy;
    if (!fetched && !(policy = trustPolicy(options)))
      return 1;
    Result<Artifact> artifact =
        fetched ? fetchFromRegistry(options)
                : Artifact::readFile(options.inputFile, *policy);
    if (!artifact && fetched)
      return std::nullopt; // the kernel path says why, for either
    if (!artifact)
      return error(artifact.error().message);
    std::optional<std::string_view> code = artifact->payload("code", "host");
    std::optional<std::string_view> manifest =
        artifact->payload("kernel-manifest", "host");
    if (!code || !manifest)
      return std::nullopt; // no host code: kernels only
    hostCode = std::string(*code);
    hostManifest = std::string(*manifest);
    signedArtifact = std::move(*artifact);
  }
  cpu::Expected<cpu::ModuleDescription> description =
      cpu::ModuleDescription::parse(hostManifest);
  if (!description)
    return std::nullopt;
  std::string entry =
      options.kernelName.empty() ? "_start" : options.kernelName;
  const cpu::ModuleDescription::Export *exported =
      description->findExport(entry);
  if (!exported || exported->kind != cpu::ModuleDescription::ExportKind::Func ||
      description->findKernel(entry))
    return std::nullopt;

  // Its kernels run on the GPU where there is one (auto) or one is asked
  // for, sharing the program's memory; else on the CPU.
  std::optional<DeviceKind> kind = parseDeviceKind(options.deviceName);
  if (!kind)
    return error("--device " + options.deviceName +
                 ": expected auto, cuda, cpu or mock");
  program::ProgramOptions programOptions;
  std::string deviceLine = "cpu (a program: host code and its kernels on "
                           "the CPU)";
  if (*kind != DeviceKind::Cpu) {
    if (options.memoryMode != MemoryMode::Managed)
      return error("--memory device: a program shares its memory with its "
                   "kernels through managed memory");
    DeviceOptions deviceOptions;
    deviceOptions.kind = *kind;
    deviceOptions.memory = MemoryMode::Managed;
    Result<std::shared_ptr<Device>> device = Device::open(deviceOptions);
    if (!device)
      return error("--device " + options.deviceName + ": " +
                   device.error().message);
    if ((*device)->kind() != DeviceKind::Cpu) {
      if (!signedArtifact) {
        std::string target = (*device)->codeTarget();
        CompiledCode kernels = compile(options.inputFile, target);
        if (!kernels.error.empty())
          return error(options.inputFile + ": " + kernels.error);
        Result<Artifact> artifact =
            signForThisRun(options.inputFile, target, std::move(kernels));
        if (!artifact)
          return error(artifact.error().message);
        signedArtifact = std::move(*artifact);
      }
      Result<std::shared_ptr<Module>> module =
          (*device)->loadArtifact(*signedArtifact);
      if (!module)
        return error(options.inputFile + ": " + module.error().message);
      programOptions.gpuKernels = *module;
      programOptions.gpuName = (*device)->description();
      deviceLine = (*device)->description() +
                   " (a program: host code on the CPU, its kernels there)";
    }
  }

  std::vector<uint64_t> arguments;
  if (entry == "_start") {
    size_t slash = options.inputFile.find_last_of('/');
    programOptions.args.push_back(slash == std::string::npos
                                      ? options.inputFile
                                      : options.inputFile.substr(slash + 1));
    for (const std::string &text : options.argumentTexts)
      programOptions.args.push_back(text);
  } else {
    const std::vector<cpu::ValueType> &params = exported->signature.params;
    if (options.argumentTexts.size() != params.size())
      return error("'" + entry + "' takes " + std::to_string(params.size()) +
                   " arguments, " +
                   std::to_string(options.argumentTexts.size()) + " given");
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i] == cpu::ValueType::FuncRef ||
          params[i] == cpu::ValueType::ExternRef)
        return error("'" + entry +
                     "' takes a reference, which --invoke "
                     "cannot pass");
      ValueType type = static_cast<ValueType>(params[i]);
      std::optional<Value> value =
          parseArgument(type, options.argumentTexts[i]);
      if (!value)
        return error("argument " + std::to_string(i + 1) + " '" +
                     options.argumentTexts[i] + "': expected " +
                     expectedForm(type));
      arguments.push_back(value->bits);
    }
    programOptions.args.push_back(entry);
  }
  programOptions.environment = options.environment;
  if (options.maxMemoryBytes)
    programOptions.memoryCapacity = *options.maxMemoryBytes;
  programOptions.kernelWorkers = options.cpuWorkers;
  programOptions.kernelTimeout = std::chrono::milliseconds(options.timeoutMs);
  if (!options.quiet)
    std::fprintf(stderr, "device: %s\n", deviceLine.c_str());
  cpu::Expected<std::unique_ptr<program::Program>> program =
      program::Program::load(hostCode, hostManifest, programOptions);
  if (!program)
    return error(options.inputFile + ": " + program.error().message);
  cpu::Expected<program::ProgramOutcome> outcome =
      (*program)->run(entry, std::move(arguments));
  std::fflush(stdout);
  if (!outcome)
    return error(options.inputFile + ": " + outcome.error().message);
  switch (outcome->kind) {
  case program::ProgramOutcome::Kind::Exited:
    return static_cast<int>(outcome->exitStatus & 0xff);
  case program::ProgramOutcome::Kind::Trapped:
    std::fprintf(stderr, "trapped: %s in function %u at offset 0x%x\n",
                 abi::trapMessage(outcome->trap.trap), outcome->trap.function,
                 outcome->trap.offset);
    return 2;
  case program::ProgramOutcome::Kind::Returned:
    break;
  }
  const std::vector<cpu::ValueType> &results = exported->signature.results;
  for (size_t i = 0; i < results.size(); ++i) {
    switch (results[i]) {
    case cpu::ValueType::I32:
      printLine(formatElement(Element::I32, outcome->results[i]));
      break;
    case cpu::ValueType::I64:
      printLine(formatElement(Element::I64, outcome->results[i]));
      break;
    case cpu::ValueType::F32:
      printLine(formatElement(Element::F32, outcome->results[i]));
      break;
    case cpu::ValueType::F64:
      printLine(formatElement(Element::F64, outcome->results[i]));
      break;
    default:
      printLine(outcome->results[i] ? "ref" : "null");
    }
  }
  return 0;
}

int runMain(int argc, char **argv, const CompileFunction &compile) {
  Options options;
  std::string_view self = argc > 0 ? argv[0] : "twasm-run";
  if (self == "run") {
    options.program = "twasm run";
  } else {
    size_t slash = self.find_last_of('/');
    options.program = std::string(
        slash == std::string_view::npos ? self : self.substr(slash + 1));
  }
  if (!parseCommandLine(argc, argv, options))
    return 1;
  if (options.help) {
    printHelp(options, static_cast<bool>(compile));
    return 0;
  }
  const std::string &inputFile = options.inputFile;
  if (std::optional<int> status = runIfProgram(options, compile))
    return *status;

  // Everything that can be checked before the device opens.
  if (options.maxMemoryBytes)
    return error("--max-memory is a program's (a module run from its entry); "
                 "a kernel's memory is what its module declares and --grow "
                 "adds");
  std::optional<DeviceKind> kind = parseDeviceKind(options.deviceName);
  if (!kind)
    return error("--device " + options.deviceName +
                 ": expected auto, cuda, cpu or mock");
  if (options.repeat == 0)
    return error("--repeat 0: expected at least one launch");
  std::optional<Dim3> grid = Dim3{};
  if (!options.gridText.empty() && !(grid = parseDim3(options.gridText)))
    return error("--grid " + options.gridText +
                 ": expected X[,Y[,Z]], each from 1 to 4294967295");
  std::optional<Dim3> block;
  if (!options.blockText.empty() && !(block = parseDim3(options.blockText)))
    return error("--block " + options.blockText +
                 ": expected X[,Y[,Z]], each from 1 to 4294967295");
  std::string why;
  std::vector<Fill> fills;
  for (const std::string &text : options.fillTexts) {
    std::optional<Fill> fill = parseFill(text, why);
    if (!fill)
      return error("--fill " + text + ": " + why);
    fills.push_back(std::move(*fill));
  }
  std::vector<Readback> readbacks;
  for (const std::string &text : options.printTexts) {
    std::optional<Readback> print = parsePrint(text, why);
    if (!print)
      return error("--print " + text + ": " + why);
    readbacks.push_back(std::move(*print));
  }
  for (const std::string &text : options.outTexts) {
    std::optional<Readback> out = parseOut(text, why);
    if (!out)
      return error("--out " + text + ": " + why);
    readbacks.push_back(std::move(*out));
  }

  std::optional<SnapshotKeys> snapshotKeys = readSnapshotKeys(options);
  if (!snapshotKeys)
    return 1;

  DeviceOptions deviceOptions;
  deviceOptions.kind = *kind;
  deviceOptions.cpuWorkers = options.cpuWorkers;
  deviceOptions.memory = options.memoryMode;
  deviceOptions.allowUnsignedCode = options.allowUnsigned;
  Result<std::shared_ptr<Device>> device = Device::open(deviceOptions);
  if (!device)
    return error("--device " + options.deviceName + ": " +
                 device.error().message);
  if (!options.quiet)
    std::fprintf(stderr, "device: %s\n", (*device)->description().c_str());

  std::shared_ptr<Module> module = loadModule(**device, options, compile);
  if (!module)
    return 1;
  const std::vector<KernelInfo> &kernels = module->kernels();
  std::string known;
  for (const KernelInfo &candidate : kernels)
    known += (known.empty() ? "" : ", ") + signature(candidate);
  const KernelInfo *kernel = nullptr;
  if (options.noLaunch) {
    if (!options.argumentTexts.empty() || !options.kernelName.empty())
      return error("--no-launch: no kernel or kernel arguments expected");
  } else if (!options.kernelName.empty()) {
    kernel = module->findKernel(options.kernelName);
    if (!kernel)
      return error(inputFile + ": no kernel '" + options.kernelName + "'" +
                   (known.empty() ? " (the module declares none)"
                                  : " (its kernels: " + known + ")"));
  } else if (kernels.size() == 1) {
    kernel = &kernels.front();
  } else if (kernels.empty()) {
    return error(inputFile +
                 ": the module declares no kernels (docs/kernel-abi.md, "
                 "section 1)");
  } else {
    return error(inputFile +
                 ": the module has several kernels; choose one "
                 "with --invoke (" +
                 known + ")");
  }

  const std::vector<std::string> &argumentTexts = options.argumentTexts;
  if (kernel && argumentTexts.size() != kernel->params.size())
    return error("kernel " + signature(*kernel) + " takes " +
                 std::to_string(kernel->params.size()) + " argument" +
                 (kernel->params.size() == 1 ? "" : "s") + ", given " +
                 std::to_string(argumentTexts.size()));
  std::vector<Value> arguments;
  for (size_t i = 0; kernel && i < kernel->params.size(); ++i) {
    std::optional<Value> argument =
        parseArgument(kernel->params[i], argumentTexts[i]);
    if (!argument)
      return error("argument " + std::to_string(i + 1) + " of kernel " +
                   signature(*kernel) + ", '" + argumentTexts[i] +
                   "', is not an " + valueTypeName(kernel->params[i]) +
                   ": expected " + expectedForm(kernel->params[i]));
    arguments.push_back(*argument);
  }

  Result<std::unique_ptr<Instance>> created =
      options.restoreSnapshot.empty()
          ? module->instantiate()
          : restoreInstance(*module, options, snapshotKeys->ring);
  if (!created)
    return error(options.restoreSnapshot.empty()
                     ? inputFile +
                           ": cannot instantiate: " + created.error().message
                     : "--restore-snapshot " + options.restoreSnapshot + ": " +
                           created.error().message);
  Instance &instance = **created;
  if (options.growPages > 0) {
    Result<uint32_t> grown = instance.grow(options.growPages);
    if (!grown)
      return error("--grow " + std::to_string(options.growPages) + ": " +
                   grown.error().message);
  }
  uint64_t memoryBytes = instance.memoryBytes();
  for (const Fill &fill : fills) {
    // What is generated must first fit: a COUNT beyond memory would
    // otherwise be allocated here before the API refuses it.
    if (fill.bytes() > memoryBytes)
      return error("--fill " + fill.option + ": " +
                   std::to_string(fill.bytes()) +
                   " bytes do not fit in linear memory (" +
                   std::to_string(memoryBytes) + " bytes)");
    std::string bytes = fill.generate();
    if (Status status =
            instance.write(fill.address, bytes.data(), bytes.size());
        !status)
      return error("--fill " + fill.option + ": " + status.error().message);
  }
  // Ranges to read back are checked, and --out's files opened, before the
  // launch, so that a typo does not cost a long run.
  for (Readback &readback : readbacks) {
    if (readback.bytes > memoryBytes)
      return error(readback.option + ": " + std::to_string(readback.bytes) +
                   " bytes do not fit in linear memory (" +
                   std::to_string(memoryBytes) + " bytes)");
    readback.data.resize(readback.bytes);
    if (Status status = instance.read(readback.address, readback.data.data(),
                                      readback.bytes);
        !status)
      return error(readback.option + ": " + status.error().message);
    if (!readback.type) {
      readback.file.reset(std::fopen(readback.path.c_str(), "wb"));
      if (!readback.file)
        return error(readback.option + ": cannot write " + readback.path +
                     ": " + std::strerror(errno));
    }
  }

  LaunchOptions launch;
  launch.grid = *grid;
  launch.block = block    ? *block
                 : kernel ? kernel->block.value_or(Dim3{})
                          : Dim3{};
  launch.sharedBytes = options.sharedBytes;
  launch.timeout = std::chrono::milliseconds(options.timeoutMs);
  std::vector<std::chrono::nanoseconds> times;
  uint64_t threads = 0;
  int status = 0;
  unsigned repeat = options.noLaunch ? 0 : options.repeat;
  for (unsigned i = 0; i < repeat && status == 0; ++i) {
    Result<LaunchResult> result =
        instance.launch(kernel->name, launch, arguments);
    if (!result)
      return error(result.error().message);
    std::string which = repeat > 1 ? " (launch " + std::to_string(i + 1) +
                                         " of " + std::to_string(repeat) + ")"
                                   : "";
    switch (result->outcome) {
    case LaunchResult::Outcome::Completed:
      times.push_back(result->elapsed);
      threads = result->threads;
      break;
    case LaunchResult::Outcome::Trapped:
      printLine("trapped: " + result->trap.describe() + which);
      status = 2;
      break;
    case LaunchResult::Outcome::Interrupted:
      printLine("interrupted after " + milliseconds(result->elapsed) +
                " (--timeout " + std::to_string(options.timeoutMs) + ")" +
                which);
      status = 3;
      break;
    }
  }
  if (status == 0 && !options.noLaunch) {
    std::string threadCount =
        std::to_string(threads) + (threads == 1 ? " thread" : " threads");
    const char *kindName = deviceKindName((*device)->kind());
    if (times.size() == 1) {
      printLine("completed in " + milliseconds(times.front()) + " (" +
                threadCount + ") on " + kindName);
    } else {
      std::sort(times.begin(), times.end());
      size_t middle = times.size() / 2;
      std::chrono::nanoseconds median =
          times.size() % 2 ? times[middle]
                           : (times[middle - 1] + times[middle]) / 2;
      printLine("completed in " + milliseconds(times.front()) + " (min of " +
                std::to_string(times.size()) + " launches, median " +
                milliseconds(median) + "; " + threadCount + ") on " + kindName);
    }
  }

  // What the launch left in memory, whatever its outcome: after a trap it
  // shows how far the kernel got.
  for (Readback &readback : readbacks) {
    if (Status read = instance.read(readback.address, readback.data.data(),
                                    readback.bytes);
        !read)
      return error(readback.option + ": " + read.error().message);
    if (readback.type) {
      unsigned size = info(*readback.type).bytes;
      std::string line;
      for (uint64_t offset = 0; offset < readback.bytes; offset += size) {
        if (offset)
          line += ' ';
        line += formatElement(*readback.type,
                              readLittleEndian(&readback.data[offset], size));
      }
      printLine(line);
      continue;
    }
    std::FILE *file = readback.file.release();
    bool failed = std::fwrite(readback.data.data(), 1, readback.data.size(),
                              file) != readback.data.size();
    int saved = errno;
    if (std::fclose(file) != 0 && !failed) {
      failed = true;
      saved = errno;
    }
    if (failed)
      return error(readback.option + ": cannot write " + readback.path + ": " +
                   std::strerror(saved));
  }
  if (status == 0 && !options.saveSnapshot.empty())
    if (!saveInstance(*module, instance, options, *snapshotKeys->first))
      return 1;
  std::fflush(stdout);
  return status;
}

} // namespace tensorwasm::tool
