;; The module of the snapshot benchmark (SnapshotBench.cpp): linear memory
;; that grows up to 4 GiB, which the benchmark fills, snapshots and
;; restores, and one trivial kernel (a module loads with at least one).
(module
  (memory 1 65536)
  (func (export "touch") (param $address i32)
    (i32.store (local.get $address)
      (i32.add (i32.load (local.get $address)) (i32.const 1))))
  (@custom "twasm.kernels" "touch\00"))
