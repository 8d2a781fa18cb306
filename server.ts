/**
 * The upload service: an HTTP app (Hono) that takes CSV bodies, multipart uploads of files, or
 * JSON naming a folder or CSV under its root, runs each as a job, and streams the job's
 * progress events as NDJSON. {@linkcode startServer} runs it on `Deno.serve`;
 * {@linkcode createApp} gives the app alone, over an {@linkcode UploadService}, to serve or to
 * mount in an app of your own. `upflow serve` is the same service on the command line.
 *
 * @example A dry run of a CSV body
 * ```ts
 * import { startServer } from "@upflow/upflow/server";
 * import { assertEquals } from "@std/assert";
 *
 * const server = await startServer({
 *   port: 0,
 *   root: await Deno.makeTempDir(),
 *   dataDir: await Deno.makeTempDir(),
 *   token: "secret",
 *   log: () => {},
 * });
 * const response = await fetch(`${server.url}/v1/uploads?dry_run=true`, {
 *   method: "POST",
 *   headers: { authorization: "Bearer secret", "content-type": "text/csv" },
 *   body: "inputid,input,concepts\nr1,hello,greeting\n",
 * });
 * const events = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
 * assertEquals(events.at(-1).summary.uploaded, 1);
 * await server.shutdown();
 * ```
 *
 * @module
 */
export { createApp, type UploadApp } from "./server/app.ts";
export {
  type ServiceTargetOptions,
  UploadService,
  type UploadServiceOptions,
} from "./server/upload_service.ts";
export { type RunningServer, startServer, type StartServerOptions } from "./server/start_server.ts";
export {
  JOB_STATES,
  type JobKind,
  type JobRecord,
  type JobSettings,
  type JobState,
} from "./server/jobs.ts";
