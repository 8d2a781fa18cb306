/**
 * Where an upload goes: Clarifai when a PAT is given, otherwise the local Clarifai-compatible
 * API, started in-process on a free loopback port with its data in `.upflow/local`.
 *
 * @module
 */
import {
  type ClarifaiClient,
  type ClarifaiClientOptions,
  clarifaiOptionsFromEnv,
  createClarifaiClient,
  type EnvReader,
} from "../clarifai/client.ts";
import { startLocalApi } from "../../server/local/local_api.ts";

/** The user and app IDs uploads use on the local API when none are given. */
export const LOCAL_USER_APP = { userId: "local", appId: "local" } as const;

/** The local API's default data folder. */
export const DEFAULT_LOCAL_DATA_DIR = ".upflow/local";

/** Options of {@linkcode openTarget}: client options, which override the environment's. */
export interface TargetOptions extends ClarifaiClientOptions {
  /** Where to read `CLARIFAI_*` variables (default `Deno.env`; `null` to read none). */
  env?: EnvReader | null;
  /** The embedded local API's data folder (default `.upflow/local`). */
  localDataDir?: string;
}

/** An open target: a client, what to tell people about it, and how to let go of it. */
export interface Target {
  /** The client. */
  client: ClarifaiClient;
  /** The user and app the inputs go to. */
  userAppId?: { userId: string; appId: string };
  /** For people: `local API at http://127.0.0.1:41234 (data in .upflow/local)`. */
  description: string;
  /** Whether this is the embedded local API. */
  local: boolean;
  /** Closes the client and, for the embedded local API, the server. */
  close(): Promise<void>;
}

/**
 * Opens the target an upload goes to. With a PAT (option or `CLARIFAI_PAT`), a client for
 * Clarifai (or `base`); with a `base` and no PAT, a client for that server without credentials;
 * with neither, the embedded local API, started in-process.
 *
 * @param options Client options and where to read the environment.
 * @returns The open target; close it when done.
 *
 * @example The embedded local API
 * ```ts
 * import { openTarget } from "./target.ts";
 * import { assert } from "@std/assert";
 *
 * const target = await openTarget({ env: null, localDataDir: await Deno.makeTempDir() });
 * assert(target.local);
 * const { counts } = await target.client.getInputCount({ userAppId: target.client.userAppId });
 * assert(counts !== undefined);
 * await target.close();
 * ```
 */
export async function openTarget(options: TargetOptions = {}): Promise<Target> {
  const fromEnv = options.env === null ? {} : clarifaiOptionsFromEnv(options.env ?? Deno.env);
  const merged: ClarifaiClientOptions = { ...fromEnv };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && key !== "env" && key !== "localDataDir") {
      (merged as Record<string, unknown>)[key] = value;
    }
  }
  if (merged.pat !== undefined || merged.base !== undefined) {
    const client = createClarifaiClient(merged);
    return {
      client,
      userAppId: client.userAppId
        ? { userId: client.userAppId.userId, appId: client.userAppId.appId }
        : undefined,
      description: `${client.base}${client.userAppId ? ` (app ${client.userAppId.appId})` : ""}`,
      local: false,
      close: () => Promise.resolve(client.close()),
    };
  }
  const dataDir = options.localDataDir ?? DEFAULT_LOCAL_DATA_DIR;
  const key = crypto.randomUUID();
  const api = await startLocalApi({ port: 0, dataDir, key });
  const userAppId = {
    userId: merged.userId ?? LOCAL_USER_APP.userId,
    appId: merged.appId ?? LOCAL_USER_APP.appId,
  };
  const client = createClarifaiClient({ ...merged, base: api.baseUrl, pat: key, ...userAppId });
  return {
    client,
    userAppId,
    description:
      `the embedded local API at ${api.baseUrl} (no CLARIFAI_PAT set; data in ${dataDir})`,
    local: true,
    async close() {
      client.close();
      await api.close();
    },
  };
}
