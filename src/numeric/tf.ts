/**
 * The single place numeric code imports tfjs from, with the wasm backend registered.
 *
 * Everything under src/numeric imports `tf` from here, so the backend set-up (backend.ts) and the
 * kernels it registers are shared by all of it.
 */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-wasm"

export { tf }
