/**
 * The embedded local API as an upload target: the faces (CLI, upload service, a script) pass
 * {@linkcode localTarget} to `openTarget` or the upload helpers, and uploads with no PAT go to a
 * local API started in-process on a free loopback port.
 *
 * @module
 */
import { type ClarifaiClientOptions, createClarifaiClient } from "../src/clarifai/client.ts";
import type { Target, TargetFactory } from "../src/upload/target.ts";
import { startLocalApi } from "./local/local_api.ts";

/** The user and app IDs uploads use on the local API when none are given. */
export const LOCAL_USER_APP: { readonly userId: "local"; readonly appId: "local" } = {
  userId: "local",
  appId: "local",
};

/** The local API's default data folder. */
export const DEFAULT_LOCAL_DATA_DIR = ".upflow/local";

/** Options of {@linkcode localTarget}. */
export interface LocalTargetOptions {
  /** The local API's data folder (default `.upflow/local`). */
  dataDir?: string;
}

/**
 * A target factory that starts the embedded local API (in-process, loopback, a free port, a
 * random key) and opens a client for it; closing the target stops the API.
 *
 * @param options The data folder.
 * @returns The factory, for `openTarget({ local })` or the upload helpers' `local` option.
 *
 * @example Upload two texts to the embedded local API
 * ```ts
 * import { summaryOf, uploadInputs } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(uploadInputs([
 *   { id: "t1", kind: "text", content: { type: "raw", text: "hello" }, location: "t1", concepts: [] },
 *   { id: "t2", kind: "text", content: { type: "raw", text: "bye" }, location: "t2", concepts: [] },
 * ], { env: null, local: localTarget({ dataDir: await Deno.makeTempDir() }) }));
 * assertEquals(summary.uploaded, 2);
 * ```
 */
export function localTarget(options: LocalTargetOptions = {}): TargetFactory {
  const dataDir = options.dataDir ?? DEFAULT_LOCAL_DATA_DIR;
  return async (client: ClarifaiClientOptions): Promise<Target> => {
    const key = crypto.randomUUID();
    const api = await startLocalApi({ port: 0, dataDir, key });
    const userAppId = {
      userId: client.userId ?? LOCAL_USER_APP.userId,
      appId: client.appId ?? LOCAL_USER_APP.appId,
    };
    let opened;
    try {
      opened = createClarifaiClient({ ...client, base: api.baseUrl, pat: key, ...userAppId });
    } catch (err) {
      await api.close();
      throw err;
    }
    const c = opened;
    return {
      client: c,
      userAppId,
      description:
        `the embedded local API at ${api.baseUrl} (no CLARIFAI_PAT set; data in ${dataDir})`,
      local: true,
      async close() {
        c.close();
        await api.close();
      },
    };
  };
}
