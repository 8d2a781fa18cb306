/**
 * The `upflow local` command: starts the local Clarifai-compatible API, prints its base URL and
 * the environment variables to export, and runs until SIGINT/SIGTERM.
 *
 * ```sh
 * deno run -A server/local/main.ts --port 8710 --data .upflow/local --key dev-key \
 *   --faults throttle=0.1,seed=7
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_DATA_DIR, DEFAULT_KEY, type LocalApi, startLocalApi } from "./local_api.ts";
import { parseFaults } from "./faults.ts";

/** The usage text of `upflow local`. */
export const LOCAL_USAGE = `Usage: upflow local [options]

Starts a local Clarifai-compatible API (gRPC over h2c, gRPC-web, Connect and REST on one port).

Options:
  --port <n>                 port to listen on (default 8710; 0 picks a free port)
  --hostname <host>          address to listen on (default 127.0.0.1)
  --data <dir>               data folder (default ${DEFAULT_DATA_DIR}; ":memory:" keeps nothing)
  --key <key>                the accepted API key / PAT (default ${DEFAULT_KEY})
  --faults <spec>            inject faults, e.g. throttle=0.1,unavailable=0.05,
                             drop-after-commit=0.05,latency-ms=20,fail-input=0.01,rps=15,
                             retry-after=1,seed=7
  --processing-delay-ms <n>  delay before stored inputs are processed (default 0)
  --fetch-urls               fetch URL inputs as Clarifai does: one that cannot be fetched, or
                             is not the kind it claims, ends INPUT_FAILED (default off: URL
                             inputs succeed unfetched)
  --user <id> --app <id>     the user and app IDs to suggest in the printed variables (local)
  -h, --help                 show this help
`;

/** The parsed options of `upflow local`. */
export interface LocalCommandOptions {
  /** The port. */
  port: number;
  /** The address. */
  hostname: string;
  /** The data folder. */
  dataDir: string;
  /** The key. */
  key: string;
  /** The fault specification. */
  faults: string;
  /** Processing delay in milliseconds. */
  processingDelayMs: number;
  /** Whether URL inputs are fetched. */
  fetchUrls: boolean;
  /** User ID to suggest. */
  userId: string;
  /** App ID to suggest. */
  appId: string;
  /** Whether `--help` was given. */
  help: boolean;
}

/**
 * Parses the arguments of `upflow local`.
 *
 * @param args The arguments after `local`.
 * @returns The options.
 * @throws {TypeError} On unknown options or bad values (the message says which).
 *
 * @example Usage
 * ```ts
 * import { parseLocalArgs } from "./main.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const options = parseLocalArgs(["--port", "9000", "--faults", "throttle=0.1"]);
 * assertEquals(options.port, 9000);
 * assertEquals(options.faults, "throttle=0.1");
 * ```
 */
export function parseLocalArgs(args: string[]): LocalCommandOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string", default: "8710" },
      hostname: { type: "string", default: "127.0.0.1" },
      data: { type: "string", default: DEFAULT_DATA_DIR },
      key: { type: "string", default: DEFAULT_KEY },
      faults: { type: "string", default: "" },
      "processing-delay-ms": { type: "string", default: "0" },
      "fetch-urls": { type: "boolean", default: false },
      user: { type: "string", default: "local" },
      app: { type: "string", default: "local" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    throw new TypeError(`--port must be an integer from 0 to 65535: got ${values.port}`);
  }
  const delay = Number(values["processing-delay-ms"]);
  if (!/^\d+$/.test(values["processing-delay-ms"])) {
    throw new TypeError(
      `--processing-delay-ms must be a whole number: got ${values["processing-delay-ms"]}`,
    );
  }
  if (values.faults) parseFaults(values.faults); // fail early on a bad specification
  return {
    port,
    hostname: values.hostname,
    dataDir: values.data,
    key: values.key,
    faults: values.faults,
    processingDelayMs: delay,
    fetchUrls: values["fetch-urls"],
    userId: values.user,
    appId: values.app,
    help: values.help,
  };
}

/**
 * Describes a running API for a person: the base URL and the variables to export.
 *
 * @param api The running API.
 * @param userId The user ID to suggest.
 * @param appId The app ID to suggest.
 * @returns Lines of text.
 *
 * @example Usage
 * ```ts
 * import { describeLocalApi } from "./main.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const text = describeLocalApi({ baseUrl: "http://127.0.0.1:8710", key: "dev-key" }, "local", "local");
 * assertStringIncludes(text, "export CLARIFAI_GRPC_BASE=http://127.0.0.1:8710");
 * ```
 */
export function describeLocalApi(
  api: Pick<LocalApi, "baseUrl" | "key">,
  userId: string,
  appId: string,
): string {
  return [
    `upflow local API listening on ${api.baseUrl} (gRPC h2c, gRPC-web, Connect and REST)`,
    "Export these to point upflow and the official clients at it:",
    `  export CLARIFAI_GRPC_BASE=${api.baseUrl}`,
    `  export CLARIFAI_API_BASE=${api.baseUrl}`,
    `  export CLARIFAI_PAT=${api.key}`,
    `  export CLARIFAI_USER_ID=${userId}`,
    `  export CLARIFAI_APP_ID=${appId}`,
    "Press Ctrl+C to stop.",
  ].join("\n");
}

/** Where {@linkcode runLocalCommand} writes, and what stops it (for tests and embedding). */
export interface RunLocalOptions {
  /** Writes a line of output (default `console.log`). */
  print?: (line: string) => void;
  /** Writes a line of error output (default `console.error`). */
  printError?: (line: string) => void;
  /** Stops the API when aborted (in addition to SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Called once the API listens. */
  onListening?: (api: LocalApi) => void;
}

/**
 * Runs `upflow local`: starts the API, prints how to use it, waits for SIGINT/SIGTERM (or
 * `options.signal`), then closes it.
 *
 * @param args The arguments after `local`.
 * @param options Output and stop signal.
 * @returns The exit code: 0 after a clean stop or `--help`, 2 on bad usage, 1 when it could not
 * start.
 *
 * @example Start and stop
 * ```ts
 * import { runLocalCommand } from "./main.ts";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const lines: string[] = [];
 * const stop = new AbortController();
 * const code = await runLocalCommand(["--port", "0", "--data", ":memory:"], {
 *   print: (line) => lines.push(line),
 *   signal: stop.signal,
 *   onListening: () => stop.abort(),
 * });
 * assertEquals(code, 0);
 * assertStringIncludes(lines.join("\n"), "export CLARIFAI_PAT=dev-key");
 * ```
 */
export async function runLocalCommand(
  args: string[],
  options: RunLocalOptions = {},
): Promise<number> {
  const print = options.print ?? console.log;
  const printError = options.printError ?? console.error;
  let parsed: LocalCommandOptions;
  try {
    parsed = parseLocalArgs(args);
  } catch (error) {
    printError(`upflow local: ${(error as Error).message}`);
    printError(LOCAL_USAGE);
    return 2;
  }
  if (parsed.help) {
    print(LOCAL_USAGE);
    return 0;
  }
  let api: LocalApi;
  try {
    api = await startLocalApi({
      port: parsed.port,
      hostname: parsed.hostname,
      dataDir: parsed.dataDir,
      key: parsed.key,
      faults: parsed.faults,
      processingDelayMs: parsed.processingDelayMs,
      fetchUrls: parsed.fetchUrls,
    });
  } catch (error) {
    printError(`upflow local: cannot start: ${(error as Error).message}`);
    return 1;
  }
  print(describeLocalApi(api, parsed.userId, parsed.appId));
  if (parsed.faults) print(`Injecting faults: ${parsed.faults}`);
  if (parsed.fetchUrls) print("Fetching URL inputs (--fetch-urls)");
  if (parsed.dataDir !== ":memory:") print(`Data folder: ${parsed.dataDir}`);

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const sig of signals) Deno.addSignalListener(sig, stop);
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  options.onListening?.(api);
  try {
    await stopped.promise;
  } finally {
    for (const sig of signals) Deno.removeSignalListener(sig, stop);
    options.signal?.removeEventListener("abort", stop);
    await api.close();
  }
  print("upflow local API stopped.");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runLocalCommand(Deno.args));
}
