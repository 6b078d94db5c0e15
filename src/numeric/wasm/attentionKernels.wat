;; The attention's per-channel matmul (model/attention.ts `cbmm`) in wasm SIMD (attentionKernels.ts).
;;
;;   out[m, c, n] = sum_{k = 0 .. K-1} a[m, k, c] * b[k, c, n]
;;
;; Why: tfjs-wasm runs it as a depthwise convolution, which packs b (the "filter", fresh every call)
;; before a grouped GEMM that does about as many multiply-adds as it packed.
;;
;; Bits: each output is one f32x4 lane summed over k in increasing order with IEEE float32 multiplies
;; and adds, as XNNPACK's grouped GEMM does when K is a multiple of 8 (the caller uses the convolution
;; otherwise); a test compares the two bit for bit.
;;
;; Layouts (byte offsets into this module's memory): row-major a [M, K, C], out [M, C, N], and b
;; channel-major, [C, K, N] (the caller regroups it while copying it in: in the [K, C, N] layout a
;; channel's rows lie C * N floats apart, a stride that maps them all to the same few L1 sets).
;; N must be a multiple of 4; K >= 1.
(module
  (memory (export "memory") 1)

  (func (export "cbmm") (param $M i32) (param $K i32) (param $C i32) (param $N i32)
    (param $a i32) (param $b i32) (param $out i32)
    (local $c i32) (local $m i32) (local $n i32) (local $k i32)
    (local $pa i32) (local $pb i32) (local $po i32) (local $sa i32) (local $sb i32)
    (local $s v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $sa (i32.shl (local.get $C) (i32.const 2))) ;; a: next k, same m and c
    (local.set $sb (i32.shl (local.get $N) (i32.const 2))) ;; b: next k, same c
    ;; channel-major, as the convolution's groups: a channel's slice of b stays in cache across m
    (loop $channels
      (local.set $m (i32.const 0))
      (loop $rows
        (local.set $n (i32.const 0))
        ;; sixteen outputs (four vectors) at a time while they last
        (block $wideDone
          (loop $wide
            (br_if $wideDone (i32.gt_u (i32.add (local.get $n) (i32.const 16)) (local.get $N)))
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $c1 (v128.const i32x4 0 0 0 0))
            (local.set $c2 (v128.const i32x4 0 0 0 0))
            (local.set $c3 (v128.const i32x4 0 0 0 0))
            (local.set $pa (i32.add (local.get $a)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $m) (local.get $K)) (local.get $C)) (local.get $c)) (i32.const 2))))
            (local.set $pb (i32.add (local.get $b)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $c) (local.get $K)) (local.get $N)) (local.get $n)) (i32.const 2))))
            (local.set $k (i32.const 0))
            (loop $ks
              (local.set $s (v128.load32_splat (local.get $pa)))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load (local.get $pb)))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pb)))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $pb)))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $pb)))))
              (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
              (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))
            (local.set $po (i32.add (local.get $out)
              (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $m) (local.get $C)) (local.get $c)) (local.get $N)) (local.get $n)) (i32.const 2))))
            (v128.store (local.get $po) (local.get $c0))
            (v128.store offset=16 (local.get $po) (local.get $c1))
            (v128.store offset=32 (local.get $po) (local.get $c2))
            (v128.store offset=48 (local.get $po) (local.get $c3))
            (local.set $n (i32.add (local.get $n) (i32.const 16)))
            (br $wide)))
        ;; then four at a time
        (block $narrowDone
          (loop $narrow
            (br_if $narrowDone (i32.ge_u (local.get $n) (local.get $N)))
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $pa (i32.add (local.get $a)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $m) (local.get $K)) (local.get $C)) (local.get $c)) (i32.const 2))))
            (local.set $pb (i32.add (local.get $b)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $c) (local.get $K)) (local.get $N)) (local.get $n)) (i32.const 2))))
            (local.set $k (i32.const 0))
            (loop $ks
              (local.set $c0 (f32x4.add (local.get $c0)
                (f32x4.mul (v128.load32_splat (local.get $pa)) (v128.load (local.get $pb)))))
              (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
              (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))
            (v128.store (i32.add (local.get $out)
              (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $m) (local.get $C)) (local.get $c)) (local.get $N)) (local.get $n)) (i32.const 2)))
              (local.get $c0))
            (local.set $n (i32.add (local.get $n) (i32.const 4)))
            (br $narrow)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $m) (local.get $M))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $c) (local.get $C))))))
