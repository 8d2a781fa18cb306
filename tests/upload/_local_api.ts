/**
 * The setup the upload tests share: a local API in memory, a client of it (user `u`, app `a`),
 * and a temporary folder, all closed and removed when the test body ends.
 *
 * @module
 */
import {
  type LocalApi,
  type LocalApiOptions,
  startLocalApi,
} from "../../server/local/local_api.ts";
import {
  type ClarifaiClient,
  type ClarifaiClientOptions,
  createClarifaiClient,
} from "../../src/clarifai/client.ts";

/** What a test body gets. */
export interface LocalApiContext {
  /** The local API (its faults can be changed while the test runs). */
  api: LocalApi;
  /** A client of it. */
  client: ClarifaiClient;
  /** A temporary folder (journals, files), made on first use. */
  dir: string;
}

/** How to start the API and make the client. */
export interface LocalApiSetup {
  /** Options of the local API (its key is `k` unless given here). */
  api?: LocalApiOptions;
  /** Options of the client over its defaults (the API's base, PAT `k`, a 10 s deadline). */
  client?: Partial<ClarifaiClientOptions>;
}

/**
 * Runs `fn` with a fresh local API, a client of it and a temporary folder.
 *
 * @param fn The test body.
 * @param setup The API's and the client's options.
 */
export async function withLocalApi(
  fn: (context: LocalApiContext) => Promise<void>,
  setup: LocalApiSetup = {},
): Promise<void> {
  const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "k", ...setup.api });
  const client = createClarifaiClient({
    base: api.baseUrl,
    pat: "k",
    userId: "u",
    appId: "a",
    timeoutMs: 10_000,
    ...setup.client,
  });
  // Made when first asked for: tests without write permission never ask.
  let dir: string | undefined;
  try {
    await fn({
      api,
      client,
      get dir() {
        return dir ??= Deno.makeTempDirSync();
      },
    });
  } finally {
    client.close();
    await api.close();
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  }
}
