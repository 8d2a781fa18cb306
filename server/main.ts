/**
 * `upflow serve`: runs the upload service until SIGINT or SIGTERM.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startServer } from "./start_server.ts";

/** Help of `upflow serve`. */
export const SERVE_HELP = `upflow serve [options]

Runs the upload HTTP service: POST a CSV, files or a path under --root to /v1/uploads and read
the progress as NDJSON. See server/README.md.

  --port N             port (default 8720; 0 picks a free one)
  --hostname HOST      address (default 127.0.0.1); anything else needs a token
  --root DIR           folder JSON requests may name paths under (default .)
  --token TOKEN        bearer token for /v1 (default UPFLOW_TOKEN)
  --data DIR           where jobs, journals and event logs live (default .upflow/service)
  --max-body-mb N      request body limit in MiB (default 10240)
  --max-files N        files per multipart upload (default 10000)
  --base URL, --user ID, --app ID, --transport grpc|grpc-web, --local-data DIR
                       the target, as for the upload commands (the PAT comes from
                       CLARIFAI_PAT or a request's x-clarifai-pat header, never a flag)
  -h, --help           this help`;

function integer(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TypeError(`--${name} must be an integer from ${min} to ${max}: got "${value}"`);
  }
  return n;
}

/**
 * Runs `upflow serve` with `args`: starts the service, prints its URL, and serves until SIGINT
 * or SIGTERM, then cancels running jobs cleanly. Returns the exit code (0, or 2 for bad usage).
 *
 * @param args The arguments after `serve`.
 * @returns The exit code.
 *
 * @example Help
 * ```ts
 * import { runServeCommand } from "./main.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(await runServeCommand(["--no-such-flag"]), 2);
 * ```
 */
export async function runServeCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        root: { type: "string" },
        token: { type: "string" },
        data: { type: "string" },
        "max-body-mb": { type: "string" },
        "max-files": { type: "string" },
        base: { type: "string" },
        user: { type: "string" },
        app: { type: "string" },
        transport: { type: "string" },
        "local-data": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`upflow serve: ${(err as Error).message}\n(see: deno task upflow serve --help)`);
    return 2;
  }
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const transport = values.transport;
  let server;
  try {
    if (transport !== undefined && transport !== "grpc" && transport !== "grpc-web") {
      throw new TypeError(`--transport must be grpc or grpc-web: got "${transport}"`);
    }
    const maxBodyMb = integer("max-body-mb", values["max-body-mb"], 1, 1024 * 1024);
    server = await startServer({
      port: integer("port", values.port, 0, 65535) ?? 8720,
      hostname: values.hostname ?? "127.0.0.1",
      root: values.root ?? ".",
      token: values.token ?? Deno.env.get("UPFLOW_TOKEN") ?? undefined,
      dataDir: values.data ?? ".upflow/service",
      maxBodyBytes: maxBodyMb === undefined ? undefined : maxBodyMb * 1024 * 1024,
      maxFiles: integer("max-files", values["max-files"], 1, 10_000_000),
      target: {
        base: values.base,
        userId: values.user,
        appId: values.app,
        transport,
        localDataDir: values["local-data"],
      },
    });
  } catch (err) {
    console.error(`upflow serve: ${(err as Error).message}`);
    return 2;
  }
  const { service } = server;
  console.log(`upflow service listening on ${server.url}`);
  const target = values.base
    ? values.base
    : Deno.env.get("CLARIFAI_PAT")
    ? "Clarifai (CLARIFAI_PAT)"
    : "the embedded local API";
  console.log(
    `  root ${service.root}; jobs in ${service.dataDir}; ${
      service.token ? "bearer token required on /v1" : "no token (loopback only)"
    }; target: ${target} (a request's x-clarifai-pat header overrides the PAT)`,
  );
  const stopped = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stopped.resolve();
  for (const signal of signals) {
    try {
      Deno.addSignalListener(signal, onSignal);
    } catch { /* no such signal on this platform */ }
  }
  await stopped.promise;
  console.error("stopping: cancelling running jobs and closing their journals…");
  await server.shutdown();
  for (const signal of signals) {
    try {
      Deno.removeSignalListener(signal, onSignal);
    } catch { /* ignore */ }
  }
  return 0;
}
