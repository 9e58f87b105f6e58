//===- HostBackendTest.cpp - the CPU backend end to end -------------------===//
//
// Modules compiled by the CPU backend and run by the runtime's host loader:
// traps come back as typed values and leave the instance usable, an endless
// loop or recursion is stopped (by its timeout, or by the stack limit), and
// the loader refuses what is not TensorWasm host code with a clear error.
//
//===----------------------------------------------------------------------===//

#include "cpu/HostModule.h"
#include "twasm/Import/WasmImporter.h"
#include "twasm/InitAll.h"
#include "twasm/Pipelines/HostCompiler.h"
#include "twasm/Pipelines/Manifest.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <chrono>

namespace cpu = tensorwasm::cpu;
using tensorwasm::abi::TrapCode;

namespace {

struct Compiled {
  std::shared_ptr<cpu::LoadedCode> code;
  cpu::ModuleDescription description;
};

/// Compiles `wat` for the host and loads it; fails the test on any error.
Compiled compile(const std::string &wat) {
  mlir::DialectRegistry registry;
  mlir::twasm::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto module = mlir::twasm::importWasmModule(context, "test.wat", wat);
  if (!module) {
    ADD_FAILURE() << llvm::toString(module.takeError());
    return {};
  }
  mlir::twasm::HostTarget target;
  std::string manifest = mlir::twasm::writeHostManifest(**module, target.cpu);
  auto artifacts = mlir::twasm::compileForHost(std::move(*module), target);
  if (!artifacts) {
    ADD_FAILURE() << llvm::toString(artifacts.takeError());
    return {};
  }
  auto code = cpu::LoadedCode::load(artifacts->sharedObject);
  auto description = cpu::ModuleDescription::parse(manifest);
  if (!code || !description) {
    ADD_FAILURE() << (code ? description.error().message
                           : code.error().message);
    return {};
  }
  return {*code, *description};
}

std::unique_ptr<cpu::Instance> instantiate(const Compiled &compiled) {
  auto instance =
      cpu::Instance::create(compiled.code, compiled.description, {});
  if (!instance) {
    ADD_FAILURE() << instance.error().message;
    return nullptr;
  }
  std::atomic<uint32_t> control{0};
  auto started = (*instance)->instantiate(&control);
  EXPECT_TRUE(started && !started->trapped());
  return std::move(*instance);
}

uint32_t functionIndex(const cpu::Instance &instance, const char *name) {
  const cpu::ModuleDescription::Export *exported =
      instance.description().findExport(name);
  EXPECT_NE(exported, nullptr) << name;
  return exported ? exported->functionIndex : 0;
}

constexpr auto kLongEnough = std::chrono::seconds(10);

const char *kModule = R"(
  (module
    (memory 1 2)
    (data (i32.const 16) "\2a\00\00\00")
    (func (export "div") (param i32 i32) (result i32)
      (i32.div_u (local.get 0) (local.get 1)))
    (func (export "load") (param i32) (result i32)
      (i32.load (local.get 0)))
    (func (export "grow") (param i32) (result i32)
      (memory.grow (local.get 0)))
    (func (export "spin") (loop $forever (br $forever)))
    (func $recurse (export "recurse") (param i64) (result i64)
      (i64.add (i64.const 1) (call $recurse (local.get 0)))))
)";

TEST(HostBackend, TrapsAreTypedAndTheInstanceGoesOn) {
  Compiled compiled = compile(kModule);
  ASSERT_TRUE(compiled.code);
  std::unique_ptr<cpu::Instance> instance = instantiate(compiled);
  ASSERT_TRUE(instance);
  uint32_t div = functionIndex(*instance, "div");
  uint32_t load = functionIndex(*instance, "load");

  uint64_t values[2] = {7, 0};
  auto result = instance->callWithTimeout(div, values, kLongEnough);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->trap, TrapCode::IntegerDivideByZero);
  EXPECT_EQ(result->function, div);

  values[0] = 65536 - 3; // a 4-byte load straddling the end of memory
  result = instance->callWithTimeout(load, values, kLongEnough);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->trap, TrapCode::MemoryOutOfBounds);

  values[0] = 16; // the data segment
  result = instance->callWithTimeout(load, values, kLongEnough);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->trapped());
  EXPECT_EQ(values[0] & 0xffffffffu, 42u);
}

TEST(HostBackend, GrownMemoryIsUsableAndTheMaximumHolds) {
  Compiled compiled = compile(kModule);
  ASSERT_TRUE(compiled.code);
  std::unique_ptr<cpu::Instance> instance = instantiate(compiled);
  ASSERT_TRUE(instance);
  uint64_t values[1] = {1};
  auto grown = instance->callWithTimeout(functionIndex(*instance, "grow"),
                                         values, kLongEnough);
  ASSERT_TRUE(grown && !grown->trapped());
  EXPECT_EQ(values[0] & 0xffffffffu, 1u); // the old size in pages
  values[0] = 65536 + 100;
  auto loaded = instance->callWithTimeout(functionIndex(*instance, "load"),
                                          values, kLongEnough);
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->trapped());
  values[0] = 1; // beyond the maximum of 2 pages
  grown = instance->callWithTimeout(functionIndex(*instance, "grow"), values,
                                    kLongEnough);
  ASSERT_TRUE(grown && !grown->trapped());
  EXPECT_EQ(values[0] & 0xffffffffu, 0xffffffffu);
}

TEST(HostBackend, AnEndlessLoopIsInterruptedByItsTimeout) {
  Compiled compiled = compile(kModule);
  ASSERT_TRUE(compiled.code);
  std::unique_ptr<cpu::Instance> instance = instantiate(compiled);
  ASSERT_TRUE(instance);
  uint64_t values[2] = {0, 0};
  auto started = std::chrono::steady_clock::now();
  auto result = instance->callWithTimeout(
      functionIndex(*instance, "spin"), values, std::chrono::milliseconds(50));
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(result);
  EXPECT_EQ(result->trap, TrapCode::Interrupted);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // The instance serves the next call.
  values[0] = 9;
  values[1] = 3;
  result = instance->callWithTimeout(functionIndex(*instance, "div"), values,
                                     kLongEnough);
  ASSERT_TRUE(result && !result->trapped());
  EXPECT_EQ(values[0] & 0xffffffffu, 3u);
}

TEST(HostBackend, EndlessRecursionExhaustsTheStackAsATrap) {
  Compiled compiled = compile(kModule);
  ASSERT_TRUE(compiled.code);
  std::unique_ptr<cpu::Instance> instance = instantiate(compiled);
  ASSERT_TRUE(instance);
  uint64_t values[1] = {0};
  auto result = instance->callWithTimeout(functionIndex(*instance, "recurse"),
                                          values, kLongEnough);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->trap, TrapCode::CallStackExhausted);
}

TEST(HostBackend, TheLoaderRefusesWhatIsNotHostCode) {
  auto garbage = cpu::LoadedCode::load("not an ELF file");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("cannot load the compiled code"),
            std::string::npos)
      << garbage.error().message;

  auto notJson = cpu::ModuleDescription::parse("{");
  ASSERT_FALSE(notJson);
  EXPECT_EQ(notJson.error().message, "the manifest is not JSON");

  auto ptx = cpu::ModuleDescription::parse(
      R"({"format": "tensorwasm-kernel-manifest", "abi": 1,
          "target": {"kind": "ptx", "chip": "sm_90"}})");
  ASSERT_FALSE(ptx);
  EXPECT_NE(ptx.error().message.find("not for the CPU"), std::string::npos);

  // A slot outside the globals block would let code write past it.
  auto outside = cpu::ModuleDescription::parse(
      R"({"format": "tensorwasm-kernel-manifest", "abi": 1,
          "target": {"kind": "host", "cpu": "x86-64-v2"},
          "globals_bytes": 8, "memory": null,
          "globals": [{"symbol": "g", "type": "i32", "offset": 8,
                       "mutable": true, "import": null}],
          "tables": [], "function_imports": [], "exports": [],
          "start": null})");
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("outside the globals block"),
            std::string::npos);
}

} // namespace
