/**
 * Waiting for processing: after the uploads end, polls each batch's inputs-add job until every
 * input is processed, reports processing progress, and reports (and journals) the inputs that
 * failed processing with the server's reason.
 *
 * @module
 */
import type { V2Client } from "../clarifai/api_types.ts";
import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
import type { Journal, JournalEntry } from "../journal/journal.ts";
import type { ProgressEvent } from "./progress_event.ts";
import { RetryPolicy, withRetry } from "../clarifai/retry_policy.ts";
import { callerRetries } from "../clarifai/retry_interceptor.ts";
import { abortableSleep, type RateLimiter } from "../clarifai/rate_limiter.ts";
import { classifyStatus } from "../clarifai/status_codes.ts";
import { FatalUploadError } from "../clarifai/errors.ts";

/** Options of {@linkcode ProcessingWaitStream}. */
export interface ProcessingWaitOptions {
  /** A Connect client of `clarifai.api.V2`. */
  client: V2Client;
  /** The user and app the inputs went to. */
  userAppId?: { userId: string; appId: string };
  /** The journal to record processing failures in. */
  journal?: Journal;
  /** Stops waiting. */
  signal?: AbortSignal;
  /** First delay between polls in ms (default 200); doubles up to `maxPollMs`. */
  pollMs?: number;
  /** Longest delay between polls in ms (default 5000). */
  maxPollMs?: number;
  /** Retries of each poll on retryable outcomes (default: 10 attempts, backoff up to 20 s). */
  retry?: RetryPolicy;
  /** Paces the polls with the uploads' requests. */
  rateLimiter?: RateLimiter;
}

interface Job {
  pending: number;
  succeeded: number;
  failed: number;
  done: boolean;
}

/**
 * A pass-through `TransformStream` of progress events that, when its input ends, waits for the
 * server to process every input of the batches it saw (`GetInputsAddJob`), emitting
 * `processing` events, then a `failed` event (stage `processing`) for each input that failed.
 *
 * @example Wait for a job that is already finished
 * ```ts
 * import { ProcessingWaitStream } from "@upflow/upflow";
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { V2 } from "../gen/clarifai/api/service_pb.ts";
 * import { type ProgressEvent, StatusCode } from "@upflow/upflow";
import { RetryPolicy, withRetry } from "../clarifai/retry_policy.ts";
import { abortableSleep, type RateLimiter } from "../clarifai/rate_limiter.ts";
import { classifyStatus } from "../clarifai/status_codes.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const client = createClient(V2, createRouterTransport(({ service }) => {
 *   service(V2, {
 *     getInputsAddJob: (req) => ({
 *       status: { code: StatusCode.SUCCESS },
 *       inputsAddJob: { id: req.id, progress: { successCount: 2n } },
 *     }),
 *   });
 * }));
 * const batch: ProgressEvent = {
 *   type: "batch", batch: 1, ids: ["a", "b"], bytes: 2, attempts: 1, jobIds: ["j1"],
 * };
 * const events = await Array.fromAsync(
 *   ReadableStream.from([batch]).pipeThrough(new ProcessingWaitStream({ client })),
 * );
 * assertEquals(events.at(-1), { type: "processing", pending: 0, succeeded: 2, failed: 0 });
 * ```
 */
export class ProcessingWaitStream extends TransformStream<ProgressEvent, ProgressEvent> {
  /**
   * Creates the stage.
   *
   * @param options The client and polling options.
   */
  constructor(options: ProcessingWaitOptions) {
    const jobs = new Map<string, Job>();
    // The inputs of each batch and the jobs (one per request) that may hold them.
    const batches: { ids: string[]; jobIds: string[] }[] = [];
    const pollMs = options.pollMs ?? 200;
    const maxPollMs = options.maxPollMs ?? 5000;
    const userAppId = options.userAppId;
    super({
      transform(event, controller) {
        if (event.type === "batch" && event.jobIds?.length) {
          batches.push({ ids: event.ids, jobIds: event.jobIds });
          for (const id of event.jobIds) {
            jobs.set(id, { pending: 0, succeeded: 0, failed: 0, done: false });
          }
        }
        controller.enqueue(event);
      },
      async flush(controller) {
        let delay = pollMs;
        const totals = () => {
          let pending = 0, succeeded = 0, failed = 0;
          for (const job of jobs.values()) {
            pending += job.pending;
            succeeded += job.succeeded;
            failed += job.failed;
          }
          return { pending, succeeded, failed };
        };
        // Each poll is retried like an upload request. A poll that still fails ends the wait:
        // what is not known to be processed stays counted as pending in the summary.
        const retry = options.retry ?? new RetryPolicy({ maxAttempts: 10 });
        const call = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
          try {
            return await withRetry(fn, retry, {
              signal: options.signal,
              rateLimiter: options.rateLimiter,
            });
          } catch (err) {
            if (err instanceof FatalUploadError || options.signal?.aborted) throw err;
            return undefined;
          }
        };
        let gaveUp = false;
        while (!gaveUp && [...jobs.values()].some((j) => !j.done)) {
          for (const [id, job] of jobs) {
            if (job.done) continue;
            const response = await call(() =>
              options.client.getInputsAddJob({ userAppId, id }, callerRetries(options.signal))
            );
            if (!response || classifyStatus(response.status) === "retryable") {
              gaveUp = true;
              break;
            }
            const progress = response.inputsAddJob?.progress;
            if (!progress) {
              job.done = true; // an unknown job: its inputs stay pending in the counts
              continue;
            }
            job.pending = Number(progress.pendingCount + progress.inProgressCount);
            job.succeeded = Number(progress.successCount);
            job.failed = Number(progress.failedCount);
            job.done = job.pending === 0;
          }
          controller.enqueue({ type: "processing", ...totals() });
          if (!gaveUp && [...jobs.values()].some((j) => !j.done)) {
            await abortableSleep(delay, options.signal);
            delay = Math.min(maxPollMs, delay * 2);
          }
        }
        if (jobs.size === 0) return;
        // The final account is read input by input (ListInputs by ID) for every batch whose
        // jobs do not vouch for all of its inputs: jobs that saw failures, jobs never polled
        // (the wait gave up), inputs stored by an earlier run's request. An input whose state
        // cannot be read stays pending.
        let succeeded = 0, failed = 0, pending = 0;
        const lines: JournalEntry[] = [];
        for (const batch of batches) {
          const batchJobs = batch.jobIds.map((id) => jobs.get(id)!);
          const clean = batchJobs.every((j) => j.done && j.failed === 0) &&
            batchJobs.reduce((n, j) => n + j.succeeded, 0) === batch.ids.length;
          if (clean) {
            succeeded += batch.ids.length;
            continue;
          }
          for (let i = 0; i < batch.ids.length; i += 128) {
            const ids = batch.ids.slice(i, i + 128);
            const response = await call(() =>
              options.client.listInputs({
                userAppId,
                ids,
                perPage: ids.length,
                page: 1,
              }, callerRetries(options.signal))
            );
            const byId = new Map((response?.inputs ?? []).map((input) => [input.id, input]));
            for (const id of ids) {
              const status = byId.get(id)?.status;
              if (status?.code === StatusCode.INPUT_SUCCESS) {
                succeeded++;
                continue;
              }
              if (status?.code !== StatusCode.INPUT_FAILED) {
                pending++;
                continue;
              }
              failed++;
              const reason = [status.description, status.details]
                .filter((s) => s).join(": ") || "processing failed";
              controller.enqueue({
                type: "failed",
                id,
                location: id,
                stage: "processing",
                code: "INPUT_FAILED",
                reason,
                attempts: 1,
              });
              lines.push({
                t: "input",
                id,
                location: id,
                outcome: "processing-failed",
                stage: "processing",
                code: "INPUT_FAILED",
                reason,
              });
            }
          }
        }
        controller.enqueue({ type: "processing", pending, succeeded, failed });
        await options.journal?.append(lines);
      },
    });
  }
}
