//===- PromoteLocals.cpp - promote Wasm locals to SSA values
//---------------===//

#include "twasm/Transforms/Passes.h"

#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Transforms/Mem2Reg.h"

namespace mlir::twasm {
#define GEN_PASS_DEF_TWASMPROMOTELOCALSPASS
#include "twasm/Transforms/Passes.h.inc"
} // namespace mlir::twasm

using namespace mlir;
using namespace mlir::twasm;

namespace {
struct PromoteLocalsPass
    : public twasm::impl::TwasmPromoteLocalsPassBase<PromoteLocalsPass> {
  void runOnOperation() override {
    FuncOp func = getOperation();
    // mem2reg leaves a slot without uses alone; such a slot is simply dead.
    SmallVector<PromotableAllocationOpInterface> locals;
    func.walk([&](LocalOp local) {
      if (local->use_empty())
        local.erase();
      else
        locals.push_back(local);
    });
    if (locals.empty())
      return;

    OpBuilder builder(func.getContext());
    DominanceInfo dominance(func);
    DataLayout dataLayout = DataLayout::closest(func);
    Mem2RegStatistics statistics{&numPromotedLocals, &numBlockArguments};
    // The result only says whether anything was promoted; what matters is
    // whether every slot was, which the walk below checks.
    (void)tryToPromoteMemorySlots(locals, builder, dataLayout, dominance,
                                  statistics);

    WalkResult leftover = func.walk([](LocalOp local) {
      local.emitOpError("could not be promoted to SSA values: a use of the "
                        "slot is not a twasm.local.get or twasm.local.set");
      return WalkResult::interrupt();
    });
    if (leftover.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
