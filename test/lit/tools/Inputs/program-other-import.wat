(module
  (import "env" "callback" (func))
  (memory 1)
  (func (export "_start")))
