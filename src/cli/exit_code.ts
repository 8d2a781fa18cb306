/**
 * The CLI's exit codes, and the code for an upload's summary.
 *
 * @module
 */
import type { UploadSummary } from "../pipeline/progress_event.ts";

/** Exit codes of the CLI, by outcome class. */
export const ExitCode = {
  /** Every input uploaded (or would be, in a dry run). */
  Ok: 0,
  /**
   * Some inputs were rejected or failed (the journal lists them), or the dataset version asked
   * for did not become ready.
   */
  SomeFailed: 1,
  /** Bad usage: unknown command or option, missing argument. */
  Usage: 2,
  /** A fatal outcome stopped the run (credentials, quota, missing dataset). */
  Fatal: 3,
  /** Interrupted (SIGINT). */
  Interrupted: 130,
} as const;

/**
 * The exit code for a summary: 3 fatal, 130 cancelled, 1 some rejected or failed (or the
 * dataset version asked for not ready), else 0.
 *
 * @param summary The run's summary.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts
 * import { exitCodeOf } from "./exit_code.ts";
 * import { zeroCounts } from "../pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const base = {
 *   ...zeroCounts(), runId: "r", dryRun: false, batches: 1, bytes: 1, durationMs: 1,
 *   inputsPerSecond: 1, megabytesPerSecond: 1,
 * };
 * assertEquals(exitCodeOf({ ...base, uploaded: 3 }), 0);
 * assertEquals(exitCodeOf({ ...base, uploaded: 3, rejected: 1 }), 1);
 * assertEquals(exitCodeOf({ ...base, fatal: { code: "CONN_KEY_INVALID", message: "bad key" } }), 3);
 * ```
 */
export function exitCodeOf(summary: UploadSummary): number {
  if (summary.fatal) return ExitCode.Fatal;
  if (summary.cancelled) return ExitCode.Interrupted;
  if (
    summary.failed > 0 || summary.rejected > 0 || (summary.processing?.failed ?? 0) > 0 ||
    (summary.version !== undefined && summary.version.status !== "ready")
  ) {
    return ExitCode.SomeFailed;
  }
  return ExitCode.Ok;
}
