/**
 * Public API of the numeric layer: the policy network, sampling, scoring, optimiser, checkpoints and
 * backend selection. Pure and synchronous (except backend initialisation); tensors never leave a
 * function except `forward` / `hiddenStates`, which are for use inside the caller's tidy or
 * gradient scope.
 */
export { type BackendInfo, type BackendName, type BackendRequest, backendInfo, initBackend, numericMemory, type NumericMemory } from "./backend.ts"
export { BackendError, CheckpointError, NumericInputError } from "./errors.ts"
export { fmaEnabled, fmaFingerprint } from "./fmaMode.ts"
export { readTidy } from "./read.ts"
export { type ModelConfig, defaultModelConfig, headDim, validateConfig } from "./model/config.ts"
export { causalBias, forward, hiddenStates } from "./model/forward.ts"
export { nextTokenLoss } from "./model/lmLoss.ts"
export {
  type ParamSpec,
  type Params,
  type Weights,
  cloneParams,
  configParamCount,
  disposeParams,
  emaUpdate,
  getWeights,
  initParams,
  paramCount,
  paramSpecs,
  paramsFromWeights,
  setWeights,
  weightsHash
} from "./model/params.ts"
export {
  type AdamConfig,
  type AdamState,
  type AdamStateData,
  createAdamState,
  defaultAdam,
  disposeAdamState,
  exportAdamState,
  importAdamState
} from "./optim/adam.ts"
export { type LrSchedule, learningRate } from "./optim/schedule.ts"
export { type TrainOptions, type TrainStepResult, trainStep } from "./optim/trainStep.ts"
export { applyGrads, type HostGrads, lossGrads } from "./optim/accumulate.ts"
export { type Pick, type SamplingParams, pickToken } from "./sampling/pick.ts"
export { type SampleOptions, type SampleResult, type SampleRow, alignLength } from "./sampling/rows.ts"
export { sample } from "./sampling/sample.ts"
export { sampleNaive } from "./sampling/naive.ts"
export { type ScoredResponse, type TopK, embedSequences, scoreResponses, topKLogProbs } from "./sampling/score.ts"
export { type CheckpointData, type SaveInput, CHECKPOINT_VERSION, loadCheckpoint, saveCheckpoint } from "./checkpoint/checkpoint.ts"
