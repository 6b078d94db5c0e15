/**
 * The end-to-end check on a verdict: a digest taken where the verdict was computed (the worker) and
 * re-taken where it is used (the pool). A verdict damaged on the way, which is what the "flaky" fault
 * simulates, fails the comparison and the check is retried instead of being counted.
 *
 * The digest is sha-256 over a fixed field order rather than the msgpackr codec, so that workers do not
 * load the codec (they start faster); it covers every field of the verdict.
 */
import { createHash } from "node:crypto"
import type { Verdict } from "../../src/domains/Domain.ts"

export const verdictDigest = (v: Verdict): string =>
  createHash("sha256")
    .update(`${v.reward}|${v.passed}|${v.total}|${v.solved}|${v.feedback.join(",")}|${v.error ?? ""}`)
    .digest("hex")
