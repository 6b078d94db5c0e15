// Runs before every npm script: pmdsim needs Node >= 22.19 (type stripping; @effect/platform-node 4.1).
// `npm ci` provisions it from the npm registry (optionalDependencies node-<os>-<cpu>), and npm puts
// node_modules/.bin first on PATH, so this only fails where no such package exists for the platform.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `pmdsim needs Node >= 22.19, but npm ran ${process.execPath} (v${process.versions.node}).\n` +
      `On linux-x64, linux-arm64, darwin-x64 and win-x64, 'npm ci' installs Node 22 into node_modules/.bin;\n` +
      `on other platforms install Node 22 yourself and re-run.`
  )
  process.exit(1)
}
