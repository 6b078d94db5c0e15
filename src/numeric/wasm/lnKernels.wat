;; LayerNorm over the last axis, forward and backward, in wasm SIMD (lnKernels.ts calls them;
;; model/ops.ts `layerNorm` on the wasm backend). Built only to work in the tfjs heap (tfjsHeap.ts).
;;
;; Why: ops.ts's LayerNorm is a chain of about 11 tfjs kernels forward and 13 backward (row means as
;; [N, d] @ ones / d matmuls, element-wise ops, column sums), five LayerNorms a step in the reference
;; model: some 120 launches, each an engine call and a pass over memory, for little arithmetic.
;;
;; Bits: the same operations in the same order as ops.ts's ops, each an IEEE float32 add, subtract,
;; multiply, divide or square root (no fused operations). The row means are XNNPACK's GEMM sums of
;; x @ (ones / d): acc = +0, then acc = acc + x[k] * w for k = 0 .. d-1 (w = 1/d as a float32); the
;; column sums are ones @ x the same way over the rows; tfjs-wasm's rsqrt is 1 / sqrt(x), two
;; roundings. Rows are summed four at a time, one per lane (the lanes gather a column of four rows;
;; the last block repeats the last row in its spare lanes and stores only its own). So the same bits
;; as the ops (test/numeric/lnKernels.test.ts compares them).
(module
  (memory (export "memory") 1)

  ;; Forward, x [N, d] (N, d >= 1), gain g [d], bias b [d], w = 1/d, eps:
  ;;   mean = rowsum(x w); xc = x - mean; var = rowsum((xc xc) w); rstd = 1 / sqrt(var + eps)
  ;;   xhat = xc rstd; y = xhat g + b
  ;; Writes y [N, d], xhat [N, d] and rstd [N] (byte offsets).
  (func (export "lnForward") (param $N i32) (param $d i32) (param $x i32) (param $g i32) (param $b i32)
    (param $w f32) (param $eps f32) (param $y i32) (param $xhat i32) (param $rstd i32)
    (local $m i32) (local $i i32) (local $rows i32) (local $kb i32) (local $rowBytes i32) (local $vecEnd i32) (local $last i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $po i32)
    (local $vw v128) (local $acc v128) (local $mean v128) (local $rs v128) (local $v v128) (local $xc v128)
    (local $sm f32) (local $sr f32) (local $s f32)
    (local.set $vw (f32x4.splat (local.get $w)))
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $last (i32.sub (local.get $N) (i32.const 1)))
    (loop $blocks
      ;; rows m .. m+3 (the last row again where they run out)
      (local.set $rows (i32.sub (local.get $N) (local.get $m)))
      (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
      (local.set $p0 (i32.add (local.get $x) (i32.mul (local.get $m) (local.get $rowBytes))))
      (local.set $p1 (i32.add (local.get $x) (i32.mul (select (i32.add (local.get $m) (i32.const 1)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 1)) (local.get $N))) (local.get $rowBytes))))
      (local.set $p2 (i32.add (local.get $x) (i32.mul (select (i32.add (local.get $m) (i32.const 2)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 2)) (local.get $N))) (local.get $rowBytes))))
      (local.set $p3 (i32.add (local.get $x) (i32.mul (select (i32.add (local.get $m) (i32.const 3)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 3)) (local.get $N))) (local.get $rowBytes))))
      ;; mean, one row per lane
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $kb (i32.const 0))
      (loop $ks
        (local.set $v (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
          (f32x4.splat (f32.load (i32.add (local.get $p0) (local.get $kb))))
          (f32.load (i32.add (local.get $p1) (local.get $kb))))
          (f32.load (i32.add (local.get $p2) (local.get $kb))))
          (f32.load (i32.add (local.get $p3) (local.get $kb)))))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $v) (local.get $vw))))
        (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
        (br_if $ks (i32.lt_u (local.get $kb) (local.get $rowBytes))))
      (local.set $mean (local.get $acc))
      ;; variance of the centred rows
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $kb (i32.const 0))
      (loop $ks
        (local.set $xc (f32x4.sub (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
          (f32x4.splat (f32.load (i32.add (local.get $p0) (local.get $kb))))
          (f32.load (i32.add (local.get $p1) (local.get $kb))))
          (f32.load (i32.add (local.get $p2) (local.get $kb))))
          (f32.load (i32.add (local.get $p3) (local.get $kb)))) (local.get $mean)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.mul (local.get $xc) (local.get $xc)) (local.get $vw))))
        (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
        (br_if $ks (i32.lt_u (local.get $kb) (local.get $rowBytes))))
      (local.set $rs (f32x4.div (f32x4.splat (f32.const 1)) (f32x4.sqrt (f32x4.add (local.get $acc) (f32x4.splat (local.get $eps))))))
      ;; each of this block's rows: rstd, then xhat and y along the row (lane 0 of mean and rs is row m + i)
      (local.set $i (i32.const 0))
      (loop $rowsOut
        (local.set $sm (f32x4.extract_lane 0 (local.get $mean)))
        (local.set $sr (f32x4.extract_lane 0 (local.get $rs)))
        (f32.store (i32.add (local.get $rstd) (i32.shl (i32.add (local.get $m) (local.get $i)) (i32.const 2))) (local.get $sr))
        (local.set $p0 (i32.mul (i32.add (local.get $m) (local.get $i)) (local.get $rowBytes))) ;; the row's byte offset
        (local.set $kb (i32.const 0))
        (block $vecDone
          (loop $vecs
            (br_if $vecDone (i32.ge_u (local.get $kb) (local.get $vecEnd)))
            (local.set $po (i32.add (local.get $p0) (local.get $kb)))
            (local.set $v (f32x4.mul
              (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $po))) (f32x4.splat (local.get $sm)))
              (f32x4.splat (local.get $sr))))
            (v128.store (i32.add (local.get $xhat) (local.get $po)) (local.get $v))
            (v128.store (i32.add (local.get $y) (local.get $po)) (f32x4.add
              (f32x4.mul (local.get $v) (v128.load (i32.add (local.get $g) (local.get $kb))))
              (v128.load (i32.add (local.get $b) (local.get $kb)))))
            (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
            (br $vecs)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $kb) (local.get $rowBytes)))
            (local.set $po (i32.add (local.get $p0) (local.get $kb)))
            (local.set $s (f32.mul (f32.sub (f32.load (i32.add (local.get $x) (local.get $po))) (local.get $sm)) (local.get $sr)))
            (f32.store (i32.add (local.get $xhat) (local.get $po)) (local.get $s))
            (f32.store (i32.add (local.get $y) (local.get $po)) (f32.add
              (f32.mul (local.get $s) (f32.load (i32.add (local.get $g) (local.get $kb))))
              (f32.load (i32.add (local.get $b) (local.get $kb)))))
            (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
            (br $tail)))
        ;; the next row's lanes to lane 0
        (local.set $mean (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $mean) (local.get $mean)))
        (local.set $rs (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $rs) (local.get $rs)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rowsOut (i32.lt_u (local.get $i) (local.get $rows))))
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (br_if $blocks (i32.lt_u (local.get $m) (local.get $N)))))

  ;; Backward, from dy [N, d] and the forward's xhat [N, d], rstd [N], gain g [d], w = 1/d:
  ;;   dg = colsum(dy xhat); db = colsum(dy); dxhat = dy g
  ;;   dx = ((dxhat - rowsum(dxhat w)) - xhat rowsum((dxhat xhat) w)) rstd
  ;; Writes dx [N, d], dg [d], db [d] (byte offsets).
  (func (export "lnBackward") (param $N i32) (param $d i32) (param $dy i32) (param $xhat i32) (param $rstd i32) (param $g i32)
    (param $w f32) (param $dx i32) (param $dg i32) (param $db i32)
    (local $m i32) (local $i i32) (local $rows i32) (local $kb i32) (local $rowBytes i32) (local $vecEnd i32) (local $last i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $po i32) (local $end i32)
    (local $vw v128) (local $acc1 v128) (local $acc2 v128) (local $t1 v128) (local $t2 v128)
    (local $dxh v128) (local $xh v128) (local $gk v128)
    (local $st1 f32) (local $st2 f32) (local $sr f32) (local $s f32) (local $sx f32)
    (local.set $vw (f32x4.splat (local.get $w)))
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $last (i32.sub (local.get $N) (i32.const 1)))
    ;; column sums, over the rows in order (acc = +0, then acc + value, as ones @ x)
    (local.set $kb (i32.const 0))
    (loop $zero
      (f32.store (i32.add (local.get $dg) (local.get $kb)) (f32.const 0))
      (f32.store (i32.add (local.get $db) (local.get $kb)) (f32.const 0))
      (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
      (br_if $zero (i32.lt_u (local.get $kb) (local.get $rowBytes))))
    (local.set $p0 (i32.const 0)) ;; the row's byte offset
    (local.set $end (i32.mul (local.get $N) (local.get $rowBytes)))
    (loop $colRows
      (local.set $kb (i32.const 0))
      (block $vecDone
        (loop $vecs
          (br_if $vecDone (i32.ge_u (local.get $kb) (local.get $vecEnd)))
          (local.set $po (i32.add (local.get $p0) (local.get $kb)))
          (local.set $dxh (v128.load (i32.add (local.get $dy) (local.get $po))))
          (v128.store (i32.add (local.get $db) (local.get $kb)) (f32x4.add (v128.load (i32.add (local.get $db) (local.get $kb))) (local.get $dxh)))
          (v128.store (i32.add (local.get $dg) (local.get $kb)) (f32x4.add (v128.load (i32.add (local.get $dg) (local.get $kb)))
            (f32x4.mul (local.get $dxh) (v128.load (i32.add (local.get $xhat) (local.get $po))))))
          (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
          (br $vecs)))
      (block $tailDone
        (loop $tail
          (br_if $tailDone (i32.ge_u (local.get $kb) (local.get $rowBytes)))
          (local.set $po (i32.add (local.get $p0) (local.get $kb)))
          (local.set $s (f32.load (i32.add (local.get $dy) (local.get $po))))
          (f32.store (i32.add (local.get $db) (local.get $kb)) (f32.add (f32.load (i32.add (local.get $db) (local.get $kb))) (local.get $s)))
          (f32.store (i32.add (local.get $dg) (local.get $kb)) (f32.add (f32.load (i32.add (local.get $dg) (local.get $kb)))
            (f32.mul (local.get $s) (f32.load (i32.add (local.get $xhat) (local.get $po))))))
          (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
          (br $tail)))
      (local.set $p0 (i32.add (local.get $p0) (local.get $rowBytes)))
      (br_if $colRows (i32.lt_u (local.get $p0) (local.get $end))))
    ;; dx, four rows at a time
    (loop $blocks
      (local.set $rows (i32.sub (local.get $N) (local.get $m)))
      (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
      ;; byte offsets of rows m .. m+3 (the last row again where they run out)
      (local.set $p0 (i32.mul (local.get $m) (local.get $rowBytes)))
      (local.set $p1 (i32.mul (select (i32.add (local.get $m) (i32.const 1)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 1)) (local.get $N))) (local.get $rowBytes)))
      (local.set $p2 (i32.mul (select (i32.add (local.get $m) (i32.const 2)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 2)) (local.get $N))) (local.get $rowBytes)))
      (local.set $p3 (i32.mul (select (i32.add (local.get $m) (i32.const 3)) (local.get $last) (i32.lt_u (i32.add (local.get $m) (i32.const 3)) (local.get $N))) (local.get $rowBytes)))
      ;; t1 = rowsum(dxhat w), t2 = rowsum((dxhat xhat) w), one row per lane
      (local.set $acc1 (v128.const i32x4 0 0 0 0))
      (local.set $acc2 (v128.const i32x4 0 0 0 0))
      (local.set $kb (i32.const 0))
      (loop $ks
        (local.set $gk (f32x4.splat (f32.load (i32.add (local.get $g) (local.get $kb)))))
        (local.set $dxh (f32x4.mul (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
          (f32x4.splat (f32.load (i32.add (local.get $dy) (i32.add (local.get $p0) (local.get $kb)))))
          (f32.load (i32.add (local.get $dy) (i32.add (local.get $p1) (local.get $kb)))))
          (f32.load (i32.add (local.get $dy) (i32.add (local.get $p2) (local.get $kb)))))
          (f32.load (i32.add (local.get $dy) (i32.add (local.get $p3) (local.get $kb))))) (local.get $gk)))
        (local.set $xh (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
          (f32x4.splat (f32.load (i32.add (local.get $xhat) (i32.add (local.get $p0) (local.get $kb)))))
          (f32.load (i32.add (local.get $xhat) (i32.add (local.get $p1) (local.get $kb)))))
          (f32.load (i32.add (local.get $xhat) (i32.add (local.get $p2) (local.get $kb)))))
          (f32.load (i32.add (local.get $xhat) (i32.add (local.get $p3) (local.get $kb))))))
        (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $dxh) (local.get $vw))))
        (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (f32x4.mul (local.get $dxh) (local.get $xh)) (local.get $vw))))
        (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
        (br_if $ks (i32.lt_u (local.get $kb) (local.get $rowBytes))))
      (local.set $t1 (local.get $acc1))
      (local.set $t2 (local.get $acc2))
      (local.set $i (i32.const 0))
      (loop $rowsOut
        (local.set $st1 (f32x4.extract_lane 0 (local.get $t1)))
        (local.set $st2 (f32x4.extract_lane 0 (local.get $t2)))
        (local.set $sr (f32.load (i32.add (local.get $rstd) (i32.shl (i32.add (local.get $m) (local.get $i)) (i32.const 2)))))
        (local.set $p0 (i32.mul (i32.add (local.get $m) (local.get $i)) (local.get $rowBytes)))
        (local.set $kb (i32.const 0))
        (block $vecDone
          (loop $vecs
            (br_if $vecDone (i32.ge_u (local.get $kb) (local.get $vecEnd)))
            (local.set $po (i32.add (local.get $p0) (local.get $kb)))
            (local.set $dxh (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $po))) (v128.load (i32.add (local.get $g) (local.get $kb)))))
            (v128.store (i32.add (local.get $dx) (local.get $po)) (f32x4.mul
              (f32x4.sub
                (f32x4.sub (local.get $dxh) (f32x4.splat (local.get $st1)))
                (f32x4.mul (v128.load (i32.add (local.get $xhat) (local.get $po))) (f32x4.splat (local.get $st2))))
              (f32x4.splat (local.get $sr))))
            (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
            (br $vecs)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $kb) (local.get $rowBytes)))
            (local.set $po (i32.add (local.get $p0) (local.get $kb)))
            (local.set $s (f32.mul (f32.load (i32.add (local.get $dy) (local.get $po))) (f32.load (i32.add (local.get $g) (local.get $kb)))))
            (local.set $sx (f32.load (i32.add (local.get $xhat) (local.get $po))))
            (f32.store (i32.add (local.get $dx) (local.get $po))
              (f32.mul (f32.sub (f32.sub (local.get $s) (local.get $st1)) (f32.mul (local.get $sx) (local.get $st2))) (local.get $sr)))
            (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
            (br $tail)))
        (local.set $t1 (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $t1) (local.get $t1)))
        (local.set $t2 (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $t2) (local.get $t2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rowsOut (i32.lt_u (local.get $i) (local.get $rows))))
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (br_if $blocks (i32.lt_u (local.get $m) (local.get $N))))))
