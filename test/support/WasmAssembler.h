//===- WasmAssembler.h - .wat text to .wasm bytes for tests, via wabt -----===//

#ifndef TWASM_TEST_SUPPORT_WASMASSEMBLER_H
#define TWASM_TEST_SUPPORT_WASMASSEMBLER_H

#include <string>
#include <string_view>

namespace mlir::twasm::test {

/// Assembles a WebAssembly text module into its binary encoding with wabt
/// (the reference text parser and binary writer). Aborts the test binary with
/// wabt's message if the text is not a valid module: inputs are written here.
std::string assembleWat(std::string_view wat);

} // namespace mlir::twasm::test

#endif // TWASM_TEST_SUPPORT_WASMASSEMBLER_H
