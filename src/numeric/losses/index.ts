/**
 * The learning algorithms as pure tfjs loss functions (GRPO, SDPO, teacher kinds, CPPO weighting).
 * See README.md in this folder for every loss, option and source.
 */
export { type AdvantageOptions, groupAdvantages, type ScaleRewards } from "./advantages.ts"
export type { BatchScope, GrpoLossType, SdpoLossAggMode } from "./aggregate.ts"
export {
  type CppoOptions,
  type CppoPlan,
  classifyRollouts,
  cppoDefaults,
  cppoLoss,
  cppoPlan,
  cppoTypeWeights,
  type RetentionBatch,
  retentionLoss,
  type RolloutType,
  sequenceLogp
} from "./cppo.ts"
export { divergence, supportDivergence, topkIndices } from "./divergence.ts"
export { type NextTokenBatch, nextTokenLoss } from "./nextToken.ts"
export { type GrpoBatch, grpoDefaults, grpoLoss, type GrpoOptions, resolveGrpoOptions } from "./grpo.ts"
export { type GrpoDiagnostics, grpoDiagnostics } from "./grpoDiagnostics.ts"
export { resolveSdpoOptions, type SdpoBatch, sdpoDefaults, sdpoLoss, type SdpoOptions } from "./sdpo.ts"
export { type SdpoDiagnostics, sdpoDiagnostics } from "./sdpoDiagnostics.ts"
export {
  afterStudentStep,
  type AlignedForward,
  emaUpdate,
  snapshotParams,
  type TeacherSpec,
  teacherLogProbs
} from "./teacher.ts"
