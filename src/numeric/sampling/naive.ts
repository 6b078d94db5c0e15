/**
 * Reference sampler without a KV cache: every step re-runs the whole model on the right-padded
 * sequences so far and reads each row's logits at its last real position. Slow (quadratic in the
 * length); kept for the benchmark and as the oracle the KV-cache sampler is tested against.
 */
import type { ModelConfig } from "../model/config.ts"
import { forward } from "../model/forward.ts"
import type { Params } from "../model/params.ts"
import { readTidy } from "../read.ts"
import { tf } from "../tf.ts"
import { pickToken } from "./pick.ts"
import { type SampleOptions, type SampleResult, type SampleRow, RowState, checkRows, padRight } from "./rows.ts"

export const sampleNaive = (params: Params, cfg: ModelConfig, rows: ReadonlyArray<SampleRow>, opts: SampleOptions): Array<SampleResult> => {
  checkRows(cfg, rows, opts)
  const B = rows.length
  const V = cfg.vocabSize
  const stop = new Set(opts.stopTokens ?? [])
  const states = rows.map(() => new RowState())
  const seqs = rows.map((r) => [...r.prompt])
  for (let step = 0; step < opts.maxNewTokens && states.some((s) => !s.stopped); step++) {
    const T = Math.max(...seqs.map((s) => s.length))
    const last = Int32Array.from(seqs, (s, b) => b * T + s.length - 1)
    const logits = readTidy(() => {
      const all = forward(params, cfg, tf.tensor2d(padRight(seqs, T, opts.padToken ?? 0), [B, T], "int32")) // [B, T, V]
      return tf.gather(all.reshape([B * T, V]), tf.tensor1d(last, "int32")) // [B, V]
    })
    for (let b = 0; b < B; b++) {
      const st = states[b]!
      if (st.stopped) continue
      const p = pickToken(logits, b * V, V, opts, rows[b]!.rng)
      st.push(p, stop)
      seqs[b]!.push(p.token)
    }
  }
  return states.map((s) => s.result())
}
