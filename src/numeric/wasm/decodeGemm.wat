;; A decode step's dense layers in wasm SIMD, working in the tfjs heap (decodeGemm.ts calls them;
;; sampling/fusedDecode.ts runs a whole decode step with them). Built only to import that heap.
;;
;; Why: a decode step multiplies a few dozen rows by each weight matrix. Through tfjs that is a
;; matMul, a bias add, maybe a ReLU and a residual add per layer, each an engine call with its own
;; output allocation; at the reference size the calls, not the arithmetic, were most of a step.
;;
;; Bits: y = r + relu((x @ w) + bias), each stage rounded to float32 as the tfjs ops round it:
;; the product is XNNPACK's GEMM sum (acc = +0, then acc = acc + x[m, k] * w[k, n] for k = 0 .. K-1,
;; an f32 multiply and an f32 add per term, no fused operations), then the bias added, then the ReLU
;; (max with +0), then the residual added. Each output is one f32x4 lane (or one scalar for the last
;; N mod 4 columns), summed in that order, so the bits do not depend on the blocking
;; (test/numeric/fusedDecode.test.ts compares them with the tfjs ops).
;;
;; Layouts (byte offsets): x [M, K], w [K, N], bias [N], r and y [M, N], all row-major float32; y
;; overlaps none of the others (a tile may store a row twice, and reads x and r after storing).
(module
  (memory (export "memory") 1)

  ;; y = r + relu(x @ w + bias) for M, N, K >= 1; `relu` 0 or 1; `r` 0 for no residual; `wp` the
  ;; panels `pack8` made of w. Rows go four at a time (a panel is streamed once per four rows; past
  ;; the last row the tile repeats it, storing the same values again), columns eight at a time from
  ;; the panels, then the last N mod 8 columns of each row alone, from w.
  (func (export "dense") (param $M i32) (param $N i32) (param $K i32) (param $x i32) (param $w i32) (param $wp i32)
    (param $bias i32) (param $relu i32) (param $r i32) (param $y i32)
    (local $m i32) (local $n i32) (local $k i32) (local $last i32) (local $i i32)
    (local $m0 i32) (local $m1 i32) (local $m2 i32) (local $m3 i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $pw i32) (local $kBytes i32)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $kBytes (i32.shl (local.get $K) (i32.const 2)))
    (local.set $last (i32.sub (local.get $M) (i32.const 1)))
    (loop $rows
      (local.set $m0 (local.get $m))
      (local.set $m1 (select (i32.add (local.get $m) (i32.const 1)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 1)) (local.get $M))))
      (local.set $m2 (select (i32.add (local.get $m) (i32.const 2)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 2)) (local.get $M))))
      (local.set $m3 (select (i32.add (local.get $m) (i32.const 3)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 3)) (local.get $M))))
      (local.set $n (i32.const 0))
      (block $tilesDone
        (loop $tiles
          (br_if $tilesDone (i32.gt_u (i32.add (local.get $n) (i32.const 8)) (local.get $N)))
          (local.set $c0 (v128.const i32x4 0 0 0 0))
          (local.set $c1 (v128.const i32x4 0 0 0 0))
          (local.set $c2 (v128.const i32x4 0 0 0 0))
          (local.set $c3 (v128.const i32x4 0 0 0 0))
          (local.set $c4 (v128.const i32x4 0 0 0 0))
          (local.set $c5 (v128.const i32x4 0 0 0 0))
          (local.set $c6 (v128.const i32x4 0 0 0 0))
          (local.set $c7 (v128.const i32x4 0 0 0 0))
          (local.set $p0 (i32.add (local.get $x) (i32.mul (local.get $m0) (local.get $kBytes))))
          (local.set $p1 (i32.add (local.get $x) (i32.mul (local.get $m1) (local.get $kBytes))))
          (local.set $p2 (i32.add (local.get $x) (i32.mul (local.get $m2) (local.get $kBytes))))
          (local.set $p3 (i32.add (local.get $x) (i32.mul (local.get $m3) (local.get $kBytes))))
          ;; panel n / 8: K rows of 32 bytes
          (local.set $pw (i32.add (local.get $wp) (i32.mul (i32.shr_u (local.get $n) (i32.const 3)) (i32.shl (local.get $kBytes) (i32.const 3)))))
          (local.set $k (i32.const 0))
          (loop $ks
            (local.set $w0 (v128.load (local.get $pw)))
            (local.set $w1 (v128.load offset=16 (local.get $pw)))
            (local.set $s (v128.load32_splat (local.get $p0)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $w0))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $w1))))
            (local.set $s (v128.load32_splat (local.get $p1)))
            (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $w0))))
            (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $w1))))
            (local.set $s (v128.load32_splat (local.get $p2)))
            (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $w0))))
            (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $w1))))
            (local.set $s (v128.load32_splat (local.get $p3)))
            (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $w0))))
            (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $w1))))
            (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
            (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
            (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
            (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
            (local.set $pw (i32.add (local.get $pw) (i32.const 32)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))
          (call $finish4 (local.get $c0) (local.get $m0) (local.get $n) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (call $finish4 (local.get $c1) (local.get $m0) (i32.add (local.get $n) (i32.const 4)) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (call $finish4 (local.get $c2) (local.get $m1) (local.get $n) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (call $finish4 (local.get $c3) (local.get $m1) (i32.add (local.get $n) (i32.const 4)) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (call $finish4 (local.get $c4) (local.get $m2) (local.get $n) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (call $finish4 (local.get $c5) (local.get $m2) (i32.add (local.get $n) (i32.const 4)) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (call $finish4 (local.get $c6) (local.get $m3) (local.get $n) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (call $finish4 (local.get $c7) (local.get $m3) (i32.add (local.get $n) (i32.const 4)) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
          (local.set $n (i32.add (local.get $n) (i32.const 8)))
          (br $tiles)))
      ;; the last N mod 8 columns, row by row
      (if (i32.lt_u (local.get $n) (local.get $N))
        (then
          (local.set $i (local.get $m))
          (loop $own
            (call $rowRest (local.get $i) (local.get $n) (local.get $N) (local.get $K) (local.get $x) (local.get $w) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $own (i32.and (i32.lt_u (local.get $i) (local.get $M)) (i32.lt_u (local.get $i) (i32.add (local.get $m) (i32.const 4))))))))
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $m) (local.get $M)))))

  ;; wp[p, k, 0..7] = w[k, 8p .. 8p+7] for the floor(N / 8) full panels of w [K, N] (the rest of
  ;; each row is read from w itself).
  (func (export "pack8") (param $K i32) (param $N i32) (param $w i32) (param $wp i32)
    (local $p i32) (local $k i32) (local $src i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $N) (i32.const 2)))
    (block $done
      (loop $panels
        (br_if $done (i32.gt_u (i32.shl (i32.add (local.get $p) (i32.const 1)) (i32.const 3)) (local.get $N)))
        (local.set $src (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 5))))
        (local.set $k (i32.const 0))
        (loop $rows
          (v128.store (local.get $wp) (v128.load (local.get $src)))
          (v128.store offset=16 (local.get $wp) (v128.load offset=16 (local.get $src)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
          (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $k) (local.get $K))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panels))))

  ;; Columns n0 .. N-1 of row m: four at a time, then one at a time.
  (func $rowRest (param $m i32) (param $n0 i32) (param $N i32) (param $K i32) (param $x i32) (param $w i32)
    (param $bias i32) (param $relu i32) (param $r i32) (param $y i32)
    (local $n i32) (local $k i32) (local $px i32) (local $pw i32) (local $po i32) (local $rowBytes i32) (local $c0 v128) (local $cs f32)
    (local.set $rowBytes (i32.shl (local.get $N) (i32.const 2)))
    (local.set $n (local.get $n0))
    (block $narrowDone
      (loop $narrow
        (br_if $narrowDone (i32.gt_u (i32.add (local.get $n) (i32.const 4)) (local.get $N)))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $px (i32.add (local.get $x) (i32.shl (i32.mul (local.get $m) (local.get $K)) (i32.const 2))))
        (local.set $pw (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $k (i32.const 0))
        (loop $ks
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $px)) (v128.load (local.get $pw)))))
          (local.set $px (i32.add (local.get $px) (i32.const 4)))
          (local.set $pw (i32.add (local.get $pw) (local.get $rowBytes)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))
        (call $finish4 (local.get $c0) (local.get $m) (local.get $n) (local.get $N) (local.get $bias) (local.get $relu) (local.get $r) (local.get $y))
        (local.set $n (i32.add (local.get $n) (i32.const 4)))
        (br $narrow)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $cs (f32.const 0))
        (local.set $px (i32.add (local.get $x) (i32.shl (i32.mul (local.get $m) (local.get $K)) (i32.const 2))))
        (local.set $pw (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $k (i32.const 0))
        (loop $ks
          (local.set $cs (f32.add (local.get $cs) (f32.mul (f32.load (local.get $px)) (f32.load (local.get $pw)))))
          (local.set $px (i32.add (local.get $px) (i32.const 4)))
          (local.set $pw (i32.add (local.get $pw) (local.get $rowBytes)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))
        (local.set $po (i32.shl (i32.add (i32.mul (local.get $m) (local.get $N)) (local.get $n)) (i32.const 2)))
        (local.set $cs (f32.add (local.get $cs) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $n) (i32.const 2))))))
        (if (local.get $relu) (then (local.set $cs (f32.max (local.get $cs) (f32.const 0)))))
        (if (local.get $r) (then (local.set $cs (f32.add (f32.load (i32.add (local.get $r) (local.get $po))) (local.get $cs)))))
        (f32.store (i32.add (local.get $y) (local.get $po)) (local.get $cs))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $tail))))

  ;; Stores y[m, n .. n+3] = r + relu(acc + bias[n .. n+3]) (see `dense`).
  (func $finish4 (param $acc v128) (param $m i32) (param $n i32) (param $N i32) (param $bias i32) (param $relu i32) (param $r i32) (param $y i32)
    (local $po i32)
    (local.set $po (i32.shl (i32.add (i32.mul (local.get $m) (local.get $N)) (local.get $n)) (i32.const 2)))
    (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $bias) (i32.shl (local.get $n) (i32.const 2))))))
    (if (local.get $relu) (then (local.set $acc (f32x4.max (local.get $acc) (v128.const i32x4 0 0 0 0)))))
    (if (local.get $r) (then (local.set $acc (f32x4.add (v128.load (i32.add (local.get $r) (local.get $po))) (local.get $acc)))))
    (v128.store (i32.add (local.get $y) (local.get $po)) (local.get $acc)))
)
