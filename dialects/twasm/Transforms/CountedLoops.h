//===- CountedLoops.h - loops with a constant trip count --------*- C++ -*-===//
//
// Recognizes, in a function's control-flow graph, the loops clang emits for
// `for (i = C0; i < C1; i += C2)`: a header whose induction variable starts
// at one constant, a single latch that adds a constant step and branches back
// while a comparison with a constant bound holds. Such a loop is simulated in
// Wasm's wrapping i32 arithmetic, so what it reports is exact.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TRANSFORMS_COUNTEDLOOPS_H
#define TWASM_TRANSFORMS_COUNTEDLOOPS_H

#include "twasm/TwasmOps.h"

#include "mlir/IR/Dominance.h"

#include <optional>

namespace mlir::twasm {

struct CountedLoop {
  /// The latch's conditional branch back to the header.
  BrIfOp backEdge;
  /// The header's argument that counts.
  BlockArgument inductionVariable;
  /// How many times the header is entered, the first entry included.
  uint64_t headerEntries = 0;
  /// The least and greatest values the induction variable has at the header.
  uint32_t minValue = 0, maxValue = 0;
};

/// The counted loop headed by `header`, if it is one and its header is
/// entered at most `maxHeaderEntries` times.
std::optional<CountedLoop> matchCountedLoop(Block &header,
                                            DominanceInfo &dominance,
                                            uint64_t maxHeaderEntries);

} // namespace mlir::twasm

#endif // TWASM_TRANSFORMS_COUNTEDLOOPS_H
