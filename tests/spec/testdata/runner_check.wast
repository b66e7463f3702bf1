;; Fixture for spec_runner's own tests, not part of the spec suite: every
;; command kind, with commands marked FAIL written to fail under any correct
;; engine, so the runner's verdicts can be checked. Expected tally:
;; 17 passed, 7 failed (the FAIL lines), 1 skipped (the text module).
(module $A
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.const nan))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "v") (param v128) (result v128) (local.get 0))
  (func $loop (export "loop") (call $loop))
  (global (export "g") i32 (i32.const 7))
)
(register "A" $A)
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))  ;; FAIL
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (invoke "nan") (f32.const 0))  ;; FAIL
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")  ;; FAIL
(assert_return (invoke "id" (ref.extern 0)) (ref.extern 0))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "v" (v128.const i16x8 1 2 3 4 5 6 7 -1))
               (v128.const i16x8 1 2 3 4 5 6 7 -1))
(assert_return (invoke "v" (v128.const f32x4 1 2 3 4))
               (v128.const f32x4 1 2 3 nan:arithmetic))  ;; FAIL
(assert_exhaustion (invoke "loop") "call stack exhausted")
(invoke "add" (i32.const 5) (i32.const 6))
(assert_return (get "g") (i32.const 7))
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func)) "type mismatch")  ;; FAIL
(assert_malformed (module quote "(func") "unexpected end")
(assert_malformed (module binary "\00asm" "\02\00\00\00") "unknown binary version")
(assert_unlinkable (module (import "A" "nope" (func))) "unknown import")
(assert_trap (module (func $t unreachable) (start $t)) "unreachable")
(module $B
  (import "A" "add" (func (param i32 i32) (result i32)))
  (import "spectest" "print" (func))
  (import "spectest" "print_i32" (func (param i32)))
  (import "spectest" "print_i64" (func (param i64)))
  (import "spectest" "print_f32" (func (param f32)))
  (import "spectest" "print_f64" (func (param f64)))
  (import "spectest" "print_i32_f32" (func (param i32 f32)))
  (import "spectest" "print_f64_f64" (func (param f64 f64)))
  (import "spectest" "global_i32" (global i32))
  (import "spectest" "global_i64" (global i64))
  (import "spectest" "global_f32" (global f32))
  (import "spectest" "global_f64" (global f64))
  (import "spectest" "table" (table 10 20 funcref))
  (import "spectest" "memory" (memory 1 2))
)
(assert_return (invoke $A "add" (i32.const 2) (i32.const 2)) (i32.const 4))
(module (func $t unreachable) (start $t) (func (export "f") (result i32) (i32.const 1)))  ;; FAIL
(assert_return (invoke "f") (i32.const 1))  ;; FAIL: no current module
