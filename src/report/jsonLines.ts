/**
 * The JSON lines of an append-only file (metrics.jsonl, lineage.jsonl), in order, blank lines skipped. A last
 * line that is not JSON was cut off mid-append (a crash: it has no newline at its end): a resuming run
 * drops it (`dropTruncatedLastLine`), a reader of results fails on it. Any other bad line fails too.
 * `fail(lineNo, problem)` builds the caller's typed error.
 */
export const jsonLines = (
  text: string,
  options: { readonly dropTruncatedLastLine?: boolean | undefined },
  fail: (lineNo: number, problem: string) => Error
): Array<{ readonly lineNo: number; readonly value: unknown }> => {
  const out: Array<{ lineNo: number; value: unknown }> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "")
    if (line.trim() === "") continue
    try {
      out.push({ lineNo: i + 1, value: JSON.parse(line) })
    } catch (e) {
      // split leaves the text after the final newline last: non-blank there means the line was never ended
      if (i === lines.length - 1) {
        if (options.dropTruncatedLastLine === true) break
        throw fail(i + 1, "truncated or damaged: the last line is not JSON and has no newline at its end (was the run stopped while writing it?)")
      }
      throw fail(i + 1, `not JSON: ${(e as Error).message}`)
    }
  }
  return out
}
