;; A decode step's attention (sampling/decodeAttention.ts calls these): its inputs written into the
;; caches, then its two sums in wasm SIMD.
;;
;; Each output is one f32x4 lane accumulated with f32x4.mul then f32x4.add: IEEE float32 products and
;; sums, rounded once each, in the same order as the JS float32 emulation in decodeAttention.ts and the
;; tensor path's convolutions. Lanes are different outputs, never partial sums of one output, so the
;; bits do not depend on the vector width.
;;
;; Layouts (byte offsets into this module's memory; C channels, T = cache capacity, L = keys attended):
;;   q [C, dh] (scaled queries), k [C, dh, T], v [C, T, dh], n [C] (i32: keys j < n[c] are visible),
;;   s and p [C, L], y [C, dh].
;; Callers guarantee: C >= 1; for `scores` and `mix` dh >= 4 and a multiple of 4, L a multiple of 4
;; with n[c] <= L <= T.
(module
  (memory (export "memory") 1)

  ;; The step's inputs to the attention, from its fused projection qkv [B, 3 d] (d = H dh; row b:
  ;; queries, keys, values, each at column h dh + e) and the rows' positions pos [B] (i32): for
  ;; channel c (row b = c / H, head h = c mod H) the key and value go into the caches at pos[b]
  ;; (k[c, e, pos[b]], v[c, pos[b], e]), the query scaled into q[c, e] (one f32 multiply: the
  ;; float32 product), and n[c] = pos[b] + 1 keys become visible. Scalar: any dh.
  (func (export "append") (param $C i32) (param $H i32) (param $dh i32) (param $T i32) (param $qkv i32) (param $pos i32)
    (param $scale f32) (param $k i32) (param $v i32) (param $q i32) (param $n i32)
    (local $c i32) (local $b i32) (local $p i32) (local $e i32) (local $src i32) (local $dBytes i32)
    (local $kcol i32) (local $vrow i32) (local $qrow i32)
    (local.set $dBytes (i32.shl (i32.mul (local.get $H) (local.get $dh)) (i32.const 2)))
    (loop $channels
      (local.set $b (i32.div_u (local.get $c) (local.get $H)))
      (local.set $p (i32.load (i32.add (local.get $pos) (i32.shl (local.get $b) (i32.const 2)))))
      (i32.store (i32.add (local.get $n) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $p) (i32.const 1)))
      ;; row b's queries of head h
      (local.set $src (i32.add (local.get $qkv)
        (i32.add (i32.mul (local.get $b) (i32.mul (local.get $dBytes) (i32.const 3)))
          (i32.shl (i32.mul (i32.rem_u (local.get $c) (local.get $H)) (local.get $dh)) (i32.const 2)))))
      (local.set $kcol (i32.add (local.get $k) (i32.shl (i32.add (i32.mul (i32.mul (local.get $c) (local.get $dh)) (local.get $T)) (local.get $p)) (i32.const 2))))
      (local.set $vrow (i32.add (local.get $v) (i32.shl (i32.mul (i32.add (i32.mul (local.get $c) (local.get $T)) (local.get $p)) (local.get $dh)) (i32.const 2))))
      (local.set $qrow (i32.add (local.get $q) (i32.shl (i32.mul (local.get $c) (local.get $dh)) (i32.const 2))))
      (local.set $e (i32.const 0))
      (loop $dims
        (f32.store (local.get $qrow) (f32.mul (f32.load (local.get $src)) (local.get $scale)))
        (f32.store (local.get $kcol) (f32.load (i32.add (local.get $src) (local.get $dBytes))))
        (f32.store (local.get $vrow) (f32.load (i32.add (local.get $src) (i32.shl (local.get $dBytes) (i32.const 1)))))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $qrow (i32.add (local.get $qrow) (i32.const 4)))
        (local.set $vrow (i32.add (local.get $vrow) (i32.const 4)))
        (local.set $kcol (i32.add (local.get $kcol) (i32.shl (local.get $T) (i32.const 2))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br_if $dims (i32.lt_u (local.get $e) (local.get $dh))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $c) (local.get $C)))))

  ;; s[c, j] = sum_{e = 0..dh-1} q[c, e] * k[c, e, j] for j < n[c] (four keys per vector), then -1e9
  ;; (a masked logit: softmax weight exactly 0) for n[c] <= j < L.
  (func (export "scores") (param $C i32) (param $dh i32) (param $T i32) (param $L i32)
    (param $q i32) (param $k i32) (param $n i32) (param $s i32)
    (local $c i32) (local $j i32) (local $e i32) (local $nc i32) (local $acc v128)
    (local $qrow i32) (local $kcol i32) (local $srow i32)
    (loop $channels
      (local.set $nc (i32.load (i32.add (local.get $n) (i32.shl (local.get $c) (i32.const 2)))))
      (local.set $qrow (i32.add (local.get $q) (i32.shl (i32.mul (local.get $c) (local.get $dh)) (i32.const 2))))
      (local.set $srow (i32.add (local.get $s) (i32.shl (i32.mul (local.get $c) (local.get $L)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $keysDone
        (loop $keys
          (br_if $keysDone (i32.ge_u (local.get $j) (local.get $nc)))
          (local.set $acc (v128.const i32x4 0 0 0 0))
          ;; k[c, 0, j] .. k[c, dh-1, j], T floats apart
          (local.set $kcol (i32.add (local.get $k)
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $c) (local.get $dh)) (local.get $T)) (local.get $j)) (i32.const 2))))
          (local.set $e (i32.const 0))
          (loop $dims
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul
                (v128.load32_splat (i32.add (local.get $qrow) (i32.shl (local.get $e) (i32.const 2))))
                (v128.load (local.get $kcol)))))
            (local.set $kcol (i32.add (local.get $kcol) (i32.shl (local.get $T) (i32.const 2))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br_if $dims (i32.lt_u (local.get $e) (local.get $dh))))
          (v128.store (i32.add (local.get $srow) (i32.shl (local.get $j) (i32.const 2))) (local.get $acc))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $keys)))
      ;; the vector loop may have written up to 3 lanes past n[c]: the mask overwrites them
      (local.set $j (local.get $nc))
      (block $maskDone
        (loop $mask
          (br_if $maskDone (i32.ge_u (local.get $j) (local.get $L)))
          (f32.store (i32.add (local.get $srow) (i32.shl (local.get $j) (i32.const 2))) (f32.const -1e9))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $mask)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $c) (local.get $C)))))

  ;; y[c, e] = sum_{j = 0..n[c]-1} p[c, j] * v[c, j, e] (four dimensions per vector).
  (func (export "mix") (param $C i32) (param $dh i32) (param $T i32) (param $L i32)
    (param $p i32) (param $v i32) (param $n i32) (param $y i32)
    (local $c i32) (local $j i32) (local $e i32) (local $nc i32) (local $acc v128)
    (local $prow i32) (local $vcol i32) (local $yrow i32)
    (loop $channels
      (local.set $nc (i32.load (i32.add (local.get $n) (i32.shl (local.get $c) (i32.const 2)))))
      (local.set $prow (i32.add (local.get $p) (i32.shl (i32.mul (local.get $c) (local.get $L)) (i32.const 2))))
      (local.set $yrow (i32.add (local.get $y) (i32.shl (i32.mul (local.get $c) (local.get $dh)) (i32.const 2))))
      (local.set $e (i32.const 0))
      (loop $dims
        (local.set $acc (v128.const i32x4 0 0 0 0))
        ;; v[c, 0, e] .. v[c, n-1, e], dh floats apart
        (local.set $vcol (i32.add (local.get $v)
          (i32.shl (i32.add (i32.mul (i32.mul (local.get $c) (local.get $T)) (local.get $dh)) (local.get $e)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $keysDone
          (loop $keys
            (br_if $keysDone (i32.ge_u (local.get $j) (local.get $nc)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul
                (v128.load32_splat (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 2))))
                (v128.load (local.get $vcol)))))
            (local.set $vcol (i32.add (local.get $vcol) (i32.shl (local.get $dh) (i32.const 2))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $keys)))
        (v128.store (i32.add (local.get $yrow) (i32.shl (local.get $e) (i32.const 2))) (local.get $acc))
        (local.set $e (i32.add (local.get $e) (i32.const 4)))
        (br_if $dims (i32.lt_u (local.get $e) (local.get $dh))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $c) (local.get $C))))))
