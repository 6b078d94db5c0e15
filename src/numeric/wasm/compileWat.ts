/**
 * Compiles a WebAssembly text file to its binary with wabt (a dev dependency: only the build script
 * and the test that checks the committed binary is current load it; the runtime uses the bytes).
 */
import { readFileSync } from "node:fs"
import wabt from "wabt"

/** A module's own memory declaration, as every .wat here has it (first field of the module). */
const OWN_MEMORY = '(memory (export "memory") 1)'

/**
 * `relaxedSimd`: also accept the relaxed-SIMD instructions (fmaKernels.wat). Only the modules that use
 * them ask for it, so the other modules' bytes stay exactly what they were. `importMemory`: the
 * module imports its memory as env.memory (the tfjs wasm backend's heap, tfjsHeap.ts) instead of
 * declaring its own; the code is the same.
 */
export const compileWat = async (path: string, options: { readonly relaxedSimd?: boolean; readonly importMemory?: boolean } = {}): Promise<Uint8Array> => {
  const w = await wabt()
  let text = readFileSync(path, "utf8")
  if (options.importMemory === true) {
    if (!text.includes(OWN_MEMORY)) throw new Error(`${path}: no ${OWN_MEMORY} to replace with an import`)
    text = text.replace(OWN_MEMORY, '(import "env" "memory" (memory 1))')
  }
  const mod = w.parseWat(path, text, options.relaxedSimd === true ? { simd: true, relaxed_simd: true } : { simd: true })
  try {
    mod.validate()
    return mod.toBinary({ log: false, write_debug_names: false }).buffer
  } finally {
    mod.destroy()
  }
}
