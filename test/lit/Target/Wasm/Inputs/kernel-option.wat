;; A module without twasm.kernels, for --twasm-kernel.
(module
  (func (export "helper") (param i32))
  (func (export "lonely")))
