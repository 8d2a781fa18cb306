/**
 * Where an upload goes. The core opens Clarifai (or a given base) itself; the embedded local API
 * is a face's choice, passed in as a {@linkcode TargetFactory} (`localTarget` from
 * `@upflow/upflow/local`), so the core never loads a server.
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

/** An open target: a client, what to tell people about it, and how to let go of it. */
export interface Target {
  /** The client. */
  client: ClarifaiClient;
  /** The user and app the inputs go to. */
  userAppId?: { userId: string; appId: string };
  /** For people: `https://api.clarifai.com (app my-app)`. */
  description: string;
  /** Whether this is an embedded local API (user and app IDs of a request do not apply). */
  local: boolean;
  /** Closes the client and whatever the target started. */
  close(): Promise<void>;
}

/**
 * Opens a target from client options (user, app, transport…, the environment's already merged
 * in). {@linkcode openTarget} calls it when neither a PAT nor a base is given.
 */
export type TargetFactory = (options: ClarifaiClientOptions) => Promise<Target>;

/** Options of {@linkcode openTarget}: client options, which override the environment's. */
export interface TargetOptions extends ClarifaiClientOptions {
  /** Where to read `CLARIFAI_*` variables (default `Deno.env`; `null` to read none). */
  env?: EnvReader | null;
  /**
   * The target to open when no PAT and no base are given: `localTarget()` from
   * `@upflow/upflow/local` starts the embedded local API. Without it, that case is an error.
   */
  local?: TargetFactory;
}

/** Client options from the environment, with the given options (when defined) over them. */
function clientOptions(options: TargetOptions): ClarifaiClientOptions {
  const fromEnv = options.env === null ? {} : clarifaiOptionsFromEnv(options.env ?? Deno.env);
  const merged: ClarifaiClientOptions = { ...fromEnv };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && key !== "env" && key !== "local") {
      (merged as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

/**
 * Wraps an open client as a target (closing the target closes the client).
 *
 * @param client The client.
 * @returns The target.
 *
 * @example A client for a server of your own
 * ```ts
 * import { createClarifaiClient, targetOf } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const target = targetOf(createClarifaiClient({ base: "http://127.0.0.1:8710" }));
 * assertEquals(target.description, "http://127.0.0.1:8710");
 * await target.close();
 * ```
 */
export function targetOf(client: ClarifaiClient): Target {
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

/**
 * Opens the target an upload goes to. With a PAT (option or `CLARIFAI_PAT`), a client for
 * Clarifai (or `base`); with a `base` and no PAT, a client for that server without credentials;
 * with neither, the `local` factory's target.
 *
 * @param options Client options, where to read the environment, the target without credentials.
 * @returns The open target; close it when done.
 * @throws {TypeError} When there is no PAT, no base and no `local` factory.
 *
 * @example The embedded local API when no PAT is set
 * ```ts
 * import { openTarget } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assert } from "@std/assert";
 *
 * const target = await openTarget({
 *   env: null,
 *   local: localTarget({ dataDir: await Deno.makeTempDir() }),
 * });
 * assert(target.local);
 * const { counts } = await target.client.getInputCount({ userAppId: target.client.userAppId });
 * assert(counts !== undefined);
 * await target.close();
 * ```
 */
export async function openTarget(options: TargetOptions = {}): Promise<Target> {
  const merged = clientOptions(options);
  if (merged.pat !== undefined || merged.base !== undefined) {
    return targetOf(createClarifaiClient(merged));
  }
  if (options.local) return await options.local(merged);
  throw new TypeError(
    "Cannot open a target: no PAT (CLARIFAI_PAT) and no base URL, and no local target to use instead",
  );
}
