/**
 * Process helpers of the end-to-end benchmark: run a command with a timeout and measure its wall
 * time and peak RSS, and start/stop the servers it measures against.
 *
 * @module
 */

/** What one measured process did. */
export interface ProcessResult {
  /** Wall time from spawn to exit, in milliseconds. */
  wallMs: number;
  /** Peak resident set size of the process, in MiB (GNU time's "Maximum resident set size"). */
  peakRssMiB: number;
  /** Exit code (124 or 137 after the timeout). */
  code: number;
  /** Whether the timeout stopped it. */
  timedOut: boolean;
  /** Standard output. */
  stdout: string;
  /** The last 2,000 characters of standard error. */
  stderrTail: string;
}

/**
 * Runs a command under `/usr/bin/time` (for the peak RSS, from `wait4`'s `ru_maxrss`, exact) and
 * `timeout` (SIGTERM at `timeoutS`, SIGKILL 5 s later).
 *
 * @param cmd The program.
 * @param args Its arguments.
 * @param options Environment, working folder and timeout.
 * @returns What it did.
 */
export async function runMeasured(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutS: number },
): Promise<ProcessResult> {
  const rssFile = await Deno.makeTempFile({ prefix: "upflow-rss-" });
  const started = performance.now();
  const child = new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "%M",
      "-o",
      rssFile,
      "timeout",
      "-k",
      "5",
      String(options.timeoutS),
      cmd,
      ...args,
    ],
    env: options.env,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [out, err, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.status,
  ]);
  const wallMs = performance.now() - started;
  const rssText = await Deno.readTextFile(rssFile);
  await Deno.remove(rssFile);
  const kb = Number(rssText.trim().split(/\s+/).pop());
  return {
    wallMs,
    peakRssMiB: Number.isFinite(kb) ? kb / 1024 : NaN,
    code: status.code,
    timedOut: status.code === 124 || status.code === 137,
    stdout: out,
    stderrTail: err.slice(-2000),
  };
}

/** A server process started for a run. */
export interface Server {
  /** `http://127.0.0.1:PORT`. */
  base: string;
  /** Stops it (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/**
 * Starts a Deno script that prints a line matching `ready` (with the port as group 1) once it
 * listens.
 *
 * @param script The script's path.
 * @param args Its arguments.
 * @param ready The line to wait for; group 1 is the port.
 * @returns The server.
 */
export async function startServer(script: string, args: string[], ready: RegExp): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port: string | undefined;
  const deadline = Date.now() + 30_000;
  while (port === undefined) {
    if (Date.now() > deadline) throw new Error(`${script} did not start: ${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited: ${text}`);
    text += value;
    port = ready.exec(text)?.[1];
  }
  // Keep draining its output so it never blocks on a full pipe.
  const drained = (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch { /* closed */ }
  })();
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await child.status;
      clearTimeout(timer);
      await drained;
    },
  };
}

/**
 * Counts the inputs the local API holds (every state), through its REST API.
 *
 * @param base The API's base URL.
 * @param key The API key.
 * @returns The number of inputs.
 */
export async function countInputs(base: string, key: string): Promise<number> {
  const res = await fetch(`${base}/v2/users/u/apps/a/inputs/status`, {
    headers: { authorization: `Key ${key}` },
  });
  const body = await res.json();
  const counts = (body.counts ?? {}) as Record<string, number>;
  return Object.values(counts).reduce((a, b) => a + (typeof b === "number" ? b : 0), 0);
}
