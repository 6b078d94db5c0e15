;; Weight-gradient kernels of a train step, in wasm SIMD (gradKernels.ts calls them).
;;
;; Why: tfjs-wasm computes a weight gradient x^T @ dy by transposing x and handing dy to XNNPACK as a
;; "weight" matrix, which it packs before the GEMM; dy is fresh every step, so every step pays the
;; transpose and the packing (more than the GEMM itself). These kernels read both operands as they
;; lie, row after row.
;;
;; Bits: each output is one f32x4 lane, accumulated over k in increasing order with IEEE float32
;; multiplies and adds: XNNPACK's GEMM sums in that order too, so the results are the same bits (a
;; test compares them). Lanes are different outputs, never partial sums of one.
;;
;; Layouts (byte offsets into this module's memory): row-major a [K, M], b [K, N], c [M, N].
(module
  (memory (export "memory") 1)

  ;; c[m, n] += sum_{k = k0 .. k1-1} a[k, m] * b[k, n], for M a multiple of 4 and N of 8 (k1 > k0).
  ;; Callers run it over consecutive blocks of k with c zeroed first, so that a block's rows of a and
  ;; b stay in cache across the output tiles; c holds the float32 partial sums between blocks, which
  ;; is what a register would hold, so the blocking does not change a bit.
  (func (export "atb") (param $k0 i32) (param $k1 i32) (param $M i32) (param $N i32)
    (param $a i32) (param $b i32) (param $c i32)
    (local $m i32) (local $n i32) (local $k i32) (local $pa i32) (local $pb i32) (local $pc i32)
    (local $sa i32) (local $sb i32) (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $sa (i32.shl (local.get $M) (i32.const 2)))
    (local.set $sb (i32.shl (local.get $N) (i32.const 2)))
    (loop $rows
      (local.set $n (i32.const 0))
      (loop $cols
        ;; a 4 x 8 tile of c: rows m .. m+3, columns n .. n+7 (two vectors per row)
        (local.set $pc (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $m) (local.get $N)) (local.get $n)) (i32.const 2))))
        (local.set $c0 (v128.load (local.get $pc)))
        (local.set $c1 (v128.load offset=16 (local.get $pc)))
        (local.set $c2 (v128.load (i32.add (local.get $pc) (local.get $sb))))
        (local.set $c3 (v128.load offset=16 (i32.add (local.get $pc) (local.get $sb))))
        (local.set $c4 (v128.load (i32.add (local.get $pc) (i32.shl (local.get $sb) (i32.const 1)))))
        (local.set $c5 (v128.load offset=16 (i32.add (local.get $pc) (i32.shl (local.get $sb) (i32.const 1)))))
        (local.set $c6 (v128.load (i32.add (local.get $pc) (i32.mul (local.get $sb) (i32.const 3)))))
        (local.set $c7 (v128.load offset=16 (i32.add (local.get $pc) (i32.mul (local.get $sb) (i32.const 3)))))
        (local.set $pa (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $M)) (local.get $m)) (i32.const 2))))
        (local.set $pb (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $N)) (local.get $n)) (i32.const 2))))
        (local.set $k (local.get $k0))
        (loop $ks
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $s (v128.load32_splat (local.get $pa)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
          (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
          (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
          (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $ks (i32.lt_u (local.get $k) (local.get $k1))))
        (v128.store (local.get $pc) (local.get $c0))
        (v128.store offset=16 (local.get $pc) (local.get $c1))
        (v128.store (i32.add (local.get $pc) (local.get $sb)) (local.get $c2))
        (v128.store offset=16 (i32.add (local.get $pc) (local.get $sb)) (local.get $c3))
        (v128.store (i32.add (local.get $pc) (i32.shl (local.get $sb) (i32.const 1))) (local.get $c4))
        (v128.store offset=16 (i32.add (local.get $pc) (i32.shl (local.get $sb) (i32.const 1))) (local.get $c5))
        (v128.store (i32.add (local.get $pc) (i32.mul (local.get $sb) (i32.const 3))) (local.get $c6))
        (v128.store offset=16 (i32.add (local.get $pc) (i32.mul (local.get $sb) (i32.const 3))) (local.get $c7))
        (local.set $n (i32.add (local.get $n) (i32.const 8)))
        (br_if $cols (i32.lt_u (local.get $n) (local.get $N))))
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $m) (local.get $M)))))

  ;; c[n] += sum_{k = 0 .. K-1} b[k, n], in increasing k (N a multiple of 4, K >= 1): the column sums
  ;; XNNPACK computes as ones[1, K] @ b (1 * x is exact, so the adds are the same).
  (func (export "colsum") (param $K i32) (param $N i32) (param $b i32) (param $c i32)
    (local $k i32) (local $n i32) (local $pb i32) (local $pc i32) (local $end i32)
    (local.set $pb (local.get $b))
    (local.set $end (i32.add (local.get $c) (i32.shl (local.get $N) (i32.const 2))))
    (loop $ks
      (local.set $pc (local.get $c))
      (loop $cols
        (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (v128.load (local.get $pb))))
        (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
        (br_if $cols (i32.lt_u (local.get $pc) (local.get $end))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))))
