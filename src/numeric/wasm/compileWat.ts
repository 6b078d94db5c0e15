/**
 * Compiles a WebAssembly text file to its binary with wabt (a dev dependency: only the build script
 * and the test that checks the committed binary is current load it; the runtime uses the bytes).
 */
import { readFileSync } from "node:fs"
import wabt from "wabt"

export const compileWat = async (path: string): Promise<Uint8Array> => {
  const w = await wabt()
  const mod = w.parseWat(path, readFileSync(path, "utf8"), { simd: true })
  try {
    mod.validate()
    return mod.toBinary({ log: false, write_debug_names: false }).buffer
  } finally {
    mod.destroy()
  }
}
