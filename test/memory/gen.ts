/**
 * The memory tests' arbitraries now live in pmdsim/testing (src/testing/arbitraries.ts), shared with
 * plug-in authors; this module re-exports them under their old names for the tests that still import it.
 */
export { attempts, shuffled, testEmbedder as embed, tokens } from "../../src/testing/arbitraries.ts"
