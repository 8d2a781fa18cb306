/**
 * upflow's version, read from the package's `deno.json`, so there is one place to change it.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/**
 * The version of upflow (from `deno.json`): printed by `upflow --version`, carried by the
 * `start` event of `--json` output and by the service's `/healthz`.
 *
 * @example Usage
 * ```ts
 * import { VERSION } from "./version.ts";
 * import { assertMatch } from "@std/assert";
 *
 * assertMatch(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = (config as { version?: string }).version ?? "0.0.0";
