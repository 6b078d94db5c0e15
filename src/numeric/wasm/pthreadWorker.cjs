// A pthread worker for tfjs-backend-wasm's threaded SIMD build under Node (see threads.ts).
//
// tfjs hands Emscripten a blob: URL for this script, which Node's Worker refuses, so threads.ts
// starts this file instead. It runs Emscripten's own worker source (shipped by tfjs as a string)
// as a CommonJS body, exactly as the blob would have run it.
"use strict"
const { wasmWorkerContents } = require("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js")
// tfjs escapes newlines the same way before making its blob: the source has "\n" inside strings.
new Function("require", "__filename", wasmWorkerContents.replace(/\n/g, "\\n"))(require, __filename)
