/**
 * Compiles a WebAssembly text file to its binary with wabt (a dev dependency: only the build script
 * and the test that checks the committed binary is current load it; the runtime uses the bytes).
 */
import { readFileSync } from "node:fs"
import wabt from "wabt"

/**
 * `relaxedSimd`: also accept the relaxed-SIMD instructions (fmaKernels.wat). Only the modules that use
 * them ask for it, so the other modules' bytes stay exactly what they were.
 */
export const compileWat = async (path: string, options: { readonly relaxedSimd?: boolean } = {}): Promise<Uint8Array> => {
  const w = await wabt()
  const mod = w.parseWat(path, readFileSync(path, "utf8"), options.relaxedSimd === true ? { simd: true, relaxed_simd: true } : { simd: true })
  try {
    mod.validate()
    return mod.toBinary({ log: false, write_debug_names: false }).buffer
  } finally {
    mod.destroy()
  }
}
