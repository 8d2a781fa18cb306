/**
 * The embedded Clarifai-compatible local API: {@linkcode localTarget} makes it the target of
 * uploads that have no PAT; {@linkcode startLocalApi} runs it on a port of its own (gRPC,
 * gRPC-web, Connect and REST on one port, data in SQLite).
 *
 * @example Upload to the local API when no PAT is set
 * ```ts
 * import { summaryOf, uploadFolder } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(uploadFolder("samples/images", {
 *   recursive: true,
 *   labels: true,
 *   env: null,
 *   local: localTarget({ dataDir: await Deno.makeTempDir() }),
 * }));
 * assertEquals(summary.uploaded, 12);
 * ```
 *
 * @module
 */
export {
  DEFAULT_LOCAL_DATA_DIR,
  LOCAL_USER_APP,
  localTarget,
  type LocalTargetOptions,
} from "./server/local_target.ts";
export { type LocalApi, type LocalApiOptions, startLocalApi } from "./server/local/local_api.ts";
export { type FaultCounts, type FaultOptions, parseFaults } from "./server/local/faults.ts";
