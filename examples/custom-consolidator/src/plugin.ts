/**
 * The `--plugin` file of this package: `npx pmdsim run --plugin ./src/plugin.ts --set memory.consolidator=top-usage ...`
 * loads it, and its default export registers the consolidator under the name a config uses.
 */
import type { PluginRegistry } from "pmdsim/plugins"
import { topUsage } from "./topUsage.ts"

export default (registry: PluginRegistry): void => {
  registry.register(topUsage)
}
