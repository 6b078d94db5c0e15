/**
 * Plain-loop reference implementations of the losses, in float64 JS numbers, written from the
 * formulas of algorithms.md §2b/§3b/§4b (not from src/). Stop-gradients are modelled by a second
 * argument: `x0` is the point where detached quantities (old = current log-probs, the IS ratio, the
 * student's top-k support, the sampled-token advantage) are read, so `x -> ref(x, x0)` with x0 fixed
 * has exactly the gradient the tfjs loss should have at x = x0.
 */

export interface Shape {
  readonly B: number
  readonly R: number
  readonly V: number
}

export const logSoftmax = (row: ReadonlyArray<number>): Array<number> => {
  const m = Math.max(...row)
  let s = 0
  for (const v of row) s += Math.exp(v - m)
  const lse = m + Math.log(s)
  return row.map((v) => v - lse)
}

/** log-probs of row (b, r) of flat logits [B*R*V]. */
export const rowLogp = (x: ArrayLike<number>, sh: Shape, b: number, r: number): Array<number> => {
  const base = (b * sh.R + r) * sh.V
  return logSoftmax(Array.from({ length: sh.V }, (_, v) => x[base + v]!))
}

export const entropy = (lp: ReadonlyArray<number>): number => -lp.reduce((s, l) => s + Math.exp(l) * l, 0)

/** Aggregates per-token values l[b][r] with mask m (flat) and per-sample weights, by mode. */
export const aggregate = (
  l: Array<Array<number>>,
  m: ArrayLike<number>,
  sh: Shape,
  mode: string,
  sw?: ArrayLike<number>,
  extras: { maxCompletionLength?: number | null; numItemsInBatch?: number | null } = {}
): number => {
  let N = 0
  for (let i = 0; i < sh.B * sh.R; i++) N += m[i]!
  let total = 0
  for (let b = 0; b < sh.B; b++) {
    let rowSum = 0
    let n = 0
    for (let r = 0; r < sh.R; r++) {
      rowSum += l[b]![r]! * m[b * sh.R + r]!
      n += m[b * sh.R + r]!
    }
    const w = sw === undefined ? 1 : sw[b]!
    if (mode === "grpo" || mode === "seq-mean") total += (w * rowSum) / Math.max(n, 1) / sh.B
    else if (mode === "bnpo" || mode === "token-mean") total += (w * rowSum) / Math.max(N, 1)
    else if (mode === "dr_grpo") total += (w * rowSum) / (sh.B * (extras.maxCompletionLength ?? sh.R))
    else if (mode === "dapo") total += (w * rowSum) / (extras.numItemsInBatch ?? Math.max(N, 1))
    else throw new Error(mode)
  }
  return total
}

export interface RefGrpo {
  targets: ArrayLike<number>
  responseMask: ArrayLike<number>
  advantages: ArrayLike<number>
  oldLogp?: ArrayLike<number>
  refLogp?: ArrayLike<number>
  sampleWeights?: ArrayLike<number>
  epsilon: number
  epsilonHigh: number | null
  delta: number | null
  beta: number
  lossType: string
  sequence: boolean
  useBiasCorrectionKl: boolean
  clipRatioC: number | null
  entropyCoef: number
  maxCompletionLength?: number | null
  numItemsInBatch?: number | null
}

export const refGrpo = (x: ArrayLike<number>, x0: ArrayLike<number>, sh: Shape, p: RefGrpo): number => {
  const lt: Array<Array<number>> = []
  const ent: Array<Array<number>> = []
  for (let b = 0; b < sh.B; b++) {
    const s: Array<number> = []
    const lr: Array<number> = []
    ent.push([])
    for (let r = 0; r < sh.R; r++) {
      const i = b * sh.R + r
      const lp = rowLogp(x, sh, b, r)
      s.push(lp[p.targets[i]!]!)
      const old = p.oldLogp === undefined ? rowLogp(x0, sh, b, r)[p.targets[i]!]! : p.oldLogp[i]!
      lr.push(s[r]! - old)
      ent[b]!.push(entropy(lp))
    }
    if (p.sequence) {
      let sum = 0
      let n = 0
      for (let r = 0; r < sh.R; r++) {
        sum += lr[r]! * p.responseMask[b * sh.R + r]!
        n += p.responseMask[b * sh.R + r]!
      }
      lr.fill(sum / Math.max(n, 1))
    }
    const A = p.advantages[b]!
    lt.push(
      lr.map((lrt, r) => {
        const rho = Math.exp(lrt)
        const clip = Math.min(Math.max(rho, 1 - p.epsilon), 1 + (p.epsilonHigh ?? p.epsilon))
        const capped = p.delta === null ? rho : Math.min(rho, p.delta)
        let l = -Math.min(capped * A, clip * A)
        if (p.clipRatioC !== null && A < 0) l = Math.min(l, -A * p.clipRatioC)
        if (p.beta > 0) {
          const dd = p.refLogp![b * sh.R + r]! - s[r]!
          let kl = Math.exp(dd) - dd - 1
          if (p.useBiasCorrectionKl) kl *= rho
          l += p.beta * kl
        }
        return l
      })
    )
  }
  const ex = { maxCompletionLength: p.maxCompletionLength ?? null, numItemsInBatch: p.numItemsInBatch ?? null }
  let loss = aggregate(lt, p.responseMask, sh, p.lossType, p.sampleWeights, ex)
  if (p.entropyCoef !== 0) loss -= p.entropyCoef * aggregate(ent, p.responseMask, sh, p.lossType, undefined, ex)
  return loss
}

/** Generalized JSD family over one support: alpha 0 forward KL, 1 reverse KL. */
export const refDivergence = (S: ReadonlyArray<number>, T: ReadonlyArray<number>, alpha: number): number => {
  let out = 0
  for (let i = 0; i < S.length; i++) {
    const s = S[i]!
    const t = T[i]!
    if (alpha === 0) out += Math.exp(t) * (t - s)
    else if (alpha === 1) out += Math.exp(s) * (s - t)
    else {
      const M = Math.log((1 - alpha) * Math.exp(s) + alpha * Math.exp(t))
      out += (1 - alpha) * Math.exp(s) * (s - M) + alpha * Math.exp(t) * (t - M)
    }
  }
  return out
}

const withTail = (lp: Array<number>): Array<number> => {
  const logS = Math.min(Math.log(lp.reduce((a, l) => a + Math.exp(l), 0)), -1e-7)
  return [...lp, Math.log(-Math.expm1(logS))]
}

const renorm = (lp: Array<number>): Array<number> => {
  const lse = Math.log(lp.reduce((a, l) => a + Math.exp(l), 0))
  return lp.map((l) => l - lse)
}

/** Indices of the k largest entries, ties to the lower index. */
export const refTopk = (row: ReadonlyArray<number>, k: number): Array<number> =>
  row
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i)

export interface RefSdpo {
  targets: ArrayLike<number>
  responseMask: ArrayLike<number>
  teacherLogp: ArrayLike<number> // [B*R*V]
  teacherMask: ArrayLike<number>
  oldLogp?: ArrayLike<number>
  sampleWeights?: ArrayLike<number>
  alpha: number
  full: boolean
  topk: number | null
  addTail: boolean
  isClip: number | null
  klClip: number | null
  temperature: number
  entropyCoef: number
  weight: number
  aggMode: string
  grpo?: RefGrpo // the GRPO part when weight < 1
}

export const refSdpo = (x: ArrayLike<number>, x0: ArrayLike<number>, sh: Shape, p: RefSdpo): number => {
  const lt: Array<Array<number>> = []
  const ent: Array<Array<number>> = []
  const mask = Array.from(p.responseMask, (m, i) => m * p.teacherMask[Math.floor(i / sh.R)]!)
  for (let b = 0; b < sh.B; b++) {
    lt.push([])
    ent.push([])
    for (let r = 0; r < sh.R; r++) {
      const i = b * sh.R + r
      const y = p.targets[i]!
      const s = rowLogp(x, sh, b, r)
      const s0 = rowLogp(x0, sh, b, r)
      const traw = Array.from({ length: sh.V }, (_, v) => p.teacherLogp[i * sh.V + v]! / p.temperature)
      const t = logSoftmax(traw).map((v) => Math.max(v, -1e9))
      ent[b]!.push(entropy(s))
      let D: number
      if (!p.full) D = (s0[y]! - t[y]!) * s[y]!
      else if (p.topk === null || p.topk >= sh.V) D = refDivergence(s, t, p.alpha)
      else {
        const idx = refTopk(Array.from({ length: sh.V }, (_, v) => x0[i * sh.V + v]!), p.topk)
        const fix = p.addTail ? withTail : renorm
        D = refDivergence(
          fix(idx.map((j) => s[j]!)),
          fix(idx.map((j) => t[j]!)),
          p.alpha
        )
      }
      if (p.klClip !== null && p.full) D = Math.min(D, p.klClip)
      if (p.isClip !== null && p.oldLogp !== undefined) {
        D *= Math.min(Math.exp(Math.min(20, Math.max(-20, s0[y]! - p.oldLogp[i]!))), p.isClip)
      }
      lt[b]!.push(D)
    }
  }
  let loss = aggregate(lt, mask, sh, p.aggMode, p.sampleWeights)
  if (p.weight < 1) loss = (1 - p.weight) * refGrpo(x, x0, sh, p.grpo!) + p.weight * loss
  if (p.entropyCoef !== 0) loss -= p.entropyCoef * aggregate(ent, p.responseMask, sh, p.aggMode)
  return loss
}

/** Central-difference gradient of a float64 function over every coordinate. */
export const numericGrad = (f: (x: Array<number>) => number, x0: ReadonlyArray<number>, h = 1e-6): Array<number> => {
  const x = [...x0]
  return x0.map((v, i) => {
    x[i] = v + h
    const up = f(x)
    x[i] = v - h
    const down = f(x)
    x[i] = v
    return (up - down) / (2 * h)
  })
}
