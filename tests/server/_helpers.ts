// Shared helpers of the service tests: a live server on 127.0.0.1 with the embedded local API.
import { join } from "node:path";
import { startServer, type StartServerOptions } from "../../server/start_server.ts";
import type { RunningServer } from "../../server/start_server.ts";

export const TOKEN = "test-token-0123456789";
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export interface TestServer {
  server: RunningServer;
  url: string;
  root: string;
  data: string;
  logs: string[];
  close(): Promise<void>;
}

export async function testServer(extra: Partial<StartServerOptions> = {}): Promise<TestServer> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "upflow-root-" }));
  const data = await Deno.makeTempDir({ prefix: "upflow-data-" });
  const logs: string[] = [];
  const server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    root,
    dataDir: data,
    token: TOKEN,
    log: (line) => logs.push(line),
    target: { env: null, localDataDir: join(data, "local") },
    ...extra,
  });
  return {
    server,
    url: server.url,
    root,
    data,
    logs,
    async close() {
      await server.shutdown();
      await Deno.remove(root, { recursive: true }).catch(() => {});
      await Deno.remove(data, { recursive: true }).catch(() => {});
    },
  };
}

// deno-lint-ignore no-explicit-any
export type Line = any;

/** Reads an NDJSON response to its end. */
export async function ndjson(res: Response): Promise<Line[]> {
  const text = await res.text();
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Reads NDJSON lines as they come, yielding each parsed line. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<Line> {
  let pending = "";
  for await (const text of body.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line !== "") yield JSON.parse(line);
    }
  }
}

/** A CSV of `rows` raw-text rows, generated lazily, `pad` characters of text each. */
export function csvRows(
  rows: number,
  options: { prefix?: string; pad?: number; chunkRows?: number } = {},
): ReadableStream<Uint8Array> {
  const { prefix = "r", pad = 40 } = options;
  const chunkRows = options.chunkRows ?? Math.max(1, Math.floor(65536 / (pad + 30)));
  const encoder = new TextEncoder();
  const filler = "lorem ipsum dolor sit amet ".repeat(Math.ceil(pad / 27)).slice(0, pad);
  let i = 0;
  let header = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!header) {
        header = true;
        controller.enqueue(encoder.encode("inputid,input,concepts\n"));
        return;
      }
      if (i >= rows) {
        controller.close();
        return;
      }
      let text = "";
      for (let n = 0; n < chunkRows && i < rows; n++, i++) {
        text += `${prefix}${i},"row ${i}: ${filler}",${i % 2 ? "odd" : "even"}\n`;
      }
      controller.enqueue(encoder.encode(text));
    },
  }, { highWaterMark: 0 });
}

export function csvText(rows: number, prefix = "r"): string {
  let text = "inputid,input,concepts\n";
  for (let i = 0; i < rows; i++) text += `${prefix}${i},"text ${i}",${i % 2 ? "odd" : "even"}\n`;
  return text;
}

/**
 * Runs `fn` with a deadline of its own, for tests that hold a stream open: past `ms` the signal
 * given to `fn` aborts (so its fetches and bodies let go) and the test fails with `what`,
 * rather than hanging the run. The timer is cleared either way.
 */
export async function withDeadline<T>(
  ms: number,
  what: string,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`${what}: still running after ${ms} ms`);
      abort.abort(err);
      reject(err);
    }, ms);
  });
  const run = fn(abort.signal);
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
    // After a deadline, give `fn` a moment to wind down (its signal has aborted), but no more:
    // a step that ignores the signal must not turn a fast failure back into a hang.
    if (abort.signal.aborted) {
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        run.catch(() => {}),
        new Promise<void>((resolve) => grace = setTimeout(resolve, WIND_DOWN_MS)),
      ]);
      clearTimeout(grace);
    }
  }
}

/** How long {@linkcode withDeadline} waits for a test past its deadline to wind down. */
const WIND_DOWN_MS = 5_000;

/**
 * A service test with a deadline of its own ({@linkcode withDeadline}): for tests that hold a
 * stream open, so that a hang fails in `ms` naming the test, not when CI gives up. The test's
 * own `fn` does not see the deadline's signal; tests that can use it call `withDeadline`.
 */
export function deadlineTest(ms: number, test: Deno.TestDefinition): Deno.TestDefinition {
  const fn = test.fn;
  return { ...test, fn: (t) => withDeadline(ms, test.name, () => Promise.resolve(fn(t))) };
}
