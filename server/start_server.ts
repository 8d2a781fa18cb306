/**
 * {@linkcode startServer}: the upload service on `Deno.serve`, with the loopback rule for
 * tokens and a clean shutdown.
 *
 * @module
 */
import { createApp } from "./app.ts";
import { UploadService, type UploadServiceOptions } from "./upload_service.ts";

/** Options of {@linkcode startServer}. */
export interface StartServerOptions extends UploadServiceOptions {
  /** Port (default 8720; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default `127.0.0.1`). Anything but loopback needs a token. */
  hostname?: string;
}

/** A running service. */
export interface RunningServer {
  /** `http://127.0.0.1:8720`. */
  url: string;
  /** The port listened on. */
  port: number;
  /** The service behind the app. */
  service: UploadService;
  /** Stops listening, cancels running jobs (journals closed cleanly), closes the target. */
  shutdown(): Promise<void>;
}

/**
 * Whether a hostname is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
 *
 * @param hostname The hostname.
 * @returns `true` for loopback.
 *
 * @example Usage
 * ```ts
 * import { isLoopback } from "./start_server.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isLoopback("127.0.0.1"), true);
 * assertEquals(isLoopback("0.0.0.0"), false);
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Opens the service and serves it. Refuses a non-loopback hostname without a token.
 *
 * @param options Where to listen, the root, data folder, token, limits and target.
 * @returns The running server.
 * @throws {TypeError} On a non-loopback hostname without a token, or a bad root.
 *
 * @example Serve on a free port and ask for health
 * ```ts
 * import { startServer } from "@upflow/upflow/server";
 * import { assertEquals } from "@std/assert";
 *
 * const server = await startServer({ port: 0, root: ".", dataDir: await Deno.makeTempDir(), log: () => {} });
 * const res = await fetch(`${server.url}/healthz`);
 * assertEquals((await res.json()).status, "ok");
 * await server.shutdown();
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  if (!options.token && !isLoopback(hostname)) {
    throw new TypeError(
      `Refusing to listen on ${hostname} without a token: set UPFLOW_TOKEN or pass --token`,
    );
  }
  const service = await UploadService.open(options);
  const app = createApp(service);
  const server = Deno.serve(
    { port: options.port ?? 8720, hostname, onListen: () => {} },
    (request, info) => app.fetch(request, { info }),
  );
  const port = server.addr.port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    service,
    shutdown() {
      stopping ??= (async () => {
        // Jobs end first, so the open event streams reach their `done` line and close.
        await service.close();
        await server.shutdown();
      })();
      return stopping;
    },
  };
}
