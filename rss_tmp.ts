const r = (l: string) => console.log(l.padEnd(20), (process.resourceUsage().maxRSS/1024).toFixed(0), "heap", (process.memoryUsage().heapUsed/2**20).toFixed(0))
r("start")
for (const m of ["Effect","Schema","Option","Layer","Context","Deferred","Exit","Duration","Clock","Scope","Schedule","Cause","Semaphore","SchemaIssue","Result","Redacted","Queue","Fiber"]) { await import("effect/" + m) }
r("deep")
await import("effect/unstable/cli"); r("cli")
await import("effect"); r("effect barrel")
