/**
 * The data records the actors' messages carry (memory items, tokens, weights), as Effect Schemas.
 * Shared by the per-actor protocols of this folder; each mirrors a plain interface of the layer that
 * computes it (src/memory, src/numeric) field for field, so a value of that interface is a value of the
 * schema's type. Data only: numbers, strings, arrays, typed arrays and Maps, which the canonical codec
 * (src/core/Codec.ts) encodes; never a closure or a live object.
 */
import { Schema } from "effect"

export const Tokens = Schema.Array(Schema.Int)
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** Log-probabilities and embeddings travel as Float32Array (the codec keeps their bytes exact). */
export const Float32 = Schema.declare<Float32Array>((u): u is Float32Array => u instanceof Float32Array, { identifier: "Float32Array" })

/** One part of a seeded stream's key (src/core/Rng.ts KeyPart). */
export const KeyPart = Schema.Union([Schema.String, Schema.Number, Schema.BigInt, Schema.Boolean])
/** A seeded stream, as data: `Rng.root(seed).fork(...key)` is rebuilt where it is drawn from. */
export const StreamKey = Schema.Struct({ seed: Schema.Int, key: Schema.Array(KeyPart) })
export type StreamKey = typeof StreamKey.Type

/** A memory version: its number (0 = the empty memory) and content id. */
export const VersionRef = Schema.Struct({ seq: NonNegativeInt, id: Schema.String })
export type VersionRef = typeof VersionRef.Type

export const ProvenanceSchema = Schema.Struct({
  rolloutId: Schema.String, policyVersion: Schema.Int, step: Schema.Int, reward: Schema.Number
})
export const SourcesSchema = Schema.Struct({ rolloutIds: Schema.Array(Schema.String), policyVersion: Schema.Int, step: Schema.Int })

export const ExperienceItemSchema = Schema.Struct({
  id: Schema.String, response: Tokens, feedback: Tokens, success: Schema.Boolean, prov: ProvenanceSchema
})
export const ProblemExperienceSchema = Schema.Struct({
  problemId: Schema.String, successes: Schema.Array(ExperienceItemSchema), failures: Schema.Array(ExperienceItemSchema),
  attempts: Schema.Int, solved: Schema.Int
})
export const InsightSchema = Schema.Struct({
  id: Schema.String, problemId: Schema.String, kind: Schema.Literals(["strategy", "lesson"]), tokens: Tokens, feedback: Tokens,
  contrastive: Schema.Boolean, confidence: Schema.Number, support: Schema.Int, sources: SourcesSchema
})
export const ProblemInsightsSchema = Schema.Struct({
  problemId: Schema.String, strategies: Schema.Array(InsightSchema), lessons: Schema.Array(InsightSchema)
})

export const BehaviorSchema = Schema.Struct({
  id: Schema.String, kind: Schema.Literals(["skill", "avoid"]), tokens: Tokens, problemIds: Schema.Array(Schema.String),
  support: Schema.Int, hits: Schema.Int, successes: Schema.Int, sources: SourcesSchema, key: Float32, cluster: Schema.String
})
export const BehaviorBankSchema = Schema.Struct({ behaviors: Schema.Array(BehaviorSchema), retired: Schema.Array(Schema.String) })

export const MempItemSchema = Schema.Struct({
  id: Schema.String, problemId: Schema.String, query: Tokens, procedure: Tokens, avoid: Schema.Array(Tokens),
  hits: Schema.Int, successes: Schema.Int, prov: ProvenanceSchema, queryVec: Float32,
  facts: Schema.Array(Schema.Struct({ key: Schema.String, vec: Float32 }))
})
export const MempStoreSchema = Schema.Struct({ items: Schema.Array(MempItemSchema) })

/** The three PMD memory levels at one version (src/memory/state.ts MemoryState). */
export const MemoryStateSchema = Schema.Struct({
  experience: Schema.ReadonlyMap(Schema.String, ProblemExperienceSchema),
  insights: Schema.ReadonlyMap(Schema.String, ProblemInsightsSchema),
  bank: BehaviorBankSchema
})

/** A behavior as a teacher's context renders it (kind and tokens; the id names it in the lineage). */
export const ViewBehaviorSchema = Schema.Struct({ id: Schema.String, kind: Schema.Literals(["skill", "avoid"]), tokens: Tokens })

/** What a teacher sees of one problem at a pinned version (src/memory/retrieval/compose.ts MemoryView). */
export const MemoryViewSchema = Schema.Struct({
  experience: Schema.optionalKey(ProblemExperienceSchema),
  insights: Schema.optionalKey(ProblemInsightsSchema),
  behaviors: Schema.optionalKey(Schema.Array(ViewBehaviorSchema))
})
export type MemoryViewData = typeof MemoryViewSchema.Type

/** Weights as plain data (src/numeric Weights): named tensors' shapes and values. */
export const WeightsSchema = Schema.Array(Schema.Struct({ name: Schema.String, shape: Schema.Array(Schema.Int), values: Float32 }))
