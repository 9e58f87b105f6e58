;; The empty kernel of the runtime benchmark (RuntimeBench.cpp): what a
;; launch costs when the kernel does nothing.
(module
  (memory 1)
  (func (export "empty") (param $unused i32))
  (@custom "twasm.kernels" "empty\00"))
