/**
 * What every upload command does around its run: the output and credential flags (`-q`, `-v`,
 * `--progress-interval`, `--context`), the credentials in use (flags, environment, Clarifai CLI
 * context), the journal's lock, the reporter, and the command that resumes the run.
 *
 * @module
 */
import type { EnvReader } from "../clarifai/client.ts";
import { lockJournal } from "../journal/journal_lock.ts";
import { loadCredentials, type ResolvedCredentials } from "./clarifai_config.ts";
import { RunReporter } from "./report_run.ts";
import { UsageError } from "./usage_error.ts";
import type { UploadOptions } from "../upload/upload.ts";
import type { ProgressEvent } from "../pipeline/progress_event.ts";

/** The output and credential flags of every upload command, for `parseArgs`. */
export const RUN_OPTIONS = {
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  "progress-interval": { type: "string" },
  context: { type: "string" },
} as const;

/** Help text for {@linkcode RUN_OPTIONS}. */
export const RUN_OPTIONS_HELP = `Output:
  -q, --quiet            only the summary and errors
  -v, --verbose          also each batch, each skipped file and each retry with its wait
  --progress-interval S  off a terminal, one progress line every S seconds (default 10; 0: none)
  --context NAME         use this context of Clarifai's CLI config instead of its active one`;

/** The values of {@linkcode RUN_OPTIONS} and the target flags, as parsed. */
export interface RunValues {
  /** `-q`. */
  quiet?: boolean;
  /** `-v`. */
  verbose?: boolean;
  /** `--progress-interval`. */
  "progress-interval"?: string;
  /** `--context`. */
  context?: string;
  /** `--json`. */
  json?: boolean;
  /** `--base`. */
  base?: string;
  /** `--user`. */
  user?: string;
  /** `--app`. */
  app?: string;
}

/** A run set up: its reporter, the credentials to open the target with, its journal lock. */
export interface PreparedRun {
  /** Reports the run; give its `signal` and `onRetry` to the upload. */
  reporter: RunReporter;
  /** The credentials in use: pass `credentials.env` to the upload as its `env`. */
  credentials: ResolvedCredentials;
  /** The journal, when the run has one. */
  journal?: string;
  /** Lets go of the journal's lock. */
  release(): Promise<void>;
}

/**
 * Quotes an argument for a POSIX shell, only when it needs it.
 *
 * @param arg The argument.
 * @returns The argument as typed in a shell.
 *
 * @example Usage
 * ```ts
 * import { shellQuote } from "./run_setup.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(shellQuote("samples/images"), "samples/images");
 * assertEquals(shellQuote("my photos"), "'my photos'");
 * assertEquals(shellQuote("it's"), "'it'\\''s'");
 * ```
 */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * How the user started upflow, for commands we print: `deno task upflow` under `deno task`,
 * else `upflow`.
 *
 * @returns The program's words.
 */
export function programName(): string {
  try {
    if (Deno.env.get("INIT_CWD") !== undefined) return "deno task upflow";
  } catch {
    // No --allow-env: the installed name is the best guess.
  }
  return "upflow";
}

/**
 * Checks the output flags, finds the credentials, takes the journal's lock and makes the
 * reporter.
 *
 * @param command The command (`folder`, `csv`, …).
 * @param args The arguments after the command, as typed (for the resume command).
 * @param values The parsed flags.
 * @param journalFor The journal's path given the credentials in use (`undefined`: none).
 * @returns The prepared run; call `release` when it ends.
 * @throws {UsageError} On flags that contradict each other, or an unusable `--context`.
 * @throws {JournalInUseError} When another run holds the journal.
 */
export async function prepareRun(
  command: string,
  args: readonly string[],
  values: RunValues,
  journalFor: (env: EnvReader) => string | undefined,
): Promise<PreparedRun> {
  if (values.quiet && values.verbose) {
    throw new UsageError("--quiet and --verbose contradict each other: choose one");
  }
  const interval = values["progress-interval"];
  let progressIntervalMs: number | undefined;
  if (interval !== undefined) {
    const seconds = Number(interval);
    if (interval.trim() === "" || !Number.isFinite(seconds) || seconds < 0) {
      throw new UsageError(
        `--progress-interval must be a number of seconds, 0 or more: got "${interval}"`,
      );
    }
    progressIntervalMs = Math.round(seconds * 1000);
  }
  const credentials = await loadCredentials(
    { base: values.base, userId: values.user, appId: values.app },
    values.context,
  );
  const journal = journalFor(credentials.env);
  const lock = journal === undefined
    ? undefined
    : await lockJournal(journal, `${programName()} ${command} ${args.map(shellQuote).join(" ")}`);
  const reporter = new RunReporter({
    json: values.json,
    quiet: values.quiet,
    verbose: values.verbose,
    progressIntervalMs,
    credentials: credentials.source.kind === "none" ? undefined : credentials.description,
    resumeCommand: `${programName()} ${command} ${args.map(shellQuote).join(" ")}`,
  });
  return {
    reporter,
    credentials,
    journal,
    release: async () => await lock?.release(),
  };
}

/**
 * Runs an upload command's upload with everything {@linkcode prepareRun} sets up: the
 * credentials in use, the journal (default or given) held for the run, Ctrl-C, the retries of
 * `--verbose`, and the report. Returns the exit code.
 *
 * @param command The command.
 * @param args The arguments after the command, as typed.
 * @param values The parsed flags.
 * @param options The upload options (`journal` when given with `--journal`).
 * @param journalFor The default journal's path given the credentials in use.
 * @param start Starts the upload with the final options.
 * @param notes Lines to print after the first line (records a retry cannot re-send).
 * @returns The exit code.
 */
export async function runWithReport(
  command: string,
  args: readonly string[],
  values: RunValues,
  options: UploadOptions,
  journalFor: (env: EnvReader) => string | undefined,
  start: (
    options: UploadOptions,
  ) => ReadableStream<ProgressEvent> | Promise<ReadableStream<ProgressEvent>>,
  notes?: () => string[],
): Promise<number> {
  const run = await prepareRun(command, args, values, (env) => options.journal ?? journalFor(env));
  try {
    const events = await start({
      ...options,
      journal: run.journal,
      env: run.credentials.env,
      signal: run.reporter.signal,
      onRetry: run.reporter.onRetry,
    });
    return await run.reporter.run(events, notes?.());
  } finally {
    await run.release();
  }
}
