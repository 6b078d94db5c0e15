/**
 * A throwaway PostgreSQL for the cluster tests: initdb into a fresh temp dir, a free loopback port, the
 * unix socket in that dir, run as the `postgres` user (initdb refuses root, and CI runs as root), stopped
 * and removed by `stop`. Missing binaries fail loudly: CI installs Debian's `postgresql` package.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string
  readonly port: number
  /** runs SQL through psql (superuser), for setting up refusal cases */
  readonly psql: (sql: string, db?: string) => string
  /** stops the server (fast shutdown: clients are disconnected), keeping its data, for a restart test */
  readonly pause: () => void
  /** starts it again on the same port and data */
  readonly resume: () => void
  readonly stop: () => void
}

const BIN_DIRS = ["/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin", "/usr/bin"]
const findBin = (name: string): string => {
  const dir = BIN_DIRS.find((d) => existsSync(join(d, name)))
  if (dir === undefined) {
    throw new Error(`cluster tests need PostgreSQL: no ${name} in ${BIN_DIRS.join(", ")} (install Debian's postgresql package; .ci/run does)`)
  }
  return join(dir, name)
}

/** A port the OS just handed out on loopback (closed again, so the next listener can take it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address()
      srv.close(() => (typeof addr === "object" && addr !== null ? resolve(addr.port) : reject(new Error("no port"))))
    })
  })

/** Runs a command as the `postgres` user when we are root (initdb and postgres refuse to run as root). */
const asPostgres = (bin: string, args: ReadonlyArray<string>): string => {
  const asRoot = process.getuid?.() === 0
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, [...args]]
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
}

export const startPostgres = async (): Promise<TestPostgres> => {
  const [initdb, pgCtl, psqlBin] = [findBin("initdb"), findBin("pg_ctl"), findBin("psql")]
  const dir = mkdtempSync(join(tmpdir(), "pmdsim-pg-"))
  chmodSync(dir, 0o777) // the postgres user writes here
  if (process.getuid?.() === 0) execFileSync("chown", ["postgres", dir])
  const data = join(dir, "data")
  const port = await freePort()
  asPostgres(initdb, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
  const start = () => asPostgres(pgCtl, ["-D", data, "-l", join(dir, "log"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"])
  start()
  let stopped = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    psql: (sql, db = "postgres") => asPostgres(psqlBin, ["-h", dir, "-p", String(port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]),
    pause: () => void asPostgres(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"]),
    resume: () => void start(),
    stop: () => {
      if (stopped) return
      stopped = true
      try {
        asPostgres(pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"])
      } catch {
        // already paused
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
