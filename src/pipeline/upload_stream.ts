/**
 * The upload stage: batches in, progress events out. Sends each batch with PostInputs (a bounded
 * number of requests in flight, a client-side rate limit, retries with backoff), reads the
 * per-input outcomes, confirms resends that come back as duplicates, posts the inputs'
 * annotations once the inputs are accepted, and journals every outcome.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallOptions, Client } from "@connectrpc/connect";
import type { MultiInputResponse, V2 } from "../gen/clarifai/api/service_pb.ts";
import type { V2Client } from "../clarifai/api_types.ts";
import type { Annotation, UserAppIDSet } from "../gen/clarifai/api/resources_pb.ts";
import { InputIDConflictResolution, UserAppIDSetSchema } from "../gen/clarifai/api/resources_pb.ts";
import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
import type { Status } from "../gen/clarifai/api/status/status_pb.ts";
import { toAnnotations } from "../inputs/to_annotations.ts";
import type { Journal, JournalEntry } from "../journal/journal.ts";
import type { BatchItem } from "./batch_stream.ts";
import type { LoadedInput } from "./loaded_input.ts";
import type { FailedEvent, ProgressEvent } from "./progress_event.ts";
import {
  classifyError,
  classifyStatus,
  isDuplicateStatus,
  statusCodeName,
} from "../clarifai/status_codes.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
import type { ChunkedPostInputs } from "../clarifai/chunked_post_inputs.ts";
import { RetryPolicy, withRetry } from "../clarifai/retry_policy.ts";
import { callerRetries } from "../clarifai/retry_interceptor.ts";
import type { RateLimiter } from "../clarifai/rate_limiter.ts";
import type { ByteBudget } from "./byte_budget.ts";

/** The most annotations one PostAnnotations request carries. */
export const MAX_ANNOTATIONS_PER_REQUEST = 128;

/** Options of {@linkcode UploadStream}. */
export interface UploadStreamOptions {
  /** A Connect client of `clarifai.api.V2`. */
  client: V2Client;
  /** The user and app the inputs go to (needed with a PAT). */
  userAppId?: { userId: string; appId: string };
  /** Requests in flight at once (1..64, default 4). */
  concurrency?: number;
  /** The client-side rate limiter shared by every request, if any. */
  rateLimiter?: RateLimiter;
  /** Retry policy for retryable outcomes (default: 6 attempts, exponential backoff with jitter). */
  retry?: RetryPolicy;
  /** The journal to record outcomes in, if any. */
  journal?: Journal;
  /** The run's ID: each batch's `inputs_add_job_id` is derived from it. */
  runId?: string;
  /** Called for every retry, before its wait: what is retried, the attempt that failed, the wait. */
  onRetry?: (info: UploadRetryInfo) => void;
  /** Aborts in-flight requests when signalled. */
  signal?: AbortSignal;
  /**
   * The load stage's byte budget: a batch's inputs give their
   * {@linkcode LoadedInput.heldBytes} back once the batch is done.
   */
  budget?: ByteBudget;
}

/** What {@linkcode UploadStreamOptions.onRetry} is told about a retry. */
export interface UploadRetryInfo {
  /** The call retried (`PostInputs`, `PostAnnotations`, …). */
  what: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Milliseconds it waits before the next attempt. */
  delayMs: number;
  /** Why, in words: the error or the status that asked for a retry. */
  reason: string;
}

function retryReason(info: { error?: unknown; status?: { code?: number; description?: string } }) {
  if (info.error !== undefined) {
    return info.error instanceof ConnectError
      ? `${Code[info.error.code]}: ${info.error.rawMessage}`
      : String((info.error as Error)?.message ?? info.error);
  }
  const code = info.status?.code;
  return `${code === undefined ? "status" : statusCodeName(code)}${
    info.status?.description ? ` ${info.status.description}` : ""
  }`;
}

/** What a batch's PostInputs rounds came to. */
interface Sent {
  accepted: LoadedInput[];
  failed: FailedEvent[];
  /** Every attempt's job ID. */
  jobIds: string[];
  /** IDs sent in an attempt whose answer was lost: the server may hold them. */
  maybeStored: Set<string>;
  /** The attempts made so far. */
  attempts: () => number;
  /** Records a failure. */
  fail: (l: LoadedInput, reason: string, code?: string, stage?: FailedEvent["stage"]) => void;
}

interface Outcome {
  accepted: LoadedInput[];
  annotations: number;
  failed: FailedEvent[];
  attempts: number;
  jobIds: string[];
}

function statusText(status: Status | undefined): string {
  if (!status) return "no status in the response";
  const name = statusCodeName(status.code);
  const words = [status.description, status.details].filter((s) => s && s.trim() !== "");
  return words.length ? `${name}: ${[...new Set(words)].join(" — ")}` : name;
}

function codeName(status: Status | undefined): string | undefined {
  return status ? statusCodeName(status.code) : undefined;
}

/**
 * A `TransformStream` from batches (and the rejections and skips that travel with them) to
 * progress events. At most `concurrency` requests are in flight; events of different batches
 * may interleave. A fatal outcome (bad credentials, monthly limit, missing dataset) errors the
 * stream with a {@linkcode FatalUploadError}.
 *
 * @example Upload two text inputs to an in-memory server
 * ```ts
 * import { UploadStream } from "@upflow/upflow";
 * import { toInput } from "../inputs/to_input.ts";
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { V2 } from "../gen/clarifai/api/service_pb.ts";
 * import { type InputDraft, StatusCode } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const transport = createRouterTransport(({ service }) => {
 *   service(V2, {
 *     postInputs: (req) => ({
 *       status: { code: StatusCode.SUCCESS },
 *       inputs: req.inputs.map((i) => ({ id: i.id, status: { code: StatusCode.INPUT_PENDING } })),
 *     }),
 *   });
 * });
 * const drafts: InputDraft[] = ["a", "b"].map((id) => ({
 *   id, kind: "text", content: { type: "raw", text: id }, location: `x.csv:${id}`, concepts: [],
 * }));
 * const inputs = drafts.map((draft) => ({
 *   draft, input: toInput(draft), encodedSize: 10, contentBytes: 1,
 * }));
 * const events = await Array.fromAsync(
 *   ReadableStream.from([{ type: "batch" as const, inputs, encodedBytes: 30 }])
 *     .pipeThrough(new UploadStream({ client: createClient(V2, transport) })),
 * );
 * assertEquals(events.map((e) => e.type), ["batch"]);
 * ```
 */
export class UploadStream extends TransformStream<BatchItem, ProgressEvent> {
  /**
   * Creates the upload stage.
   *
   * @param options The client, limits, policy and journal.
   */
  constructor(options: UploadStreamOptions) {
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new RangeError(
        `Cannot create UploadStream: concurrency must be an integer from 1 to 64: current value is ${concurrency}`,
      );
    }
    const uploader = new BatchUploader(options);
    const inFlight = new Set<Promise<void>>();
    let batchNo = 0;
    let failure: unknown;

    const run = (
      controller: TransformStreamDefaultController<ProgressEvent>,
      inputs: LoadedInput[],
    ) => {
      const n = ++batchNo;
      // The stream may be cancelled while a batch is in flight: its outcome is journaled by
      // then, and there is nobody left to tell, so enqueueing is skipped.
      const enqueue = (event: ProgressEvent) => {
        try {
          controller.enqueue(event);
        } catch {
          // cancelled
        }
      };
      const task = uploader.upload(inputs, n).then(
        (outcome) => {
          if (outcome.accepted.length > 0) {
            enqueue({
              type: "batch",
              batch: n,
              ids: outcome.accepted.map((l) => l.draft.id),
              bytes: outcome.accepted.reduce((sum, l) => sum + l.contentBytes, 0),
              attempts: outcome.attempts,
              jobIds: outcome.jobIds,
              ...(outcome.annotations ? { annotations: outcome.annotations } : {}),
            });
          }
          for (const failed of outcome.failed) enqueue(failed);
        },
        (err) => {
          failure ??= err;
        },
      ).finally(() => {
        inFlight.delete(task);
        if (options.budget) options.budget.release(freeContent(inputs));
      });
      inFlight.add(task);
    };

    super(
      {
        async transform(item, controller) {
          if (failure) throw failure;
          switch (item.type) {
            case "rejected": {
              const { rejection } = item;
              await options.journal?.append([{
                t: "input",
                id: rejection.id ?? "",
                location: rejection.location,
                outcome: "rejected",
                reason: rejection.reason,
              }]);
              controller.enqueue({ type: "rejected", ...rejection });
              return;
            }
            case "skipped":
              controller.enqueue({ type: "skipped", ...item.skip });
              return;
            case "batch":
              while (inFlight.size >= concurrency) await Promise.race(inFlight);
              if (failure) throw failure;
              run(controller, item.inputs);
              return;
          }
        },
        async flush() {
          while (inFlight.size > 0) await Promise.race(inFlight);
          if (failure) throw failure;
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 16 },
    );
  }
}

/** Sends one batch to the end: retries, duplicate confirmation, annotations, journal lines. */
class BatchUploader {
  #client: Client<typeof V2>;
  #postInputsChunked?: ChunkedPostInputs;
  #userAppId?: UserAppIDSet;
  #retry: RetryPolicy;
  #limiter?: RateLimiter;
  #journal?: Journal;
  #runId: string;
  #signal?: AbortSignal;
  #onRetry?: (info: UploadRetryInfo) => void;
  /**
   * The journal offset when this stage was made: IDs the journal records, before it, as sent
   * without an outcome may have been stored by an earlier run.
   */
  #journalStart: number;

  constructor(options: UploadStreamOptions) {
    this.#client = options.client;
    this.#postInputsChunked = (options.client as { postInputsChunked?: ChunkedPostInputs })
      .postInputsChunked;
    this.#userAppId = options.userAppId ? create(UserAppIDSetSchema, options.userAppId) : undefined;
    this.#retry = options.retry ?? new RetryPolicy();
    this.#limiter = options.rateLimiter;
    this.#journal = options.journal;
    this.#runId = options.runId ?? crypto.randomUUID().slice(0, 8);
    this.#signal = options.signal;
    this.#onRetry = options.onRetry;
    this.#journalStart = options.journal?.index.offset ?? 0;
  }

  /**
   * Calls `fn` with rate limiting and retries. Returns the response (whose status may still be
   * retryable when the attempts ran out), throws {@linkcode FatalUploadError} on a fatal outcome
   * and {@linkcode RetriesExhausted} when every attempt threw.
   */
  async #call<T extends { status?: Status }>(
    what: string,
    fn: (options: CallOptions) => Promise<T>,
  ): Promise<{ response: T; attempts: number; unanswered: boolean }> {
    let attempts = 0;
    let unanswered = false;
    try {
      const response = await withRetry(
        () => {
          attempts++;
          // Retried here: the client's own retries leave it alone.
          return fn(callerRetries(this.#signal));
        },
        this.#retry,
        {
          signal: this.#signal,
          rateLimiter: this.#limiter,
          onRetry: (info) => {
            // An attempt that threw may still have been applied by the server.
            if (info.error !== undefined) unanswered = true;
            this.#onRetry?.({
              what,
              attempt: info.attempt,
              delayMs: info.delayMs,
              reason: retryReason(info),
            });
          },
        },
      );
      return { response, attempts, unanswered };
    } catch (err) {
      if (err instanceof FatalUploadError || this.#signal?.aborted) throw err;
      if (classifyError(err) === "canceled") throw err;
      const message = err instanceof ConnectError
        ? `${Code[err.code]}: ${err.rawMessage}`
        : String((err as Error)?.message ?? err);
      // The last attempt threw too: it went unanswered, and the server may have applied it.
      throw new RetriesExhausted(`${what} failed: ${message}`, attempts, true);
    }
  }

  /**
   * Sends a batch: PostInputs until every input has an outcome or the attempts run out, then
   * the accepted inputs' annotations; journals every outcome.
   */
  async upload(batch: LoadedInput[], batchNo: number): Promise<Outcome> {
    await this.#journal?.append([{ t: "sending", ids: batch.map((l) => l.draft.id) }]);
    const sent = await this.#postInputs(batch, batchNo);
    const annotated = await this.#postAnnotations(sent.accepted, sent.fail);
    const uploaded = sent.accepted.filter((l) => !annotated.failedIds.has(l.draft.id));
    await this.#journal?.append(journalLines(batch, uploaded, sent, annotated.held));
    let annotations = 0;
    for (const ids of annotated.held.values()) annotations += ids.length;
    return {
      accepted: uploaded,
      failed: sent.failed,
      attempts: sent.attempts(),
      jobIds: sent.jobIds,
      annotations,
    };
  }

  /**
   * PostInputs rounds: each attempt sends the inputs still without an outcome (a fresh job ID
   * each time), sorts the answers, confirms duplicates that may be this run's own, and waits
   * before the next round.
   */
  async #postInputs(batch: LoadedInput[], batchNo: number): Promise<Sent> {
    let attempts = 0;
    const sent: Sent = {
      accepted: [],
      failed: [],
      jobIds: [],
      maybeStored: new Set(),
      attempts: () => attempts,
      fail: (l, reason, code, stage = "upload") =>
        sent.failed.push({
          type: "failed",
          id: l.draft.id,
          location: l.draft.location,
          kind: l.draft.kind,
          stage,
          ...(code ? { code } : {}),
          reason,
          attempts,
        }),
    };
    let pending = batch;
    for (let round = 0; pending.length > 0; round++) {
      let result;
      try {
        result = await this.#call("PostInputs", (callOptions) => {
          // A fresh job ID per attempt: an attempt cut off after the server committed it
          // has already used its ID.
          const jobId = `${this.#runId}-${batchNo}-${attempts + 1}`;
          attempts++;
          // Every attempt's job is kept: one whose answer was lost may hold inputs too.
          sent.jobIds.push(jobId);
          return this.#send(pending, jobId, callOptions);
        });
      } catch (err) {
        if (!(err instanceof RetriesExhausted)) throw err;
        if (err.unanswered) { for (const l of pending) sent.maybeStored.add(l.draft.id); }
        for (const l of pending) sent.fail(l, `gave up after ${attempts} attempts: ${err.message}`);
        break;
      }
      const { response } = result;
      if (result.unanswered) { for (const l of pending) sent.maybeStored.add(l.draft.id); }
      if (classifyStatus(response.status) === "retryable") {
        for (const l of pending) {
          sent.fail(l, `gave up after ${attempts} attempts: ${statusText(response.status)}`);
        }
        break;
      }
      pending = await this.#sortAnswers(pending, response, sent);
      if (pending.length === 0) break;
      if (attempts >= this.#retry.maxAttempts) {
        for (const l of pending) sent.fail(l, `gave up after ${attempts} attempts`);
        break;
      }
      const delayMs = this.#retry.delayMs(round);
      this.#onRetry?.({
        what: "PostInputs",
        attempt: attempts,
        delayMs,
        reason: `${pending.length} of the batch's inputs answered with a retryable status`,
      });
      await this.#retry.sleep(delayMs, this.#signal);
    }
    return sent;
  }

  /** One PostInputs request; over gRPC the media bytes go out without being copied first. */
  #send(pending: LoadedInput[], jobId: string, callOptions: CallOptions) {
    const fields = {
      userAppId: this.#userAppId,
      inputsAddJobId: jobId,
      inputIdConflictResolution: InputIDConflictResolution.SKIP,
    };
    const inputs = pending.map((l) => l.input);
    return this.#postInputsChunked
      ? this.#postInputsChunked(fields, inputs, callOptions)
      : this.#client.postInputs({ ...fields, inputs }, callOptions);
  }

  /**
   * Sorts a PostInputs answer input by input into accepted, failed and to be sent again;
   * returns the inputs to send again. A duplicate that may be this run's own (sent in an
   * attempt whose answer was lost, or recorded as sent by the journal) is accepted when the
   * server lists it.
   */
  async #sortAnswers(
    pending: LoadedInput[],
    response: MultiInputResponse,
    sent: Sent,
  ): Promise<LoadedInput[]> {
    const top = classifyStatus(response.status);
    const byId = new Map(response.inputs.map((input) => [input.id, input]));
    const retryNow: LoadedInput[] = [];
    const toConfirm: LoadedInput[] = [];
    for (const [index, l] of pending.entries()) {
      const returned = byId.get(l.draft.id) ??
        (response.inputs.length === pending.length ? response.inputs[index] : undefined);
      const status = returned?.status;
      if (!status || status.code === StatusCode.ZERO) {
        // No per-input status: the request's own status decides for every input.
        if (top === "success" || top === "pending") sent.accepted.push(l);
        else sent.fail(l, statusText(response.status), codeName(response.status));
        continue;
      }
      if (isDuplicateStatus(status)) {
        if (this.#ours(l.draft.id, sent.maybeStored)) toConfirm.push(l);
        else {
          sent.fail(
            l,
            `an input with ID "${l.draft.id}" already exists (${statusText(status)}); ` +
              "retry it with new IDs for duplicates to upload it under a new ID",
            codeName(status),
          );
        }
        continue;
      }
      const kind = classifyStatus(status);
      if (kind === "success" || kind === "pending") sent.accepted.push(l);
      else if (kind === "retryable") retryNow.push(l);
      else sent.fail(l, statusText(status), codeName(status));
    }
    if (toConfirm.length > 0) {
      const present = await this.#present("inputs", toConfirm.map((l) => l.draft.id));
      for (const l of toConfirm) {
        if (present.has(l.draft.id)) sent.accepted.push(l);
        else retryNow.push(l);
      }
    }
    return retryNow;
  }

  /**
   * Whether a duplicate answer for `id` may be this run's own upload: sent in an attempt whose
   * answer was lost, or recorded by the journal as sent without an outcome (by an earlier run)
   * or as uploaded (it comes back only when its annotations changed since).
   */
  #ours(id: string, maybeStored: Set<string>): boolean {
    const index = this.#journal?.index;
    return maybeStored.has(id) ||
      (index !== undefined &&
        (index.unansweredSince(id, this.#journalStart) || index.isUploaded(id)));
  }

  /**
   * Returns which of `ids` the server holds, as inputs or as annotations; an ID whose presence
   * could not be read (the listing failed after its retries) is left out, so it is sent again.
   */
  async #present(what: "inputs" | "annotations", ids: string[]): Promise<Set<string>> {
    const query = { userAppId: this.#userAppId, ids, perPage: ids.length, page: 1 };
    const { response } = await this.#confirm(() =>
      this.#call<{ status?: Status; ids: string[] }>(
        what === "inputs" ? "ListInputs" : "ListAnnotations",
        async (callOptions) => {
          const r = what === "inputs"
            ? await this.#client.listInputs(query, callOptions)
            : await this.#client.listAnnotations(query, callOptions);
          const listed = "inputs" in r ? r.inputs : r.annotations;
          return { status: r.status, ids: listed.map((item) => item.id) };
        },
      )
    );
    if (!response || classifyStatus(response.status) !== "success") return new Set();
    return new Set(response.ids);
  }

  /** Runs a presence check; a check that ran out of retries reads as "not known present". */
  async #confirm<T>(check: () => Promise<{ response: T }>): Promise<{ response?: T }> {
    try {
      return await check();
    } catch (err) {
      if (err instanceof RetriesExhausted) return {};
      throw err;
    }
  }

  /**
   * Posts the regions of accepted inputs; returns the IDs of each input's annotations the
   * server holds, and the inputs whose annotations failed.
   */
  async #postAnnotations(
    accepted: LoadedInput[],
    fail: (l: LoadedInput, reason: string, code?: string, stage?: FailedEvent["stage"]) => void,
  ): Promise<{ held: Map<string, string[]>; failedIds: Set<string> }> {
    const held = new Map<string, string[]>();
    const hold = (a: { annotation: Annotation; owner: LoadedInput }) => {
      const ids = held.get(a.owner.draft.id);
      if (ids) ids.push(a.annotation.id);
      else held.set(a.owner.draft.id, [a.annotation.id]);
    };
    const failedIds = new Set<string>();
    const all: { annotation: Annotation; owner: LoadedInput }[] = [];
    for (const l of accepted) {
      if (!l.draft.regions?.length && !l.draft.frames?.length) continue;
      for (const annotation of toAnnotations(l.draft)) all.push({ annotation, owner: l });
    }
    for (let i = 0; i < all.length; i += MAX_ANNOTATIONS_PER_REQUEST) {
      const chunk = all.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST);
      let pending = chunk;
      for (let round = 0; pending.length > 0; round++) {
        let response;
        try {
          ({ response } = await this.#call(
            "PostAnnotations",
            (callOptions) =>
              this.#client.postAnnotations({
                userAppId: this.#userAppId,
                annotations: pending.map((a) => a.annotation),
              }, callOptions),
          ));
        } catch (err) {
          if (!(err instanceof RetriesExhausted)) throw err;
          for (const a of pending) {
            if (!failedIds.has(a.owner.draft.id)) {
              failedIds.add(a.owner.draft.id);
              fail(
                a.owner,
                `annotation ${a.annotation.id}: ${err.message}`,
                undefined,
                "annotation",
              );
            }
          }
          break;
        }
        const top = classifyStatus(response.status);
        const byId = new Map(response.annotations.map((a) => [a.id, a]));
        const again: typeof pending = [];
        const refused: typeof pending = [];
        for (const a of pending) {
          const status = byId.get(a.annotation.id)?.status;
          const kind = status && status.code !== StatusCode.ZERO ? classifyStatus(status) : top;
          if (kind === "success" || kind === "pending") {
            hold(a);
          } else if (kind === "retryable" && round + 1 < this.#retry.maxAttempts) {
            again.push(a);
          } else refused.push(a);
        }
        if (refused.length > 0) {
          // Annotation IDs are derived from their content: one the server already holds under
          // the same ID is ours, from an attempt whose answer was lost.
          const present = await this.#present("annotations", refused.map((a) => a.annotation.id));
          for (const a of refused) {
            if (present.has(a.annotation.id)) {
              hold(a);
            } else if (!failedIds.has(a.owner.draft.id)) {
              const status = byId.get(a.annotation.id)?.status ?? response.status;
              failedIds.add(a.owner.draft.id);
              fail(
                a.owner,
                `annotation ${a.annotation.id}: ${statusText(status)}`,
                codeName(status),
                "annotation",
              );
            }
          }
        }
        pending = again;
        if (pending.length > 0) {
          const delayMs = this.#retry.delayMs(round);
          this.#onRetry?.({
            what: "PostAnnotations",
            attempt: round + 1,
            delayMs,
            reason: `${pending.length} annotations answered with a retryable status`,
          });
          await this.#retry.sleep(delayMs, this.#signal);
        }
      }
    }
    return { held, failedIds };
  }
}

/**
 * Frees the content the load stage read for these inputs, now that their request is done, and
 * returns the bytes they held in the budget. Collected later, the buffers stayed in memory long
 * after their release: 50 MB videos sent 4 at a time under a 128 MiB budget peaked at 326 MiB
 * (288 MiB of `ArrayBuffer`s), 182 MiB with a collection before every sample. Detaching a buffer
 * (`ArrayBuffer.prototype.transfer(0)`) frees it at once. Only buffers read by the load stage
 * (`heldBytes`) and wholly owned by the input are detached, never a caller's own bytes.
 */
function freeContent(inputs: LoadedInput[]): number {
  let held = 0;
  for (const l of inputs) {
    if (!l.heldBytes) continue;
    held += l.heldBytes;
    const data = l.input.data;
    const bytes = data?.image?.base64.length
      ? data.image.base64
      : data?.video?.base64.length
      ? data.video.base64
      : data?.audio?.base64;
    if (bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
      const buffer = bytes.buffer;
      if (buffer instanceof ArrayBuffer && !buffer.detached) buffer.transfer(0);
    }
  }
  return held;
}

/** The journal lines of a batch's outcomes. */
function journalLines(
  batch: LoadedInput[],
  uploaded: LoadedInput[],
  sent: Sent,
  held: Map<string, string[]>,
): JournalEntry[] {
  const lines: JournalEntry[] = uploaded.map((l) => ({
    t: "input",
    id: l.draft.id,
    location: l.draft.location,
    kind: l.draft.kind,
    outcome: "uploaded",
    attempts: sent.attempts(),
    ...(held.get(l.draft.id)
      ? { annotations: held.get(l.draft.id)!.length, annotationIds: held.get(l.draft.id) }
      : {}),
  }));
  const drafts = new Map(batch.map((l) => [l.draft.id, l.draft]));
  for (const f of sent.failed) {
    const draft = journalDraft(drafts.get(f.id));
    lines.push({
      t: "input",
      id: f.id,
      location: f.location,
      kind: f.kind,
      outcome: "failed",
      stage: f.stage,
      ...(f.code ? { code: f.code } : {}),
      reason: f.reason,
      attempts: f.attempts,
      ...(draft ? { draft } : {}),
      // An input whose annotations failed is stored; one whose request went unanswered may be.
      ...(sent.maybeStored.has(f.id) || f.stage === "annotation" ? { maybeStored: true } : {}),
    });
  }
  return lines;
}

/** Every attempt of a request ended in a retryable outcome. */
class RetriesExhausted extends Error {
  constructor(message: string, readonly attempts: number, readonly unanswered: boolean) {
    super(message);
  }
}

/** The draft as the journal keeps it: in-memory bytes are not written out. */
function journalDraft(draft: LoadedInput["draft"] | undefined): LoadedInput["draft"] | undefined {
  if (!draft || draft.content.type === "bytes") return undefined;
  return draft;
}
