/**
 * Runs the CLI as a user does: a subprocess, with an environment of its own (no CLARIFAI_*
 * variables of the machine, HOME in a temp folder unless given, so no Clarifai CLI config of the
 * machine is read).
 */

import { startLocalApi } from "../../server/local/local_api.ts";

/** What a run printed and how it ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The variables a test run starts from: the machine's PATH and Deno's cache, nothing else. */
export function baseEnv(home: string): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", HOME: home };
  for (const name of ["PATH", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  if (env.DENO_DIR === undefined && Deno.env.get("HOME")) {
    // Deno's cache lives under the real HOME: keep using it, so nothing is downloaded again.
    env.DENO_DIR = `${Deno.env.get("HOME")}/.cache/deno`;
  }
  return env;
}

/** Starts the CLI with `args`; the caller reads its output and status. */
export function spawnUpflow(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: "null" | "piped" } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/main.ts", ...args],
    env,
    clearEnv: true,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs the CLI with `args` to its end. */
export async function upflow(args: string[], env: Record<string, string>): Promise<Run> {
  const output = await spawnUpflow(args, env).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The last non-empty line of a text. */
export function lastLineOf(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

/** Calls `fn` with a fresh temp folder, removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "upflow_cli_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `fn` against a slow local API (250 ms a request) with an environment pointing the CLI at
 * it, for tests that need a run to last a while (an interrupt, a second run on a busy journal).
 */
export async function withSlowApi(
  home: string,
  fn: (env: Record<string, string>) => Promise<void>,
): Promise<void> {
  const api = await startLocalApi({
    port: 0,
    dataDir: ":memory:",
    key: "k",
    faults: { latencyMs: 250 },
  });
  try {
    await fn({
      ...baseEnv(home),
      CLARIFAI_PAT: "k",
      CLARIFAI_GRPC_BASE: api.baseUrl,
      CLARIFAI_USER_ID: "u",
      CLARIFAI_APP_ID: "a",
    });
  } finally {
    await api.close();
  }
}

/** The sample folder, one input per request, one request at a time: 12 slow requests. */
export function slowFolderArgs(journal: string): string[] {
  return [
    "folder",
    "samples/images",
    "--recursive",
    "--batch-size",
    "1",
    "--concurrency",
    "1",
    "--rps",
    "0",
    "--journal",
    journal,
  ];
}
