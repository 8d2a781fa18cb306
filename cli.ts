/**
 * The `upflow` command: `deno install -g -A -n upflow jsr:@upflow/upflow/cli` (or
 * `deno install -g -A -n upflow ./cli.ts` from a clone) installs it; `upflow --help` lists the
 * commands. {@linkcode main} runs it in-process and returns the exit code.
 *
 * @example Ask the version in-process
 * ```ts
 * import { main } from "@upflow/upflow/cli";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(await main(["--version"]), 0);
 * ```
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

export { main };

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
