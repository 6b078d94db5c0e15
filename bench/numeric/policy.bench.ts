/**
 * Policy benchmarks: train step (forward + backward + AdamW), KV-cache vs naive sampling, at the
 * reference size (109k params: V=48, d=64, 2 layers, 4 heads, MLP 256, batch 64 x 48) and at 4x width
 * (d=256, MLP 1024); the machine's plain matMul peak and the fraction of it a train step reaches; and
 * the identical model in PyTorch CPU (bench/numeric/policy_torch.py) when python3 has torch: its train
 * step, and its sampling both with a per-layer KV cache (the fair comparison for our KV-cache sampler;
 * issue #17 targets ours >= 1.5x faster) and without one (the prefix re-run every token); and a whole
 * training step's compute on both sides (sampling + teacher scoring + update, the measured parts added);
 * and a sampling floor: the multiply-adds no KV-cache sampler can skip, at the fastest GEMM rate measured
 * in the run, which bounds the speed-up over PyTorch any kernel of ours could reach on this machine.
 *
 * tfjs runs on --threads N XNNPACK threads (default: all cores); PyTorch is measured at 1 thread and
 * at N threads, so both ratios are printed.
 *
 * The opt-in `numeric.fma` mode (src/numeric/fmaMode.ts) is measured in the same run: the train step
 * (and sampling, teacher scoring) again with the fma kernels, printed as `train step fma vs exact` and
 * `train step fma vs PyTorch (1 thread)` lines (issue #17 targets <= 2x PyTorch's time), and the speed
 * of its GEMMs against XNNPACK's matMul for the model's shapes. `--no-fma` skips it.
 *
 *   node_modules/.bin/node bench/numeric/policy.bench.ts [--quick] [--threads N] [--no-fma]
 */
import { spawnSync } from "node:child_process"
import os from "node:os"
import { fileURLToPath } from "node:url"
import { Rng } from "../../src/core/Rng.ts"
import {
  type ModelConfig,
  configParamCount,
  createAdamState,
  disposeAdamState,
  disposeParams,
  initBackend,
  initParams,
  nextTokenLoss,
  sample,
  sampleNaive,
  scoreResponses,
  trainStep
} from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import { heapView } from "../../src/numeric/wasm/heapView.ts"
import { fmaMatMul, fmaMatMulTransposed, fmaTransposedMatMul } from "../../src/numeric/wasm/fmaTensors.ts"
import { transposedProduct } from "../../src/numeric/wasm/gradKernels.ts"

const quick = process.argv.includes("--quick")
const withFma = !process.argv.includes("--no-fma")
const threadsArg = process.argv.indexOf("--threads")
const THREADS = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : os.availableParallelism()
const STEPS = quick ? 3 : 8
const B = 64
const T = 48
const SB = 64 // sampling batch
const PROMPT = 16
const NEW = 32
const KV_RUNS = quick ? 5 : 7 // KV samplings timed (median), ours and PyTorch's alike: one is too noisy on loaded VMs

const median = (xs: Array<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const now = (): number => performance.now()

/** Matmul FLOPs of one forward pass over B x T tokens (embedding one-hot, projections, attention, head). */
const forwardFlops = (c: ModelConfig, b: number, t: number): number => {
  const n = b * t
  const perLayer = 2 * n * (c.dModel * 3 * c.dModel + c.dModel * c.dModel + 2 * c.dModel * c.dMlp) + 2 * 2 * b * t * t * c.dModel
  return 2 * n * c.vocabSize * c.dModel + c.nLayers * perLayer + 2 * n * c.dModel * c.vocabSize
}

/**
 * The multiply-adds a KV-cache sampler cannot avoid for `rows` rows of `prompt` + `fresh` tokens: every
 * position through every layer's dense projections (QKV, output, MLP), causal attention over the keys
 * before it, and the head for the positions whose next token is drawn. Embedding lookups are free. At
 * the best GEMM rate our kernels reach, this is a floor on our sampler's time on this machine.
 */
const samplingFlops = (c: ModelConfig, rows: number, prompt: number, fresh: number): number => {
  const len = prompt + fresh
  const dense = 2 * rows * len * c.nLayers * (4 * c.dModel * c.dModel + 2 * c.dModel * c.dMlp)
  const attention = c.nLayers * 2 * 2 * rows * ((len * (len + 1)) / 2) * c.dModel
  return dense + attention + 2 * rows * fresh * c.dModel * c.vocabSize
}

/**
 * Best GFLOP/s of plain 2-D matMuls, best of 7 each: a square 1024^3 and the model's own large shapes
 * ([3072, 64] @ [64, 256], [3072, 256] @ [256, 256]). On shared, loaded cores the square one can be
 * far slower than the others (cache contention), so the peak is the best over all of them.
 */
const matmulPeak = (): number => {
  let peak = 0
  for (const [m, k, n] of [[1024, 1024, 1024], [3072, 64, 256], [3072, 256, 256]] as const) {
    const a = tf.randomNormal([m, k], 0, 1, "float32", 1)
    const b = tf.randomNormal([k, n], 0, 1, "float32", 2)
    // read inside the tidy without returning the array: tidy would walk it element by element
    const run = () => tf.tidy(() => void tf.matMul(a, b).dataSync())
    run()
    for (let i = 0; i < 7; i++) {
      const t0 = now()
      run()
      peak = Math.max(peak, (2 * m * k * n) / ((now() - t0) / 1000) / 1e9)
    }
    tf.dispose([a, b])
  }
  return peak
}

interface Row {
  readonly name: string
  readonly params: number
  readonly stepMs: number
  readonly gflops: number
  readonly kvS: number
  readonly naiveS: number
  /** teacher scoring of the SB sampled rows (prompt ++ response), median of 5 */
  readonly scoreMs: number
}

/**
 * GFLOP/s (best of 5, run as `mm` runs them: the exact kernel's operands and result copied, the fma
 * kernels in the tfjs heap, wasm/fmaTensors.ts) of a model's three matmul kinds: the forward x @ W,
 * the input gradient dy @ W^T and the weight gradient x^T @ dy; XNNPACK (and, for x^T @ dy, the
 * exact mode's gradKernels.wat) against the fma kernels.
 */
const gemmSpeeds = (rows: number, shapes: ReadonlyArray<readonly [number, number]>): { readonly lines: Array<string>; readonly best: number } => {
  const out: Array<string> = []
  let fastest = 0
  const best = (flops: number, f: () => void): number => {
    f()
    let ms = Infinity
    for (let i = 0; i < 5; i++) {
      const t0 = now()
      f()
      ms = Math.min(ms, now() - t0)
    }
    return flops / (ms / 1000) / 1e9
  }
  // a result tensor made and disposed, as in the train step (no readback: that is not part of a step)
  const keep = (f: () => tf.Tensor) => () => tf.tidy(() => void f())
  for (const [k, n] of shapes) {
    const x = tf.randomNormal([rows, k], 0, 1, "float32", 1) as tf.Tensor2D
    const w = tf.randomNormal([k, n], 0, 1, "float32", 2) as tf.Tensor2D
    const dy = tf.randomNormal([rows, n], 0, 1, "float32", 3) as tf.Tensor2D
    const flops = 2 * rows * k * n
    const g = (v: number) => v.toFixed(1).padStart(5)
    const xnnF = best(flops, keep(() => tf.matMul(x, w)))
    const fmaF = best(flops, keep(() => fmaMatMul(x, w)))
    const xnnD = best(flops, keep(() => tf.matMul(dy, w.transpose())))
    const fmaD = best(flops, keep(() => fmaMatMulTransposed(dy, w)))
    const exW = best(flops, keep(() => tf.tensor2d(transposedProduct(heapView(x), heapView(dy), rows, k, n), [k, n])))
    const fmaW = best(flops, keep(() => fmaTransposedMatMul(x, dy)))
    fastest = Math.max(fastest, xnnF, fmaF, xnnD, fmaD, exW, fmaW)
    out.push(`  [${rows}, ${k}] @ [${k}, ${n}]: x@W xnnpack ${g(xnnF)} fma ${g(fmaF)} | dy@W^T xnnpack ${g(xnnD)} fma ${g(fmaD)} | x^T@dy exact kernel ${g(exW)} fma ${g(fmaW)}  GFLOP/s`)
    tf.dispose([x, w, dy])
  }
  return { lines: out, best: fastest }
}

const benchConfig = (name: string, cfg: ModelConfig, fma = false): Row => {
  const params = initParams(cfg, Rng.root(1))
  const st = createAdamState(params)
  const r = Rng.root(2)
  const tokens = Int32Array.from({ length: B * T }, () => r.below(cfg.vocabSize))
  const weights = new Float32Array(B * T).fill(1)
  const step = () =>
    trainStep(params, st, () => nextTokenLoss(params, cfg, tokens, weights, B, T), { schedule: { lr: 1e-3, warmupSteps: 0, decay: "constant" }, clipNorm: 1 })
  step()
  step()
  const ts: Array<number> = []
  for (let i = 0; i < STEPS; i++) {
    const t0 = now()
    step()
    ts.push(now() - t0)
  }
  const stepMs = median(ts)
  const rows = () => Array.from({ length: SB }, (_, i) => ({ prompt: Array.from({ length: PROMPT }, (_, j) => (i * 7 + j * 3) % cfg.vocabSize), rng: Rng.root(3).fork(i) }))
  const opts = { temperature: 1, maxNewTokens: NEW }
  sample(params, cfg, rows().slice(0, 4), { temperature: 1, maxNewTokens: 4 })
  const kv: Array<number> = []
  for (let i = 0; i < KV_RUNS; i++) {
    const t0 = now()
    sample(params, cfg, rows(), opts)
    kv.push(now() - t0)
  }
  const t0 = now()
  if (!fma) sampleNaive(params, cfg, rows(), opts) // the naive sampler's figure is the exact mode's only
  const naiveS = fma ? Number.NaN : (now() - t0) / 1000
  const sampled = sample(params, cfg, rows(), opts)
  const contexts = rows().map((r) => r.prompt)
  const responses = sampled.map((x) => x.tokens)
  scoreResponses(params, cfg, contexts, responses)
  const scores: Array<number> = []
  for (let i = 0; i < 5; i++) {
    const s0 = now()
    scoreResponses(params, cfg, contexts, responses)
    scores.push(now() - s0)
  }
  disposeAdamState(st)
  disposeParams(params)
  return { name, params: configParamCount(cfg), stepMs, gflops: (3 * forwardFlops(cfg, B, T)) / (stepMs / 1000) / 1e9, kvS: median(kv) / 1000, naiveS, scoreMs: median(scores) }
}

interface TorchResult {
  readonly params: number
  readonly stepMs: number
  readonly sampleNaiveS: number
  /** Median KV-cache sampling time over `sampleKvRuns` runs, after 2 warm-up runs. */
  readonly sampleKvS: number
  readonly sampleKvRuns: number
  /** teacher scoring: one no-grad pass over SB rows of prompt ++ response, median of 5 */
  readonly scoreMs: number
  /** Max |logit difference| between the cached decode and a plain causal pass over the same tokens. */
  readonly kvCheckMaxDiff: number
  readonly threads: number
  readonly version: string
}

// The first interpreter that imports torch: $PMDSIM_PYTHON, python3 on PATH, Debian's /usr/bin/python3
// (python3-torch installs there, which a pyenv/venv python3 on PATH does not see).
const pythons = [process.env["PMDSIM_PYTHON"], "python3", "/usr/bin/python3"].filter((p): p is string => p !== undefined)

const torch = (cfg: ModelConfig, threads: number): TorchResult | string => {
  const script = fileURLToPath(new URL("./policy_torch.py", import.meta.url))
  const arg = JSON.stringify({ ...cfg, batch: B, seq: T, steps: STEPS, promptLen: PROMPT, newTokens: NEW, sampleBatch: SB, sampleRuns: KV_RUNS, threads })
  const reasons: Array<string> = []
  for (const py of pythons) {
    const r = spawnSync(py, [script, arg], { encoding: "utf8" })
    if (r.error !== undefined) reasons.push(`${py}: unavailable`)
    else if (r.status !== 0) reasons.push(`${py}: ${r.stderr.includes("No module named 'torch'") ? "no torch" : (r.stderr.trim().split("\n").pop() ?? "failed")}`)
    else return JSON.parse(r.stdout.trim().split("\n").pop()!) as TorchResult
  }
  return reasons.join("; ")
}

const info = await initBackend("wasm", { threads: THREADS })
let peak = matmulPeak()
const load = os.loadavg()[0]!
console.log(`backend ${info.name} (simd ${info.simd}, ${info.threads} threads, deterministic ${info.deterministic}); plain matMul peak ${peak.toFixed(1)} GFLOP/s; load average ${load.toFixed(1)}`)
console.log(`train: batch ${B} x ${T} tokens, ${STEPS} timed steps (median); sample: ${SB} rows, prompt ${PROMPT}, ${NEW} new tokens, KV median of ${KV_RUNS}\n`)

const small: ModelConfig = { vocabSize: 48, contextLength: 48, dModel: 64, nLayers: 2, nHeads: 4, dMlp: 256 }
const wide: ModelConfig = { ...small, dModel: 256, dMlp: 1024 }
const rows = [benchConfig("ref d=64", small), benchConfig("4x width d=256", wide)]
// the fma mode, in the same process and minutes apart (the VM drifts): the exact rows above are its baseline
let fmaRows: Array<Row> = []
// the fastest GEMM measured in this run (the fma kernels' when they run): the sampling floor's rate
let gemmBest = 0
if (withFma) {
  await initBackend("wasm", { threads: THREADS, fma: true })
  fmaRows = [benchConfig("fma d=64", small, true), benchConfig("fma d=256", wide, true)]
  await initBackend("wasm", { threads: THREADS, fma: false })
}
const peakAfter = matmulPeak()
if (peakAfter > peak) {
  console.log(`(matMul peak re-measured after the runs: ${peakAfter.toFixed(1)} GFLOP/s, used below)`)
  peak = peakAfter
}
const pad = (s: string | number, n: number) => String(s).padStart(n)
console.log(`${"config".padEnd(16)}${pad("params", 9)}${pad("step ms", 9)}${pad("GFLOP/s", 9)}${pad("of peak", 9)}${pad("kv s", 8)}${pad("naive s", 9)}${pad("kv tok/s", 10)}${pad("kv/naive", 10)}`)
for (const r of [...rows, ...fmaRows]) {
  console.log(
    `${r.name.padEnd(16)}${pad(r.params, 9)}${pad(r.stepMs.toFixed(0), 9)}${pad(r.gflops.toFixed(2), 9)}${pad(((100 * r.gflops) / peak).toFixed(0) + "%", 9)}` +
      `${pad(r.kvS.toFixed(2), 8)}${pad(r.naiveS.toFixed(2), 9)}${pad(((SB * NEW) / r.kvS).toFixed(0), 10)}${pad((r.naiveS / r.kvS).toFixed(1) + "x", 10)}`
  )
}
console.log("")
if (withFma) {
  console.log(`fma GEMMs against XNNPACK (1 process, ${info.threads} XNNPACK threads; the fma kernels use one), the models' shapes, ${B * T} rows:`)
  const gemms = gemmSpeeds(B * T, [[64, 64], [64, 256], [256, 64], [256, 256], [256, 1024], [1024, 256]])
  for (const line of gemms.lines) console.log(line)
  gemmBest = gemms.best
  for (let i = 0; i < rows.length; i++) console.log(`train step fma vs exact, ${rows[i]!.name}: ${(rows[i]!.stepMs / fmaRows[i]!.stepMs).toFixed(2)}x faster (${rows[i]!.stepMs.toFixed(0)} -> ${fmaRows[i]!.stepMs.toFixed(0)} ms)`)
  console.log("")
}
/** The least time a sampler of ours needs here: its unavoidable FLOPs at the fastest GEMM rate our kernels reached in this run. */
const floorS = (cfg: ModelConfig): number => samplingFlops(cfg, SB, PROMPT, NEW) / (Math.max(peak, gemmBest) * 1e9)
/** A training step's compute as its measured parts: sampling (s), teacher scoring (ms), the update (ms). */
const wholeMs = (sampleS: number, scoreMs: number, stepMs: number): number => 1000 * sampleS + scoreMs + stepMs
const cfgs: Array<[string, ModelConfig, Row, Row | undefined]> = [["ref d=64", small, rows[0]!, fmaRows[0]], ["4x width d=256", wide, rows[1]!, fmaRows[1]]]
for (const threads of [...new Set([1, info.threads])]) {
  for (const [name, cfg, ours, fmaOurs] of cfgs) {
    const t = torch(cfg, threads)
    if (typeof t === "string") {
      console.log(`pytorch: skipped (${t})`)
      process.exit(0)
    }
    // speed ratios as torch time / tfjs time: > 1 means ours is faster
    const kvSpeed = t.sampleKvS / ours.kvS
    console.log(
      `pytorch ${t.version} ${t.threads} thr, ${name.padEnd(15)} params ${t.params}  step ${t.stepMs.toFixed(0)} ms (tfjs/torch ${(ours.stepMs / t.stepMs).toFixed(2)}x time)\n` +
        `    sample with KV cache: torch ${t.sampleKvS.toFixed(3)} s, tfjs (${info.threads} thr) ${ours.kvS.toFixed(3)} s: tfjs speedup ${kvSpeed.toFixed(2)}x (target >= 1.5x: ${kvSpeed >= 1.5 ? "met" : "not met"})` +
        `  [torch cache check: max |logit diff| ${t.kvCheckMaxDiff.toExponential(1)}]\n` +
        `    sampling floor: ${(samplingFlops(cfg, SB, PROMPT, NEW) / 1e9).toFixed(2)} GFLOP at the fastest GEMM measured here (${Math.max(peak, gemmBest).toFixed(1)} GFLOP/s) take ` +
        `${floorS(cfg).toFixed(3)} s: at most ${(t.sampleKvS / floorS(cfg)).toFixed(2)}x torch's KV speed on this machine\n` +
        `    sample without KV cache (torch naive loop): ${t.sampleNaiveS.toFixed(2)} s: tfjs kv speedup ${(t.sampleNaiveS / ours.kvS).toFixed(1)}x\n` +
        `    whole step (sample ${SB}x${NEW} + teacher scoring ${SB} rows + update ${B}x${T}, measured parts added): ` +
        `tfjs ${wholeMs(ours.kvS, ours.scoreMs, ours.stepMs).toFixed(0)} ms, torch ${wholeMs(t.sampleKvS, t.scoreMs, t.stepMs).toFixed(0)} ms: ` +
        `tfjs/torch ${(wholeMs(ours.kvS, ours.scoreMs, ours.stepMs) / wholeMs(t.sampleKvS, t.scoreMs, t.stepMs)).toFixed(2)}x time`
    )
    if (fmaOurs !== undefined) {
      const ratio = fmaOurs.stepMs / t.stepMs
      console.log(
        `    train step fma vs PyTorch (${t.threads} thread${t.threads === 1 ? "" : "s"}): ${ratio.toFixed(2)}x its time (${fmaOurs.stepMs.toFixed(0)} vs ${t.stepMs.toFixed(0)} ms; ` +
          `target <= 2x at 1 thread: ${ratio <= 2 ? "met" : "not met"})\n` +
          `    whole step fma: tfjs ${wholeMs(fmaOurs.kvS, fmaOurs.scoreMs, fmaOurs.stepMs).toFixed(0)} ms: tfjs/torch ` +
          `${(wholeMs(fmaOurs.kvS, fmaOurs.scoreMs, fmaOurs.stepMs) / wholeMs(t.sampleKvS, t.scoreMs, t.stepMs)).toFixed(2)}x time`
      )
    }
  }
}
console.log(`load average at the end ${os.loadavg()[0]!.toFixed(1)} (shared machine: ratios from one run are noisy)`)
