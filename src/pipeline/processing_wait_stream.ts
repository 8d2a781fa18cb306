/**
 * Waiting for processing, in the background, by the inputs' own state: the IDs not yet settled
 * are kept (oldest first), and each round reads the state of up to 1,000 of them with one
 * `ListInputs` call while later batches go out. Inputs processed successfully are dropped;
 * inputs that failed are reported (and journaled) with the server's reason; the rest are read
 * again on a later round. Memory holds only the inputs not yet settled.
 *
 * The inputs followed are those of the batches the upload reports and those the presence check
 * found on the server and hands over ({@linkcode ProcessingWaitStream.follow}): whichever run
 * stored an input, one rule ({@linkcode processingState}) decides where its processing stands.
 * The batches' inputs-add jobs are not polled: one `ListInputs` answers for up to 1,000 inputs
 * where a job answers for one request's (and not for inputs stored by a request whose answer was
 * lost, nor for inputs an earlier run stored), so a second mechanism would only add requests.
 *
 * @module
 */
import type { V2Client } from "../clarifai/api_types.ts";
import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
import type { Journal, JournalEntry } from "../journal/journal.ts";
import type { ProgressEvent } from "./progress_event.ts";
import { RetryPolicy, withRetry } from "../clarifai/retry_policy.ts";
import { callerRetries } from "../clarifai/retry_interceptor.ts";
import type { RateLimiter } from "../clarifai/rate_limiter.ts";
import { classifyStatus, statusCodeName } from "../clarifai/status_codes.ts";
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
   * Delay between rounds in ms once the upload has ended (the first round after the end comes
   * at once), and after a round that settled something (default 200); it doubles, up to
   * `maxPollMs`, while rounds settle nothing.
   */
  pollMs?: number;
  /** Longest delay between rounds in ms (default 5000). */
  maxPollMs?: number;
  /**
   * Shortest delay between rounds in ms while batches still come in (default 5000): those
   * rounds take requests from the rate limit the uploads share (one every 5 s is 1.3 % of
   * Clarifai's default 15 requests/s). A round that settled a full page of 1,000 is followed at
   * once all the same, so the inputs kept stay about a page behind the server.
   */
  uploadPollMs?: number;
  /** Retries of each read on retryable outcomes (default: 10 attempts, backoff up to 20 s). */
  retry?: RetryPolicy;
  /** Paces the reads with the uploads' requests. */
  rateLimiter?: RateLimiter;
}

/**
 * An input the server held already (the presence check found it and did not send it), handed to
 * the wait so that its processing is judged like that of a sent input.
 */
export interface HeldInput {
  /** The input ID. */
  id: string;
  /** Where its record came from (reported with a failure). */
  location: string;
  /** How the presence check counted it: same content digest (`verified`) or none. */
  present: "verified" | "unverified";
}

/** Where an input's processing stands, by the status the server gives it. */
export type ProcessingState = "succeeded" | "failed" | "processing";

/** IDs per `ListInputs` call: the most a page holds. */
const PAGE = 1000;
/**
 * Successful rounds in a row that may answer without an input before the wait stops looking for
 * it (counted pending: deleted meanwhile, or never stored). A server may list an input a moment
 * after it accepted it, so one absence is not enough.
 */
const MAX_ABSENT_ROUNDS = 5;

/**
 * The one rule for where an input's processing stands, by the status the server lists it with:
 * `INPUT_SUCCESS` (or `INPUT_MODIFY_SUCCESS`) has succeeded; pending, in progress or no status
 * yet is still processing; any other code (`INPUT_FAILED`, …) has failed. The presence check and
 * the processing wait both judge by it.
 *
 * @param status The input's status, as `ListInputs` returns it.
 * @returns Where its processing stands.
 *
 * @example Usage
 * ```ts
 * import { processingState, StatusCode } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(processingState({ code: StatusCode.INPUT_SUCCESS }), "succeeded");
 * assertEquals(processingState({ code: StatusCode.INPUT_PENDING }), "processing");
 * assertEquals(processingState({ code: StatusCode.INPUT_FAILED }), "failed");
 * ```
 */
export function processingState(status: { code: number } | undefined): ProcessingState {
  switch (status?.code ?? StatusCode.ZERO) {
    case StatusCode.INPUT_SUCCESS:
    case StatusCode.INPUT_MODIFY_SUCCESS:
      return "succeeded";
    case StatusCode.ZERO:
    case StatusCode.INPUT_PENDING:
    case StatusCode.INPUT_IN_PROGRESS:
    case StatusCode.INPUT_MODIFY_PENDING:
      return "processing";
    default:
      return "failed";
  }
}

/**
 * A pass-through `TransformStream` of progress events that waits, in the background while the
 * upload goes on, for the server to process every input of the batches it sees (and every input
 * handed to {@linkcode ProcessingWaitStream.follow}). Each round reads the state of the oldest
 * inputs not yet settled, up to 1,000, with one `ListInputs` call paced by the shared rate
 * limiter, and emits a `processing` event with the totals so far; an input that failed is
 * reported as a `failed` event (stage `processing`, with the server's reason) and journaled
 * `processing-failed`. Rounds come at least `uploadPollMs` apart while batches come in; when its
 * input ends, a round comes at once (cutting short the pause it was in), then every `pollMs`
 * (doubling while rounds settle nothing), and it ends once every input is settled: at most one
 * poll interval after the server has processed the last one. A round that cannot be read after
 * its retries is tried again `maxPollMs` later while batches come in; once the input has ended,
 * what is not settled is then counted pending.
 *
 * @example Wait for inputs that are already processed
 * ```ts
 * import { ProcessingWaitStream } from "@upflow/upflow";
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { V2 } from "../gen/clarifai/api/service_pb.ts";
 * import { type ProgressEvent, StatusCode } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const client = createClient(V2, createRouterTransport(({ service }) => {
 *   service(V2, {
 *     listInputs: (req) => ({
 *       status: { code: StatusCode.SUCCESS },
 *       inputs: req.ids.map((id) => ({ id, status: { code: StatusCode.INPUT_SUCCESS } })),
 *     }),
 *   });
 * }));
 * const batch: ProgressEvent = { type: "batch", batch: 1, ids: ["a", "b"], bytes: 2, attempts: 1 };
 * const events = await Array.fromAsync(
 *   ReadableStream.from([batch]).pipeThrough(new ProcessingWaitStream({ client, pollMs: 1 })),
 * );
 * assertEquals(events.at(-1), { type: "processing", pending: 0, succeeded: 2, failed: 0 });
 * ```
 */
export class ProcessingWaitStream extends TransformStream<ProgressEvent, ProgressEvent> {
  #tracker: ProcessingTracker;

  /**
   * Creates the stage.
   *
   * @param options The client and polling options.
   */
  constructor(options: ProcessingWaitOptions) {
    let enqueue = (_event: ProgressEvent) => {};
    const tracker = new ProcessingTracker(options, (event) => enqueue(event));
    super({
      start(controller) {
        enqueue = (event) => {
          try {
            controller.enqueue(event);
          } catch {
            tracker.stop(); // the stream was cancelled: nobody is left to tell
          }
        };
      },
      transform(event, controller) {
        tracker.check();
        if (event.type === "batch") tracker.add(event.ids);
        controller.enqueue(event);
      },
      async flush() {
        await tracker.finish();
        tracker.check();
      },
      cancel() {
        tracker.stop();
      },
    });
    this.#tracker = tracker;
  }

  /**
   * Follows inputs this stream's batches do not carry: inputs the server held already, found by
   * the presence check and not sent. Their processing is judged like that of the inputs sent:
   * a failure is reported (with the input's location and `present`) and journaled. Call it
   * before the stream's input ends.
   *
   * @param inputs The inputs held by the server, not yet processed successfully.
   *
   * @example Follow an input the server held already
   * ```ts
   * import { ProcessingWaitStream, type ProgressEvent, StatusCode } from "@upflow/upflow";
   * import { createClient, createRouterTransport } from "@connectrpc/connect";
   * import { V2 } from "../gen/clarifai/api/service_pb.ts";
   * import { assertEquals } from "@std/assert";
   *
   * const client = createClient(V2, createRouterTransport(({ service }) => {
   *   service(V2, {
   *     listInputs: (req) => ({
   *       status: { code: StatusCode.SUCCESS },
   *       inputs: req.ids.map((id) => ({
   *         id, status: { code: StatusCode.INPUT_FAILED, description: "bad image" },
   *       })),
   *     }),
   *   });
   * }));
   * const wait = new ProcessingWaitStream({ client, pollMs: 1 });
   * wait.follow([{ id: "a", location: "cats/a.jpg", present: "verified" }]);
   * const events: ProgressEvent[] = await Array.fromAsync(
   *   ReadableStream.from<ProgressEvent>([]).pipeThrough(wait),
   * );
   * const failed = events.find((e) => e.type === "failed");
   * assertEquals(failed?.type === "failed" && [failed.location, failed.reason], ["cats/a.jpg", "bad image"]);
   * ```
   */
  follow(inputs: HeldInput[]): void {
    this.#tracker.add(inputs);
  }
}

/** An input not yet settled: a sent input's ID, or an input the server held already. */
type Outstanding = string | HeldInput;

const idOf = (item: Outstanding): string => typeof item === "string" ? item : item.id;

/**
 * The rounds behind {@linkcode ProcessingWaitStream}: inputs come in with
 * {@linkcode ProcessingTracker.add}; the loop reads their state until
 * {@linkcode ProcessingTracker.finish} has been called and every input is settled.
 */
class ProcessingTracker {
  #options: ProcessingWaitOptions;
  #emit: (event: ProgressEvent) => void;
  #retry: RetryPolicy;
  /** Inputs not yet settled, oldest first. */
  #outstanding: Outstanding[] = [];
  #succeeded = 0;
  #failed = 0;
  /** Inputs whose state could not be read when the wait ended. */
  #pending = 0;
  /** Consecutive successful rounds that answered without an outstanding input, by ID. */
  #absent = new Map<string, number>();
  #ended = false;
  #stopped = false;
  #running: Promise<void> | undefined;
  #failure: unknown;
  /** Wakes the loop when it waits for inputs (on an input, the end or a stop). */
  #onWork = () => {};
  /** Cuts a pause short (on the end or a stop). */
  #onEnd = () => {};

  constructor(options: ProcessingWaitOptions, emit: (event: ProgressEvent) => void) {
    this.#options = options;
    this.#emit = emit;
    // Each read is retried like an upload request (the wait keeps its own, patient policy).
    this.#retry = options.retry ?? new RetryPolicy({ maxAttempts: 10 });
  }

  /** Throws what stopped the loop (a fatal outcome, an abort), if anything did. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Follows more inputs; starts the loop on the first. */
  add(items: Outstanding[]): void {
    if (items.length === 0 || this.#stopped) return;
    for (const item of items) this.#outstanding.push(item);
    this.#running ??= this.#run();
    this.#onWork();
  }

  /** The input has ended: resolves once every input is settled (or the wait gave up). */
  async finish(): Promise<void> {
    this.#ended = true;
    this.#onWork();
    this.#onEnd();
    await this.#running;
  }

  /** Stops the rounds: what is not settled is left as it is. */
  stop(): void {
    this.#stopped = true;
    this.#outstanding = [];
    this.#ended = true;
    this.#onWork();
    this.#onEnd();
  }

  /** Runs the rounds; never rejects (what stopped it is kept for {@linkcode check}). */
  async #run(): Promise<void> {
    try {
      await this.#loop();
    } catch (err) {
      this.#failure ??= err;
    }
  }

  async #loop(): Promise<void> {
    const pollMs = this.#options.pollMs ?? 200;
    const maxPollMs = this.#options.maxPollMs ?? 5000;
    const uploadPollMs = this.#options.uploadPollMs ?? 5000;
    let delay = pollMs;
    let endSeen = false;
    while (!this.#stopped) {
      if (this.#outstanding.length === 0) {
        if (this.#ended) break;
        await new Promise<void>((resolve) => this.#onWork = resolve);
        continue;
      }
      if (!this.#ended) {
        await this.#pause(delay === 0 ? 0 : Math.max(delay, uploadPollMs));
      }
      if (this.#ended) {
        // The first round after the end (perhaps cutting that pause short) comes at once: it
        // settles what the server processed during the upload, and the end is prompt.
        if (!endSeen) delay = 0;
        endSeen = true;
        await this.#pause(delay);
      }
      if (this.#stopped || this.#outstanding.length === 0) continue;
      const round = await this.#round();
      if (this.#stopped) break;
      if (round === undefined && this.#ended) {
        // Unreadable after its retries, with the upload over: what is left stays pending.
        this.#pending += this.#outstanding.length;
        this.#outstanding = [];
      }
      this.#emitTotals();
      if (round === undefined) {
        delay = maxPollMs;
        continue;
      }
      // A full page settled: the next ones are likely processed too. Otherwise `pollMs`, doubled
      // while rounds settle nothing.
      delay = round.settled === PAGE && this.#outstanding.length > 0
        ? 0
        : round.settled > 0 || delay === 0
        ? pollMs
        : Math.min(maxPollMs, delay * 2);
    }
  }

  /**
   * Waits `ms`, or less when the input ends (only a pause begun before the end is cut short by
   * it: the end comes once) or the rounds stop; rejects when the signal aborts.
   */
  #pause(ms: number): Promise<void> {
    const signal = this.#options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#onEnd = () => {};
        resolve();
      };
      const onAbort = () => {
        clearTimeout(timer);
        this.#onEnd = () => {};
        reject(signal!.reason);
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#onEnd = done;
    });
  }

  /**
   * One round: reads the state of the oldest inputs (up to a page) with one `ListInputs` call,
   * settles those processed (succeeded or failed, reported and journaled) and keeps the others,
   * in order, for a later round. Returns how many it settled, or `undefined` when the call
   * still failed after its retries.
   */
  async #round(): Promise<{ settled: number } | undefined> {
    const { client, userAppId, signal } = this.#options;
    const items = this.#outstanding.slice(0, PAGE);
    const ids = items.map(idOf);
    const response = await this.#call(() =>
      client.listInputs({ userAppId, ids, perPage: ids.length, page: 1 }, callerRetries(signal))
    );
    if (this.#stopped) return { settled: 0 };
    if (!response || classifyStatus(response.status) !== "success") return undefined;
    const statusById = new Map(response.inputs.map((input) => [input.id, input.status]));
    const left: Outstanding[] = [];
    const lines: JournalEntry[] = [];
    const failures: ProgressEvent[] = [];
    let gone = 0;
    for (const item of items) {
      const id = idOf(item);
      const status = statusById.get(id);
      if (status === undefined && !statusById.has(id)) {
        // Not listed: looked for again, up to a point (then it counts as pending).
        const absent = (this.#absent.get(id) ?? 0) + 1;
        if (absent < MAX_ABSENT_ROUNDS) {
          this.#absent.set(id, absent);
          left.push(item);
        } else {
          this.#absent.delete(id);
          this.#pending++;
          gone++;
        }
        continue;
      }
      this.#absent.delete(id);
      const state = processingState(status);
      if (state === "succeeded") this.#succeeded++;
      else if (state === "processing") left.push(item);
      else {
        this.#failed++;
        const { event, line } = failureOf(item, status!);
        failures.push(event);
        lines.push(line);
      }
    }
    this.#outstanding.splice(0, items.length, ...left);
    // Journaled before it is told: a failure shown is a failure recorded.
    await this.#options.journal?.append(lines);
    for (const event of failures) this.#emit(event);
    return { settled: items.length - left.length - gone };
  }

  /** The totals so far: inputs not settled count as pending. */
  #emitTotals(): void {
    this.#emit({
      type: "processing",
      pending: this.#pending + this.#outstanding.length,
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

/** The `failed` event and the journal line of an input whose processing failed. */
function failureOf(
  item: Outstanding,
  status: { code: number; description?: string; details?: string },
): { event: ProgressEvent; line: JournalEntry } {
  const id = idOf(item);
  const location = typeof item === "string" ? id : item.location;
  const present = typeof item === "string" ? {} : { present: item.present };
  const reason = [status.description, status.details].filter((s) => s).join(": ") ||
    "processing failed";
  const code = statusCodeName(status.code);
  return {
    event: {
      type: "failed",
      id,
      location,
      stage: "processing",
      code,
      reason,
      attempts: 1,
      ...present,
    },
    line: {
      t: "input",
      id,
      location,
      outcome: "processing-failed",
      stage: "processing",
      code,
      reason,
    },
  };
}
