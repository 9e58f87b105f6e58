//===- SpecScripts.cpp - the spec suite's .wast scripts as JSON -----------===//

#include "SpecScripts.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace llvm;

std::variant<tensorwasm::testing::SuiteRun, int>
tensorwasm::testing::prepareSuiteRun(StringRef suiteDir,
                                     StringRef wast2jsonPath,
                                     StringRef scratchPrefix) {
  if (!sys::fs::is_directory(suiteDir)) {
    outs() << "SKIPPED: no spec test suite at " << suiteDir
           << " (pass --suite or set TWASM_SPEC_TESTSUITE)\n";
    return kSkippedExitCode;
  }
  ErrorOr<std::string> wast2json = sys::findProgramByName(wast2jsonPath);
  if (!wast2json) {
    outs() << "SKIPPED: wast2json not found (install wabt: "
              "scripts/install-deps.sh)\n";
    return kSkippedExitCode;
  }
  SmallString<128> scratch;
  if (sys::fs::createUniqueDirectory(scratchPrefix, scratch)) {
    errs() << "error: cannot create a scratch directory\n";
    return 1;
  }
  return SuiteRun{*wast2json, listWastFiles(suiteDir), scratch.str().str()};
}

std::vector<std::string>
tensorwasm::testing::listWastFiles(StringRef directory) {
  std::vector<std::string> files;
  std::error_code ec;
  for (sys::fs::directory_iterator it(directory, ec), end; it != end && !ec;
       it.increment(ec))
    if (sys::path::extension(it->path()) == ".wast")
      files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

Expected<json::Value> tensorwasm::testing::convertWast(StringRef wast2json,
                                                       StringRef wast,
                                                       StringRef directory) {
  if (std::error_code error = sys::fs::create_directories(directory))
    return createStringError(error, "cannot create " + directory);
  SmallString<256> jsonPath(directory);
  sys::path::append(jsonPath, sys::path::stem(wast) + ".json");
  std::string message;
  int status =
      sys::ExecuteAndWait(wast2json, {wast2json, wast, "-o", jsonPath.str()},
                          std::nullopt, {}, 0, 0, &message);
  if (status != 0)
    return createStringError(inconvertibleErrorCode(),
                             "wast2json failed " + message);
  auto buffer = MemoryBuffer::getFile(jsonPath);
  if (!buffer)
    return createStringError(inconvertibleErrorCode(),
                             "wast2json wrote no JSON");
  Expected<json::Value> script = json::parse((*buffer)->getBuffer());
  if (script && !script->getAsObject())
    return createStringError(inconvertibleErrorCode(),
                             "wast2json's output is not a JSON object");
  return script;
}
