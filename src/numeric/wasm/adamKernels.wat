;; AdamW's elementwise update of one parameter, in wasm SIMD (adamKernels.ts calls it; optim/adam.ts
;; on the wasm backend).
;;
;; Why: adam.ts's chain of tfjs ops is about 14 kernels per parameter (some 400 launches a train step
;; for the reference model), each a pass over memory and an engine call that costs more than its
;; arithmetic; the same chain in JavaScript (float64 rounded to float32 per operation) runs at about
;; 20 ns an element. Here it is one pass, four elements at a time.
;;
;; Bits: the same operations in the same order as adam.ts's ops, each an IEEE float32 multiply, add,
;; subtract, divide or square root (wasm SIMD and scalar float32 round them exactly as tfjs-wasm's
;; kernels do; no fused operations), with the same float32 constants: so the same bits
;; (test/numeric/adamKernels.test.ts compares them).
(module
  (memory (export "memory") 1)

  ;; For i < n, with g = 0 when hasGrad is 0 (a parameter without a gradient, as tfjs's zerosLike):
  ;;   g' = g * scale;  m1 = m * b1 + g' * omb1;  v1 = v * b2 + (g' * g') * omb2
  ;;   upd = (m1 * k1) / (sqrt(v1 / bc2) + eps), then upd = upd + p * kd when decay is nonzero
  ;;   p1 = p - upd
  ;; p, m, v, g, p1, m1, v1: byte offsets of n floats each (the outputs may be the inputs' places).
  ;; Four elements at a time, then the remaining n mod 4 one at a time with the same operations.
  (func (export "adam") (param $n i32) (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $hasGrad i32)
    (param $p1 i32) (param $m1 i32) (param $v1 i32)
    (param $scale f32) (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $eps f32) (param $k1 f32) (param $bc2 f32) (param $kd f32) (param $decay i32)
    (local $i i32) (local $end i32)
    (local $vscale v128) (local $vb1 v128) (local $vomb1 v128) (local $vb2 v128) (local $vomb2 v128)
    (local $veps v128) (local $vk1 v128) (local $vbc2 v128) (local $vkd v128)
    (local $gi v128) (local $mi v128) (local $vi v128) (local $upd v128) (local $pi v128)
    (local $sg f32) (local $sm f32) (local $sv f32) (local $su f32) (local $sp f32)
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vomb1 (f32x4.splat (local.get $omb1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vomb2 (f32x4.splat (local.get $omb2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vk1 (f32x4.splat (local.get $k1)))
    (local.set $vbc2 (f32x4.splat (local.get $bc2)))
    (local.set $vkd (f32x4.splat (local.get $kd)))
    ;; bytes of whole vectors
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $vectors
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gi (v128.const i32x4 0 0 0 0))
        (if (local.get $hasGrad)
          (then (local.set $gi (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $vscale)))))
        (local.set $mi (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $vb1))
          (f32x4.mul (local.get $gi) (local.get $vomb1))))
        (local.set $vi (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $vb2))
          (f32x4.mul (f32x4.mul (local.get $gi) (local.get $gi)) (local.get $vomb2))))
        (local.set $upd (f32x4.div
          (f32x4.mul (local.get $mi) (local.get $vk1))
          (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vi) (local.get $vbc2))) (local.get $veps))))
        (local.set $pi (v128.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $decay)
          (then (local.set $upd (f32x4.add (local.get $upd) (f32x4.mul (local.get $pi) (local.get $vkd))))))
        (v128.store (i32.add (local.get $p1) (local.get $i)) (f32x4.sub (local.get $pi) (local.get $upd)))
        (v128.store (i32.add (local.get $m1) (local.get $i)) (local.get $mi))
        (v128.store (i32.add (local.get $v1) (local.get $i)) (local.get $vi))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vectors)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $sg (f32.const 0))
        (if (local.get $hasGrad)
          (then (local.set $sg (f32.mul (f32.load (i32.add (local.get $g) (local.get $i))) (local.get $scale)))))
        (local.set $sm (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
          (f32.mul (local.get $sg) (local.get $omb1))))
        (local.set $sv (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
          (f32.mul (f32.mul (local.get $sg) (local.get $sg)) (local.get $omb2))))
        (local.set $su (f32.div
          (f32.mul (local.get $sm) (local.get $k1))
          (f32.add (f32.sqrt (f32.div (local.get $sv) (local.get $bc2))) (local.get $eps))))
        (local.set $sp (f32.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $decay)
          (then (local.set $su (f32.add (local.get $su) (f32.mul (local.get $sp) (local.get $kd))))))
        (f32.store (i32.add (local.get $p1) (local.get $i)) (f32.sub (local.get $sp) (local.get $su)))
        (f32.store (i32.add (local.get $m1) (local.get $i)) (local.get $sm))
        (f32.store (i32.add (local.get $v1) (local.get $i)) (local.get $sv))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail)))))
