//===- TestSupport.h - what the runtime's unit tests share ------*- C++ -*-===//
//
// Reading a test's input files, and temporary directories that are removed
// with everything in them.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TEST_UNIT_TESTSUPPORT_H
#define TWASM_TEST_UNIT_TESTSUPPORT_H

#include "support/Files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tensorwasm::testing {

/// The whole file at `path`; a failed expectation (and "") if it cannot be
/// read.
inline std::string readTestFile(const std::string &path) {
  std::string why;
  std::optional<std::string> contents = files::readFile(path, &why);
  EXPECT_TRUE(contents) << path << ": " << why;
  return contents.value_or("");
}

/// A directory under /tmp, removed with everything in it at the end of its
/// scope.
class TemporaryDirectory {
public:
  TemporaryDirectory() {
    char pattern[] = "/tmp/twasm-test-XXXXXX";
    if (!mkdtemp(pattern))
      throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory &) = delete;
  TemporaryDirectory &operator=(const TemporaryDirectory &) = delete;
  const std::string &str() const { return path; }

private:
  std::string path;
};

} // namespace tensorwasm::testing

#endif // TWASM_TEST_UNIT_TESTSUPPORT_H
