/**
 * Waiting for processing, in the background: each batch's inputs-add jobs are polled while
 * later batches go out (one poll at a time, paced, oldest batch first), processing progress is
 * reported, and the inputs that failed processing are reported (and journaled) with the
 * server's reason. Only the batches not yet processed are kept in memory.
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
  /**
   * Delay between rounds of polls in ms (default 200) while rounds find batches processed; it
   * doubles, up to `maxPollMs`, while they find none.
   */
  pollMs?: number;
  /** Longest delay between rounds of polls in ms (default 5000). */
  maxPollMs?: number;
  /** Retries of each poll on retryable outcomes (default: 10 attempts, backoff up to 20 s). */
  retry?: RetryPolicy;
  /** Paces the polls with the uploads' requests. */
  rateLimiter?: RateLimiter;
}

interface Job {
  id: string;
  pending: number;
  succeeded: number;
  failed: number;
  done: boolean;
}

/** A batch not yet accounted for: its inputs and the jobs (one per request) that may hold them. */
interface Tracked {
  ids: string[];
  jobs: Job[];
}

/**
 * A pass-through `TransformStream` of progress events that waits, in the background while the
 * upload goes on, for the server to process every input of the batches it sees
 * (`GetInputsAddJob`, one call at a time, paced by the shared rate limiter), emitting
 * `processing` events with the totals so far and a `failed` event (stage `processing`) for each
 * input that failed. When its input ends it ends once the last batch is processed: at most one
 * poll interval later. The IDs of a batch are dropped once the batch is accounted for.
 *
 * @example Wait for a job that is already finished
 * ```ts
 * import { ProcessingWaitStream } from "@upflow/upflow";
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { V2 } from "../gen/clarifai/api/service_pb.ts";
 * import { type ProgressEvent, StatusCode } from "@upflow/upflow";
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
    let tracker: ProcessingTracker | undefined;
    let running: Promise<void> | undefined;
    super({
      start(controller) {
        tracker = new ProcessingTracker(options, (event) => {
          try {
            controller.enqueue(event);
          } catch {
            tracker!.stop(); // the stream was cancelled: nobody is left to tell
          }
        });
      },
      transform(event, controller) {
        tracker!.check();
        if (event.type === "batch" && event.ids.length > 0) {
          // A batch with no job ID (its inputs were found stored after a dropped answer) is
          // followed input by input.
          tracker!.add(event.ids, event.jobIds ?? []);
          running ??= tracker!.run();
        }
        controller.enqueue(event);
      },
      async flush() {
        tracker!.end();
        await (running ?? tracker!.run());
        tracker!.check();
      },
      cancel() {
        tracker!.stop();
      },
    });
  }
}

/**
 * The polling loop behind {@linkcode ProcessingWaitStream}: batches come in with
 * {@linkcode ProcessingTracker.add}; {@linkcode ProcessingTracker.run} polls until
 * {@linkcode ProcessingTracker.end} and every batch is accounted for.
 */
class ProcessingTracker {
  #options: ProcessingWaitOptions;
  #emit: (event: ProgressEvent) => void;
  #retry: RetryPolicy;
  /** Batches not yet accounted for, oldest first. */
  #batches: Tracked[] = [];
  #succeeded = 0;
  #failed = 0;
  /** Inputs read as still pending when their batch was accounted for. */
  #pending = 0;
  #ended = false;
  #gaveUp = false;
  #failure: unknown;
  #wake = () => {};

  constructor(options: ProcessingWaitOptions, emit: (event: ProgressEvent) => void) {
    this.#options = options;
    this.#emit = emit;
    // Each poll is retried like an upload request (the wait keeps its own, patient policy).
    this.#retry = options.retry ?? new RetryPolicy({ maxAttempts: 10 });
  }

  /** Throws what stopped the polling loop (a fatal outcome, an abort), if anything did. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  add(ids: string[], jobIds: string[]): void {
    const jobs = jobIds.map((id) => ({ id, pending: 0, succeeded: 0, failed: 0, done: false }));
    this.#batches.push({ ids, jobs });
    this.#wake();
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** Stops polling: what is not accounted for is left as it is. */
  stop(): void {
    this.#batches = [];
    this.end();
  }

  /** Polls until the input has ended and every batch is accounted for; never rejects. */
  async run(): Promise<void> {
    try {
      await this.#loop();
    } catch (err) {
      this.#failure ??= err;
    }
  }

  async #loop(): Promise<void> {
    const pollMs = this.#options.pollMs ?? 200;
    const maxPollMs = this.#options.maxPollMs ?? 5000;
    let delay = pollMs;
    let seen = false;
    while (!this.#ended || this.#batches.length > 0) {
      if (this.#batches.length === 0 || this.#gaveUp) {
        // Nothing to poll (or polls keep failing): wait for a batch or for the end.
        if (this.#ended) break;
        await new Promise<void>((resolve) => this.#wake = resolve);
        continue;
      }
      seen = true;
      const settled = await this.#pollRound();
      this.#emitTotals();
      if (this.#batches.length === 0 || this.#gaveUp) continue;
      await abortableSleep(delay, this.#options.signal);
      delay = settled > 0 ? pollMs : Math.min(maxPollMs, delay * 2);
    }
    // Whatever the polls could not vouch for is read input by input.
    while (this.#batches.length > 0) await this.#account(this.#batches.shift()!, true);
    if (seen) this.#emitTotals();
  }

  /**
   * Polls the jobs of the batches, oldest first, and accounts for each batch whose jobs are
   * done; stops at the first job still processing (later ones were sent after it). Returns
   * how many batches it accounted for.
   */
  async #pollRound(): Promise<number> {
    let settled = 0;
    while (this.#batches.length > 0) {
      const batch = this.#batches[0];
      for (const job of batch.jobs) {
        if (job.done) continue;
        if (!await this.#poll(job)) return settled;
        if (!job.done) return settled;
      }
      // Inputs the jobs do not vouch for are read by ID until none is still processing.
      if (!await this.#account(batch, false)) return settled;
      this.#batches.shift();
      settled++;
    }
    return settled;
  }

  /** Polls one job; returns `false` when the poll failed after its retries (the wait gives up). */
  async #poll(job: Job): Promise<boolean> {
    const { client, userAppId, signal } = this.#options;
    const response = await this.#call(() =>
      client.getInputsAddJob({ userAppId, id: job.id }, callerRetries(signal))
    );
    if (!response || classifyStatus(response.status) === "retryable") {
      this.#gaveUp = true;
      return false;
    }
    const progress = response.inputsAddJob?.progress;
    if (!progress) {
      job.done = true; // an unknown job: its inputs are read one by one
      return true;
    }
    job.pending = Number(progress.pendingCount + progress.inProgressCount);
    job.succeeded = Number(progress.successCount);
    job.failed = Number(progress.failedCount);
    job.done = job.pending === 0;
    return true;
  }

  /**
   * Accounts for a batch: from its jobs when they vouch for all of its inputs, otherwise input
   * by input (ListInputs by ID): jobs that saw failures, jobs never polled (the wait gave up),
   * inputs stored by an earlier run's request or by a request whose answer was lost (their job
   * is not known). Returns `false` when, short of `final`, some inputs are still processing:
   * the batch then keeps only those, to be read again on a later round. With `final`, an input
   * whose state cannot be read stays pending.
   */
  async #account(batch: Tracked, final: boolean): Promise<boolean> {
    const clean = batch.jobs.length > 0 && batch.jobs.every((j) => j.done && j.failed === 0) &&
      batch.jobs.reduce((n, j) => n + j.succeeded, 0) === batch.ids.length;
    if (clean) {
      this.#succeeded += batch.ids.length;
      return true;
    }
    const { client, userAppId, signal } = this.#options;
    const lines: JournalEntry[] = [];
    const processing: string[] = [];
    for (let i = 0; i < batch.ids.length; i += 128) {
      const ids = batch.ids.slice(i, i + 128);
      const response = await this.#call(() =>
        client.listInputs({ userAppId, ids, perPage: ids.length, page: 1 }, callerRetries(signal))
      );
      if (!response) this.#gaveUp = true; // unreadable after its retries: the final round says
      const byId = new Map((response?.inputs ?? []).map((input) => [input.id, input]));
      for (const id of ids) {
        const status = byId.get(id)?.status;
        if (status?.code === StatusCode.INPUT_SUCCESS) this.#succeeded++;
        else if (status?.code !== StatusCode.INPUT_FAILED) processing.push(id);
        else {
          this.#failed++;
          const reason = [status.description, status.details].filter((s) => s).join(": ") ||
            "processing failed";
          this.#emit({
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
    await this.#options.journal?.append(lines);
    if (final || processing.length === 0) {
      this.#pending += processing.length;
      return true;
    }
    batch.ids = processing;
    batch.jobs = [];
    return false;
  }

  /** The totals so far: batches not yet accounted for count as pending. */
  #emitTotals(): void {
    let pending = this.#pending;
    for (const batch of this.#batches) {
      const polled = batch.jobs.every((j) => j.done || j.pending > 0);
      pending += polled
        ? batch.ids.length - batch.jobs.reduce((n, j) => n + j.succeeded + j.failed, 0)
        : batch.ids.length;
    }
    this.#emit({
      type: "processing",
      pending: Math.max(0, pending),
      succeeded: this.#succeeded,
      failed: this.#failed,
    });
  }

  /** A call with rate limiting and retries; `undefined` when it still failed. */
  async #call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const { signal, rateLimiter } = this.#options;
    try {
      return await withRetry(fn, this.#retry, { signal, rateLimiter });
    } catch (err) {
      if (err instanceof FatalUploadError || signal?.aborted) throw err;
      return undefined;
    }
  }
}
