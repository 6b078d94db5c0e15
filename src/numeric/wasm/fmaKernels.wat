;; The GEMMs of the opt-in `numeric.fma` mode, in wasm SIMD with relaxed-SIMD fused multiply-adds
;; (fmaKernels.ts calls them; model/ops.ts routes `mm` and its gradients here when the mode is on, and
;; model/attention.ts its per-channel matmul `cbmm`, at the end of this file).
;;
;; Why: 128-bit wasm SIMD without FMA spends two instructions (mul, add) per four multiply-adds, and
;; XNNPACK's wasm GEMMs reach about half of what one core can do. `f32x4.relaxed_madd` compiles to one
;; vfmadd instruction where the CPU has FMA; the 2 x 16 register tile below then runs near the
;; core's 128-bit peak (about 45 GFLOP/s here against XNNPACK's 20-25).
;;
;; Bits: each output is one f32x4 lane, accumulated over k in increasing order (c = a * b + c, one
;; relaxed_madd per term; callers run k blocks in increasing order with c holding the partial sums
;; between them, as a register would). The order never depends on sizes, blocking or threads, so a
;; given machine gives the same bits every time. What relaxed_madd rounds is the engine's choice:
;; fused (one rounding) on a CPU with FMA, a multiply and an add (two roundings) without, so the bits
;; are machine-specific: runs record a fingerprint of them (numeric/fmaMode.ts).
;;
;; Operands are packed first (the `pack*` functions below), so the GEMM streams them in order:
;;   - b in panels of 16 columns: panel p holds b[k, 16p .. 16p+15] for k = 0 .. K-1, 64 bytes per k;
;;   - a either row-major [M, K] (a row pair's two k-streams are contiguous) or, for a^T @ b with a
;;     stored [K, M], in panels of 2 columns (8 bytes per k). Packing also avoids strides of 4 KB
;;     (a [K, 1024] column), which map every row to the same few L1 sets.
(module
  (memory (export "memory") 1)

  ;; c[m, n] += sum_{k = k0 .. k1-1} A(m, k) * B(k, n) for m < M (a multiple of 2), n < N (a multiple
  ;; of 16), k1 > k0; c row-major [M, N], its contents ignored (every entry written) when k0 = 0. A(m, k) lies at a + (m / 2) * ats + (m % 2) * ars + k * aks
  ;; (bytes); B(k, n) at b + (n / 16) * bps + k * 64 + (n % 16) * 4.
  (func (export "gemm") (param $k0 i32) (param $k1 i32) (param $M i32) (param $N i32)
    (param $a i32) (param $ats i32) (param $ars i32) (param $aks i32) (param $b i32) (param $bps i32) (param $c i32)
    (local $m i32) (local $n i32) (local $k i32) (local $pa0 i32) (local $pa1 i32) (local $pb i32) (local $pc0 i32) (local $pc1 i32)
    (local $s v128) (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (loop $rows
      (local.set $n (i32.const 0))
      (loop $panels
        ;; a 2 x 16 tile of c: rows m, m+1 (c0..c3, c4..c7), columns n .. n+15
        (local.set $pc0 (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $m) (local.get $N)) (local.get $n)) (i32.const 2))))
        (local.set $pc1 (i32.add (local.get $pc0) (i32.shl (local.get $N) (i32.const 2))))
        ;; the partial sums of the earlier k blocks, or zeros for the first (c need not be zeroed)
        (if (local.get $k0)
          (then
            (local.set $c0 (v128.load (local.get $pc0)))
            (local.set $c1 (v128.load offset=16 (local.get $pc0)))
            (local.set $c2 (v128.load offset=32 (local.get $pc0)))
            (local.set $c3 (v128.load offset=48 (local.get $pc0)))
            (local.set $c4 (v128.load (local.get $pc1)))
            (local.set $c5 (v128.load offset=16 (local.get $pc1)))
            (local.set $c6 (v128.load offset=32 (local.get $pc1)))
            (local.set $c7 (v128.load offset=48 (local.get $pc1))))
          (else
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $c1 (v128.const i32x4 0 0 0 0))
            (local.set $c2 (v128.const i32x4 0 0 0 0))
            (local.set $c3 (v128.const i32x4 0 0 0 0))
            (local.set $c4 (v128.const i32x4 0 0 0 0))
            (local.set $c5 (v128.const i32x4 0 0 0 0))
            (local.set $c6 (v128.const i32x4 0 0 0 0))
            (local.set $c7 (v128.const i32x4 0 0 0 0))))
        (local.set $pa0 (i32.add (i32.add (local.get $a) (i32.mul (i32.shr_u (local.get $m) (i32.const 1)) (local.get $ats)))
          (i32.mul (local.get $k0) (local.get $aks))))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $ars)))
        (local.set $pb (i32.add (i32.add (local.get $b) (i32.mul (i32.shr_u (local.get $n) (i32.const 4)) (local.get $bps)))
          (i32.shl (local.get $k0) (i32.const 6))))
        (local.set $k (local.get $k0))
        (loop $ks
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $b2 (v128.load offset=32 (local.get $pb)))
          (local.set $b3 (v128.load offset=48 (local.get $pb)))
          (local.set $s (v128.load32_splat (local.get $pa0)))
          (local.set $c0 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c0)))
          (local.set $c1 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c1)))
          (local.set $c2 (f32x4.relaxed_madd (local.get $s) (local.get $b2) (local.get $c2)))
          (local.set $c3 (f32x4.relaxed_madd (local.get $s) (local.get $b3) (local.get $c3)))
          (local.set $s (v128.load32_splat (local.get $pa1)))
          (local.set $c4 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c4)))
          (local.set $c5 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c5)))
          (local.set $c6 (f32x4.relaxed_madd (local.get $s) (local.get $b2) (local.get $c6)))
          (local.set $c7 (f32x4.relaxed_madd (local.get $s) (local.get $b3) (local.get $c7)))
          (local.set $pa0 (i32.add (local.get $pa0) (local.get $aks)))
          (local.set $pa1 (i32.add (local.get $pa1) (local.get $aks)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 64)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $ks (i32.lt_u (local.get $k) (local.get $k1))))
        (v128.store (local.get $pc0) (local.get $c0))
        (v128.store offset=16 (local.get $pc0) (local.get $c1))
        (v128.store offset=32 (local.get $pc0) (local.get $c2))
        (v128.store offset=48 (local.get $pc0) (local.get $c3))
        (v128.store (local.get $pc1) (local.get $c4))
        (v128.store offset=16 (local.get $pc1) (local.get $c5))
        (v128.store offset=32 (local.get $pc1) (local.get $c6))
        (v128.store offset=48 (local.get $pc1) (local.get $c7))
        (local.set $n (i32.add (local.get $n) (i32.const 16)))
        (br_if $panels (i32.lt_u (local.get $n) (local.get $N))))
      (local.set $m (i32.add (local.get $m) (i32.const 2)))
      (br_if $rows (i32.lt_u (local.get $m) (local.get $M)))))

  ;; dst[p, r, 0..15] = src[r, 16p .. 16p+15]: src row-major [R, C] (C a multiple of 16, R >= 1) into
  ;; panels of 16 columns (b of a @ b and of a^T @ b).
  (func (export "pack16") (param $R i32) (param $C i32) (param $src i32) (param $dst i32)
    (local $r i32) (local $ps i32) (local $pd i32) (local $sr i32) (local $end i32)
    (local.set $sr (i32.shl (local.get $C) (i32.const 2)))
    (local.set $pd (local.get $dst))
    (local.set $end (i32.add (local.get $src) (local.get $sr)))
    (loop $panels
      ;; one panel: 64 bytes of every row, rows sr bytes apart in src, contiguous in dst
      (local.set $ps (local.get $src))
      (local.set $r (i32.const 0))
      (loop $rows
        (v128.store (local.get $pd) (v128.load (local.get $ps)))
        (v128.store offset=16 (local.get $pd) (v128.load offset=16 (local.get $ps)))
        (v128.store offset=32 (local.get $pd) (v128.load offset=32 (local.get $ps)))
        (v128.store offset=48 (local.get $pd) (v128.load offset=48 (local.get $ps)))
        (local.set $ps (i32.add (local.get $ps) (local.get $sr)))
        (local.set $pd (i32.add (local.get $pd) (i32.const 64)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $R))))
      (local.set $src (i32.add (local.get $src) (i32.const 64)))
      (br_if $panels (i32.lt_u (local.get $src) (local.get $end)))))

  ;; dst[p, r, 0..1] = src[r, 2p .. 2p+1]: src row-major [R, C] (C even, R >= 1) into panels of 2
  ;; columns (a of a^T @ b, stored [K, M]).
  (func (export "pack2") (param $R i32) (param $C i32) (param $src i32) (param $dst i32)
    (local $r0 i32) (local $r1 i32) (local $r i32) (local $p i32) (local $ps i32) (local $pd i32) (local $sr i32)
    (local $panelBytes i32) (local $P i32)
    (local.set $sr (i32.shl (local.get $C) (i32.const 2)))
    (local.set $panelBytes (i32.shl (local.get $R) (i32.const 3)))
    (local.set $P (i32.shr_u (local.get $C) (i32.const 1)))
    ;; rows in blocks of 8, all panels of a block before the next: a block's source lines stay in L1
    ;; across the panels (walking every row per panel reloaded each line C / 16 times from L2), and 8
    ;; rows fit an L1 set's ways even 4 KB apart
    (loop $blocks
      (local.set $r1 (select (i32.add (local.get $r0) (i32.const 8)) (local.get $R)
        (i32.lt_u (i32.add (local.get $r0) (i32.const 8)) (local.get $R))))
      (local.set $p (i32.const 0))
      (loop $panels
        (local.set $ps (i32.add (i32.add (local.get $src) (i32.mul (local.get $r0) (local.get $sr))) (i32.shl (local.get $p) (i32.const 3))))
        (local.set $pd (i32.add (i32.add (local.get $dst) (i32.mul (local.get $p) (local.get $panelBytes))) (i32.shl (local.get $r0) (i32.const 3))))
        (local.set $r (local.get $r0))
        (loop $rows
          (i64.store (local.get $pd) (i64.load (local.get $ps)))
          (local.set $ps (i32.add (local.get $ps) (local.get $sr)))
          (local.set $pd (i32.add (local.get $pd) (i32.const 8)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $r) (local.get $r1))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $panels (i32.lt_u (local.get $p) (local.get $P))))
      (local.set $r0 (local.get $r1))
      (br_if $blocks (i32.lt_u (local.get $r0) (local.get $R)))))

  ;; dst[p, k, j] = src[16p + j, k]: src row-major [N, K] (N a multiple of 16, K >= 1), i.e. the
  ;; panels of src^T (b = W^T of an input gradient dy @ W^T, without a transpose first).
  (func (export "pack16t") (param $N i32) (param $K i32) (param $src i32) (param $dst i32)
    (local $p i32) (local $k i32) (local $j i32) (local $pd i32) (local $ps i32) (local $sr i32)
    (local.set $sr (i32.shl (local.get $K) (i32.const 2)))
    (local.set $pd (local.get $dst))
    (loop $panels
      (local.set $k (i32.const 0))
      (loop $ks
        ;; src[16p .. 16p+15, k]: 16 floats a row (sr bytes) apart
        (local.set $ps (i32.add (local.get $src) (i32.add (i32.mul (i32.shl (local.get $p) (i32.const 4)) (local.get $sr)) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $j (i32.const 0))
        (loop $js
          (f32.store (local.get $pd) (f32.load (local.get $ps)))
          (local.set $ps (i32.add (local.get $ps) (local.get $sr)))
          (local.set $pd (i32.add (local.get $pd) (i32.const 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $js (i32.lt_u (local.get $j) (i32.const 16))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $panels (i32.lt_u (i32.shl (local.get $p) (i32.const 4)) (local.get $N)))))
  ;; The attention's per-channel matmul (model/attention.ts `cbmm`), as attentionKernels.wat's but with
  ;; relaxed_madd: out[m, c, n] = sum_{k = 0 .. K-1} a[m, k, c] * b[c, k, n] (b channel-major, see
  ;; `regroup`), each output one lane summed over k in increasing order; N a multiple of 4, K >= 1.
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
              (local.set $c0 (f32x4.relaxed_madd (local.get $s) (v128.load (local.get $pb)) (local.get $c0)))
              (local.set $c1 (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $pb)) (local.get $c1)))
              (local.set $c2 (f32x4.relaxed_madd (local.get $s) (v128.load offset=32 (local.get $pb)) (local.get $c2)))
              (local.set $c3 (f32x4.relaxed_madd (local.get $s) (v128.load offset=48 (local.get $pb)) (local.get $c3)))
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
              (local.set $c0 (f32x4.relaxed_madd (v128.load32_splat (local.get $pa)) (v128.load (local.get $pb)) (local.get $c0)))
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
      (br_if $channels (i32.lt_u (local.get $c) (local.get $C)))))

  ;; dst[c, k, 0..N-1] = src[k, c, 0..N-1] (N a multiple of 4, K, C >= 1): cbmm's second operand
  ;; regrouped channel-major (in the [K, C, N] layout a channel's rows lie C * N floats apart).
  (func (export "regroup") (param $K i32) (param $C i32) (param $N i32) (param $src i32) (param $dst i32)
    (local $k i32) (local $c i32) (local $ps i32) (local $pd i32) (local $end i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $N) (i32.const 2)))
    (local.set $ps (local.get $src))
    (loop $ks
      (local.set $c (i32.const 0))
      (loop $cs
        ;; row (k, c) of src goes to dst[c, k]
        (local.set $pd (i32.add (local.get $dst)
          (i32.mul (i32.add (i32.mul (local.get $c) (local.get $K)) (local.get $k)) (local.get $rowBytes))))
        (local.set $end (i32.add (local.get $ps) (local.get $rowBytes)))
        (loop $vs
          (v128.store (local.get $pd) (v128.load (local.get $ps)))
          (local.set $ps (i32.add (local.get $ps) (i32.const 16)))
          (local.set $pd (i32.add (local.get $pd) (i32.const 16)))
          (br_if $vs (i32.lt_u (local.get $ps) (local.get $end))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $cs (i32.lt_u (local.get $c) (local.get $C))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $ks (i32.lt_u (local.get $k) (local.get $K)))))

  ;; The attention's products in the layouts the model keeps in the fma mode (model/attention.ts,
  ;; wasm/fmaAttention.ts): q, k, v and the output as rows [B*T, H*dh], scores [T, B*H, T]. Reading
  ;; the operands where they lie replaces the transposes into and out of `cbmm`'s channel-last layouts
  ;; (on wasm, about as slow as the products themselves) and the regrouping of its second operand.
  ;;
  ;; Per head (x, y) = (batch row, head): out(m, n) = sum_{k = 0 .. K-1} A(m, k) B(k, n) for m < M
  ;; (even), n < N (a multiple of 4), K >= 1, each output one lane summed over k in increasing order
  ;; from zero, one relaxed_madd per term (A splat times B, as `cbmm` above: the same bits as it).
  ;; Byte addresses: A(m, k) at a + x ax + y ay + m am + k ak; B(k, n .. n+3) at b + x bx + y by + k bk
  ;; + 4n; out(m, n .. n+3) at o + x ox + y oy + m om + 4n. A 2 x 16 register tile, then 2 x 4.
  (func (export "bmm") (param $X i32) (param $Y i32) (param $M i32) (param $N i32) (param $K i32)
    (param $a i32) (param $ax i32) (param $ay i32) (param $am i32) (param $ak i32)
    (param $b i32) (param $bx i32) (param $by i32) (param $bk i32)
    (param $o i32) (param $ox i32) (param $oy i32) (param $om i32)
    (local $x i32) (local $y i32) (local $m i32) (local $n i32) (local $k i32)
    (local $ah i32) (local $bh i32) (local $oh i32)
    (local $pa0 i32) (local $pa1 i32) (local $pb i32) (local $po0 i32) (local $po1 i32)
    (local $s v128) (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (loop $xs
      (local.set $y (i32.const 0))
      (loop $ys
        ;; this head's bases
        (local.set $ah (i32.add (local.get $a) (i32.add (i32.mul (local.get $x) (local.get $ax)) (i32.mul (local.get $y) (local.get $ay)))))
        (local.set $bh (i32.add (local.get $b) (i32.add (i32.mul (local.get $x) (local.get $bx)) (i32.mul (local.get $y) (local.get $by)))))
        (local.set $oh (i32.add (local.get $o) (i32.add (i32.mul (local.get $x) (local.get $ox)) (i32.mul (local.get $y) (local.get $oy)))))
        (local.set $m (i32.const 0))
        (loop $rows
          (local.set $n (i32.const 0))
          (block $wideDone
            (loop $wide
              (br_if $wideDone (i32.gt_u (i32.add (local.get $n) (i32.const 16)) (local.get $N)))
              (local.set $c0 (v128.const i32x4 0 0 0 0))
              (local.set $c1 (v128.const i32x4 0 0 0 0))
              (local.set $c2 (v128.const i32x4 0 0 0 0))
              (local.set $c3 (v128.const i32x4 0 0 0 0))
              (local.set $c4 (v128.const i32x4 0 0 0 0))
              (local.set $c5 (v128.const i32x4 0 0 0 0))
              (local.set $c6 (v128.const i32x4 0 0 0 0))
              (local.set $c7 (v128.const i32x4 0 0 0 0))
              (local.set $pa0 (i32.add (local.get $ah) (i32.mul (local.get $m) (local.get $am))))
              (local.set $pa1 (i32.add (local.get $pa0) (local.get $am)))
              (local.set $pb (i32.add (local.get $bh) (i32.shl (local.get $n) (i32.const 2))))
              (local.set $k (local.get $K))
              (loop $ks
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $b2 (v128.load offset=32 (local.get $pb)))
                (local.set $b3 (v128.load offset=48 (local.get $pb)))
                (local.set $s (v128.load32_splat (local.get $pa0)))
                (local.set $c0 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c0)))
                (local.set $c1 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c1)))
                (local.set $c2 (f32x4.relaxed_madd (local.get $s) (local.get $b2) (local.get $c2)))
                (local.set $c3 (f32x4.relaxed_madd (local.get $s) (local.get $b3) (local.get $c3)))
                (local.set $s (v128.load32_splat (local.get $pa1)))
                (local.set $c4 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c4)))
                (local.set $c5 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c5)))
                (local.set $c6 (f32x4.relaxed_madd (local.get $s) (local.get $b2) (local.get $c6)))
                (local.set $c7 (f32x4.relaxed_madd (local.get $s) (local.get $b3) (local.get $c7)))
                (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
                (local.set $pa1 (i32.add (local.get $pa1) (local.get $ak)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br_if $ks (local.get $k)))
              (local.set $po0 (i32.add (local.get $oh) (i32.add (i32.mul (local.get $m) (local.get $om)) (i32.shl (local.get $n) (i32.const 2)))))
              (local.set $po1 (i32.add (local.get $po0) (local.get $om)))
              (v128.store (local.get $po0) (local.get $c0))
              (v128.store offset=16 (local.get $po0) (local.get $c1))
              (v128.store offset=32 (local.get $po0) (local.get $c2))
              (v128.store offset=48 (local.get $po0) (local.get $c3))
              (v128.store (local.get $po1) (local.get $c4))
              (v128.store offset=16 (local.get $po1) (local.get $c5))
              (v128.store offset=32 (local.get $po1) (local.get $c6))
              (v128.store offset=48 (local.get $po1) (local.get $c7))
              (local.set $n (i32.add (local.get $n) (i32.const 16)))
              (br $wide)))
          (block $narrowDone
            (loop $narrow
              (br_if $narrowDone (i32.ge_u (local.get $n) (local.get $N)))
              (local.set $c0 (v128.const i32x4 0 0 0 0))
              (local.set $c4 (v128.const i32x4 0 0 0 0))
              (local.set $pa0 (i32.add (local.get $ah) (i32.mul (local.get $m) (local.get $am))))
              (local.set $pa1 (i32.add (local.get $pa0) (local.get $am)))
              (local.set $pb (i32.add (local.get $bh) (i32.shl (local.get $n) (i32.const 2))))
              (local.set $k (local.get $K))
              (loop $ks
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $c0 (f32x4.relaxed_madd (v128.load32_splat (local.get $pa0)) (local.get $b0) (local.get $c0)))
                (local.set $c4 (f32x4.relaxed_madd (v128.load32_splat (local.get $pa1)) (local.get $b0) (local.get $c4)))
                (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
                (local.set $pa1 (i32.add (local.get $pa1) (local.get $ak)))
                (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br_if $ks (local.get $k)))
              (local.set $po0 (i32.add (local.get $oh) (i32.add (i32.mul (local.get $m) (local.get $om)) (i32.shl (local.get $n) (i32.const 2)))))
              (v128.store (local.get $po0) (local.get $c0))
              (v128.store (i32.add (local.get $po0) (local.get $om)) (local.get $c4))
              (local.set $n (i32.add (local.get $n) (i32.const 4)))
              (br $narrow)))
          (local.set $m (i32.add (local.get $m) (i32.const 2)))
          (br_if $rows (i32.lt_u (local.get $m) (local.get $M))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $ys (i32.lt_u (local.get $y) (local.get $Y))))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br_if $xs (i32.lt_u (local.get $x) (local.get $X)))))

  ;; dst[x, y, e, r] = src(x, y, r, e) for x < X, y < Y, r < R, e < E (all >= 1), src(x, y, r, e) at
  ;; src + x sx + y sy + r sr + 4e (bytes), dst contiguous: each head's [R, E] block of rows [B*T, H*dh]
  ;; transposed to [E, R], the second operand of `bmm` for scores q k^T (lanes along the keys).
  (func (export "packHeadsT") (param $X i32) (param $Y i32) (param $R i32) (param $E i32)
    (param $src i32) (param $sx i32) (param $sy i32) (param $sr i32) (param $dst i32)
    (local $x i32) (local $y i32) (local $r i32) (local $e i32) (local $ps i32) (local $pd i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $R) (i32.const 2)))
    (loop $xs
      (local.set $y (i32.const 0))
      (loop $ys
        (local.set $r (i32.const 0))
        (loop $rs
          (local.set $ps (i32.add (local.get $src) (i32.add (i32.add (i32.mul (local.get $x) (local.get $sx)) (i32.mul (local.get $y) (local.get $sy)))
            (i32.mul (local.get $r) (local.get $sr)))))
          ;; dst[x, y, 0, r]: this head's block starts (x Y + y) E R floats in
          (local.set $pd (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (i32.mul (i32.add (i32.mul (local.get $x) (local.get $Y)) (local.get $y)) (local.get $E)) (local.get $R))
            (local.get $r)) (i32.const 2))))
          (local.set $e (i32.const 0))
          (loop $es
            (f32.store (local.get $pd) (f32.load (local.get $ps)))
            (local.set $ps (i32.add (local.get $ps) (i32.const 4)))
            (local.set $pd (i32.add (local.get $pd) (local.get $rowBytes)))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br_if $es (i32.lt_u (local.get $e) (local.get $E))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rs (i32.lt_u (local.get $r) (local.get $R))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $ys (i32.lt_u (local.get $y) (local.get $Y))))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br_if $xs (i32.lt_u (local.get $x) (local.get $X))))))
