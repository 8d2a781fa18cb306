/**
 * The upload run: composes the stages (resume filter → load → batch → upload or dry run →
 * processing wait) over any stream of drafts, journals every outcome, and reports progress
 * events ending in one `done` summary.
 *
 * @module
 */
import { Code } from "@connectrpc/connect";
import { statusCodeName } from "../clarifai/status_codes.ts";
import type { V2Client } from "../clarifai/api_types.ts";
import type { DraftOrRejection, InputDraft } from "../inputs/input_draft.ts";
import { UniqueIdsStream } from "../inputs/unique_ids_stream.ts";
import { validateDraft } from "../inputs/validate_draft.ts";
import { toAnnotations } from "../inputs/to_annotations.ts";
import { Journal } from "../journal/journal.ts";
import { BatchStream, DEFAULT_MAX_BATCH_BYTES } from "../pipeline/batch_stream.ts";
import { ByteBudget, defaultByteBudget } from "../pipeline/byte_budget.ts";
import type { BatchItem } from "../pipeline/batch_stream.ts";
import { LoadStream, type ObjectOpener } from "../pipeline/load_stream.ts";
import type { ProgressEvent, UploadCounts, UploadSummary } from "../pipeline/progress_event.ts";
import { zeroCounts } from "../pipeline/progress_event.ts";
import { type UploadRetryInfo, UploadStream } from "../pipeline/upload_stream.ts";
import { processingState, ProcessingWaitStream } from "../pipeline/processing_wait_stream.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
import { RateLimiter } from "../clarifai/rate_limiter.ts";
import { type Shard, ShardStream } from "../inputs/shard.ts";
import { type ExistingPolicy, PresenceStream } from "../pipeline/presence_stream.ts";
import { DigestStream } from "../pipeline/digest_stream.ts";
import type { RetryPolicy } from "../clarifai/retry_policy.ts";
import { datasetVersionEvents } from "./dataset_version.ts";

/** Options of an upload run. */
export interface RunUploadOptions {
  /** A Connect client of `clarifai.api.V2` (not needed for a dry run). */
  client?: V2Client;
  /** The user and app the inputs go to. */
  userAppId?: { userId: string; appId: string };
  /** Where the inputs go, for people (shown in the `start` event). */
  target?: string;
  /** What the run reads, for people (recorded in the journal). */
  source?: string;
  /** The journal's path; none when absent. Re-using a journal resumes the run it records. */
  journal?: string;
  /** Validate, load and batch, but send nothing. */
  dryRun?: boolean;
  /** Inputs per request, 1..128 (default 32). */
  batchSize?: number;
  /** Encoded bytes per request (default 32 MiB). */
  maxBatchBytes?: number;
  /** Requests in flight (default 4). */
  concurrency?: number;
  /** File reads in flight (default 4). */
  readConcurrency?: number;
  /** Opens drafts whose content is an object of an S3-compatible store (see `S3Client`). */
  openObject?: ObjectOpener;
  /** Requests per second at most (default 15, Clarifai's default quota); 0 for no limit. */
  rps?: number;
  /** Retry policy. */
  retry?: RetryPolicy;
  /** Wait for the server to process the inputs, reporting progress. */
  wait?: boolean;
  /** Totals for the progress bar, from a pre-count. */
  total?: { inputs: number; bytes: number };
  /** Stops the run (the journal stays consistent). */
  signal?: AbortSignal;
  /** Milliseconds between timed `progress` events (default 500). */
  progressIntervalMs?: number;
  /** The run's ID (default: random). */
  runId?: string;
  /** Called for every retry of an upload request, before its wait (for a verbose log). */
  onRetry?: (info: UploadRetryInfo) => void;
  /** Upload only this shard's inputs (by a stable hash of the ID); each shard has its journal. */
  shard?: Shard;
  /**
   * Inputs the server holds already (looked up before their bytes are read): `skip` (default;
   * counted as present, a different content under the ID is a conflict), `fail`, or `new-id`.
   */
  existing?: ExistingPolicy;
  /** Record each input's content digest in its metadata (default true). */
  digest?: boolean;
  /** The dataset the inputs join (the drafts carry it); `createVersion` makes a version of it. */
  datasetId?: string;
  /**
   * When the upload ends (after the processing wait, if any), make a version of the dataset,
   * wait until it is ready and put its metrics in the summary (`version`). Needs `datasetId`.
   */
  createVersion?: boolean;
  /** How long to wait for the version to be ready, in milliseconds (default 600 000). */
  versionTimeoutMs?: number;
}

/** How long requests in flight get to answer after the caller stops a run. */
const CANCEL_GRACE_MS = 5_000;

/** A source of drafts: a stream from a source stage, or any (async) iterable of drafts. */
export type DraftSource =
  | ReadableStream<DraftOrRejection>
  | Iterable<InputDraft | DraftOrRejection>
  | AsyncIterable<InputDraft | DraftOrRejection>;

/**
 * Turns an item of a user's iterable into a stream item: source items pass as they are, and a
 * plain draft is validated here, since no source stage checked it.
 */
function toItem(value: InputDraft | DraftOrRejection): DraftOrRejection {
  if (
    "type" in value && (value.type === "draft" || value.type === "rejected" ||
      value.type === "skipped")
  ) return value as DraftOrRejection;
  const draft = value as InputDraft;
  const checked = validateDraft(draft);
  if ("reason" in checked) {
    return {
      type: "rejected",
      rejection: {
        location: typeof draft?.location === "string" ? draft.location : String(draft?.id),
        reason: checked.reason,
        ...(typeof draft?.id === "string" ? { id: draft.id } : {}),
      },
    };
  }
  return { type: "draft", draft: checked.draft };
}

function toStream(source: DraftSource): ReadableStream<DraftOrRejection> {
  if (source instanceof ReadableStream) return source;
  return ReadableStream.from(source as AsyncIterable<InputDraft | DraftOrRejection>)
    .pipeThrough(
      new TransformStream<InputDraft | DraftOrRejection, DraftOrRejection>({
        transform: (value, controller) => controller.enqueue(toItem(value)),
      }),
    );
}

function fatalCodeName(err: FatalUploadError): string {
  if (err.statusCode !== undefined) return statusCodeName(err.statusCode);
  if (err.connectCode !== undefined) return Code[err.connectCode];
  return "FATAL";
}

/** Whether a draft has annotations that the journal does not record as uploaded. */
function annotationsChanged(draft: InputDraft, recorded: Set<string> | undefined): boolean {
  if (!draft.regions?.length && !draft.frames?.length) return false;
  return toAnnotations(draft).some((a) => !recorded?.has(a.id));
}

/** A dry run's stand-in for the upload stage: reports each batch that would be sent. */
function dryRunStream(): TransformStream<BatchItem, ProgressEvent> {
  let n = 0;
  return new TransformStream({
    transform(item, controller) {
      if (item.type === "rejected") controller.enqueue({ type: "rejected", ...item.rejection });
      else if (item.type === "skipped") controller.enqueue({ type: "skipped", ...item.skip });
      else {
        controller.enqueue({
          type: "batch",
          batch: ++n,
          ids: item.inputs.map((l) => l.draft.id),
          bytes: item.inputs.reduce((sum, l) => sum + l.contentBytes, 0),
          attempts: 0,
        });
      }
    },
  });
}

/** The counts, batches, bytes and processing results of a run, and the events made of them. */
class RunTally {
  readonly counts: UploadCounts = zeroCounts();
  readonly started = performance.now();
  batches = 0;
  bytes = 0;
  processing: UploadSummary["processing"];
  version: UploadSummary["version"];

  /** Adds an event of the stages to the counts. */
  count(event: ProgressEvent): void {
    const counts = this.counts;
    switch (event.type) {
      case "rejected":
        counts.rejected++;
        break;
      case "skipped":
        counts.skipped++;
        break;
      case "batch":
        this.batches++;
        counts.uploaded += event.ids.length;
        counts.annotations += event.annotations ?? 0;
        this.bytes += event.bytes;
        break;
      case "failed":
        if (event.stage === "processing") {
          // Counted in the processing totals; one found present is no longer counted present.
          if (event.present) counts.present--;
          if (event.present === "unverified") counts.presentUnverified--;
          break;
        }
        counts.failed++;
        if (event.stage === "annotation") counts.annotationsFailed++;
        break;
      case "processing":
        this.processing = {
          succeeded: event.succeeded,
          failed: event.failed,
          pending: event.pending,
        };
        break;
      case "version":
        if (event.status === "pending" || event.status === "in progress") break;
        this.version = {
          id: event.id,
          datasetId: event.datasetId,
          status: event.status,
          waitedMs: event.elapsedMs,
          ...(event.metrics ? { metrics: event.metrics } : {}),
          ...(event.error ? { error: event.error } : {}),
        };
        break;
    }
  }

  /** A `progress` event with the counts as they stand. */
  progress(total: RunUploadOptions["total"]): ProgressEvent {
    return {
      type: "progress",
      counts: { ...this.counts },
      bytes: this.bytes,
      elapsedMs: Math.round(performance.now() - this.started),
      ...(total ? { total } : {}),
    };
  }

  /** The summary as it stands, with `extra` (the end's reason, the journal's path) over it. */
  summary(runId: string, dryRun: boolean, extra: Partial<UploadSummary>): UploadSummary {
    const durationMs = performance.now() - this.started;
    const seconds = Math.max(durationMs / 1000, 1e-6);
    return {
      runId,
      dryRun,
      ...this.counts,
      batches: this.batches,
      bytes: this.bytes,
      durationMs: Math.round(durationMs),
      inputsPerSecond: Math.round((this.counts.uploaded / seconds) * 10) / 10,
      megabytesPerSecond: Math.round((this.bytes / 1e6 / seconds) * 100) / 100,
      ...(this.processing ? { processing: this.processing } : {}),
      ...(this.version ? { version: this.version } : {}),
      ...extra,
    };
  }
}

/**
 * How a run stops. `abort` stops everything at once (a fatal outcome, a broken source, the
 * grace period over); the caller's signal first only stops sending: no new batch is sent,
 * requests in flight get their answers (so the summary counts what the server holds), and after
 * a grace period the rest is abandoned (its inputs stay "sending" in the journal and are
 * confirmed next run).
 */
class RunStop {
  readonly abort = new AbortController();
  #signal: AbortSignal | undefined;
  #stopSending = () => {};
  #stopped = false;
  #grace: ReturnType<typeof setTimeout> | undefined;
  #onAbort = () => {
    this.#stopped = true;
    this.#stopSending();
    this.#grace = setTimeout(() => this.abort.abort(this.#signal?.reason), CANCEL_GRACE_MS);
  };

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    if (signal?.aborted) queueMicrotask(this.#onAbort);
    else signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Whether the caller stopped the run. */
  get byCaller(): boolean {
    return this.#signal?.aborted ?? false;
  }

  /** A stage that passes batches on until the caller stops the run, then ends them. */
  gate(): TransformStream<BatchItem, BatchItem> {
    return new TransformStream<BatchItem, BatchItem>({
      start: (c) => {
        // Ends the batches here: the upload stage finishes what it has in flight.
        this.#stopSending = () => c.terminate();
        if (this.#stopped) c.terminate();
      },
    });
  }

  /** Stops listening to the caller's signal and clears the grace period. */
  dispose(): void {
    clearTimeout(this.#grace);
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}

/** What the stages of a run share. */
interface RunContext {
  options: RunUploadOptions;
  runId: string;
  tally: RunTally;
  stop: RunStop;
  journal: Journal | undefined;
  limiter: RateLimiter | undefined;
  /** Bounds the content read and not yet answered, in bytes (none in a dry run: nothing is sent). */
  budget: ByteBudget | undefined;
  /** The processing wait, when the run waits for processing. */
  wait: ProcessingWaitStream | undefined;
}

/** The `start` event, after the journal records the run. */
async function startRun(ctx: RunContext): Promise<ProgressEvent> {
  const { options, runId, journal } = ctx;
  const target = options.target ?? (options.dryRun ? "dry run" : "Clarifai");
  await journal?.append([{
    t: "run",
    runId,
    time: new Date().toISOString(),
    target,
    ...(options.source ? { source: options.source } : {}),
  }]);
  const resumed = journal?.index.uploadedCount;
  return {
    type: "start",
    runId,
    target,
    dryRun: options.dryRun ?? false,
    ...(journal ? { journal: journal.path } : {}),
    ...(options.total ? { total: options.total } : {}),
    ...(resumed ? { resumed } : {}),
  };
}

/**
 * Drops the drafts the journal records as uploaded, unless they have annotations it does not
 * record (fixed in the source since): those are sent again, their duplicate confirmed, their
 * new annotations posted.
 */
function resumeFilter(ctx: RunContext): TransformStream<DraftOrRejection, DraftOrRejection> {
  const index = ctx.journal?.index;
  // Only earlier runs' uploads are skipped (an ID comes once per run): none, no lookups.
  const resuming = (index?.uploadedCount ?? 0) > 0;
  return new TransformStream({
    transform(item, c) {
      if (item.type === "draft" && resuming && index?.isUploaded(item.draft.id)) {
        if (!annotationsChanged(item.draft, index.annotationIds(item.draft.id))) {
          ctx.tally.counts.alreadyUploaded++;
          return;
        }
      }
      c.enqueue(item);
    },
  });
}

/**
 * Looks up the drafts on the server (the source of truth) before their bytes are read: what it
 * holds already is not loaded nor sent, and is journaled as present. When the run waits for
 * processing, the present inputs the server has not processed successfully (still processing,
 * or failed) are handed to the wait, which judges them like the inputs sent; without the wait,
 * no run judges processing.
 */
function presenceStage(ctx: RunContext): PresenceStream {
  const { options, tally, journal, wait } = ctx;
  const present = (draft: InputDraft, verified: boolean) =>
    journal?.append([{
      t: "input",
      id: draft.id,
      location: draft.location,
      kind: draft.kind,
      outcome: "uploaded",
      present: verified ? "verified" : "unverified",
    }]);
  return new PresenceStream({
    client: options.client!,
    userAppId: options.userAppId,
    existing: options.existing === "new-id" ? "new-id" : "skip",
    retry: options.retry,
    rateLimiter: ctx.limiter,
    signal: ctx.stop.abort.signal,
    onRetry: () => tally.counts.retries++,
    onPresent: async (draft, verified, held) => {
      tally.counts.present++;
      if (!verified) tally.counts.presentUnverified++;
      await present(draft, verified);
      // After its journal line: a failure the wait finds is journaled after it, and stands.
      if (wait && processingState(held.status) !== "succeeded") {
        wait.follow([{
          id: draft.id,
          location: draft.location,
          present: verified ? "verified" : "unverified",
        }]);
      }
    },
    // Sent on so that its annotations are posted: the journal line makes the server's
    // duplicate answer this run's own, confirmed, not a failure. Its batch carries it to the
    // processing wait, like any input sent.
    onPresentAnnotated: (draft) => present(draft, true),
  });
}

/** The drafts to load: sharded, unique, not uploaded before, not on the server already. */
function draftStages(source: DraftSource, ctx: RunContext): ReadableStream<DraftOrRejection> {
  const { options } = ctx;
  let drafts = toStream(source);
  if (options.shard && options.shard.count > 1) {
    drafts = drafts.pipeThrough(new ShardStream(options.shard));
  }
  drafts = drafts.pipeThrough(new UniqueIdsStream()).pipeThrough(resumeFilter(ctx));
  // With existing inputs failing, the server's duplicate answers report them instead.
  if (!options.dryRun && options.existing !== "fail") {
    drafts = drafts.pipeThrough(presenceStage(ctx), { signal: ctx.stop.abort.signal });
  }
  return drafts;
}

/** The upload stage, or a dry run's stand-in for it. */
function sendStage(ctx: RunContext): TransformStream<BatchItem, ProgressEvent> {
  const { options } = ctx;
  if (options.dryRun) return dryRunStream();
  return new UploadStream({
    client: options.client!,
    userAppId: options.userAppId,
    concurrency: options.concurrency,
    rateLimiter: ctx.limiter,
    retry: options.retry,
    journal: ctx.journal,
    runId: ctx.runId,
    signal: ctx.stop.abort.signal,
    budget: ctx.budget,
    onRetry: (info) => {
      ctx.tally.counts.retries++;
      options.onRetry?.(info);
    },
  });
}

/**
 * The events of the stages, then, unless the caller stopped the run, those of the dataset
 * version made of what they uploaded.
 */
function thenVersion(
  events: ReadableStream<ProgressEvent>,
  ctx: RunContext,
): ReadableStream<ProgressEvent> {
  const { options } = ctx;
  async function* all(): AsyncGenerator<ProgressEvent> {
    yield* events;
    if (ctx.stop.byCaller) return;
    yield* datasetVersionEvents(options.client!, options.userAppId, options.datasetId!, {
      description: `upflow run ${ctx.runId}`,
      timeoutMs: options.versionTimeoutMs,
      // Nothing is in flight worth a grace period: the caller's stop ends the wait at once.
      signal: options.signal
        ? AbortSignal.any([ctx.stop.abort.signal, options.signal])
        : ctx.stop.abort.signal,
    });
  }
  return ReadableStream.from(all());
}

/**
 * The stages composed: drafts → load → digest → batch → send → processing wait → dataset
 * version.
 */
function composeStages(source: DraftSource, ctx: RunContext): ReadableStream<ProgressEvent> {
  const { options } = ctx;
  const signal = ctx.stop.abort.signal;
  if (options.wait && !options.dryRun) {
    // Made first: the presence stage hands it the inputs the server held already.
    ctx.wait = new ProcessingWaitStream({
      client: options.client!,
      userAppId: options.userAppId,
      journal: ctx.journal,
      signal,
      // The wait keeps its own, patient retry policy: a short upload policy
      // (`--retries 2`) would make it give up and leave inputs unaccounted for.
      rateLimiter: ctx.limiter,
    });
  }
  let loaded = draftStages(source, ctx).pipeThrough(
    new LoadStream({
      concurrency: options.readConcurrency,
      openObject: options.openObject,
      budget: ctx.budget,
    }),
  );
  if (options.digest ?? true) loaded = loaded.pipeThrough(new DigestStream());
  let events = loaded
    .pipeThrough(
      new BatchStream({
        batchSize: options.batchSize,
        maxBatchBytes: options.maxBatchBytes,
        budget: ctx.budget,
      }),
    )
    .pipeThrough(ctx.stop.gate())
    .pipeThrough(sendStage(ctx), { signal });
  if (ctx.wait) events = events.pipeThrough(ctx.wait);
  if (options.createVersion && !options.dryRun) events = thenVersion(events, ctx);
  return events;
}

/**
 * How an error that is not fatal by status ends a run: a source that cannot be read further (a
 * bad header, an unterminated quote, bytes that are not UTF-8), named by its code or kind.
 */
function fatalOf(err: unknown): NonNullable<UploadSummary["fatal"]> {
  if (err instanceof FatalUploadError) return { code: fatalCodeName(err), message: err.message };
  const code = (err as { code?: unknown })?.code;
  return {
    code: typeof code === "string"
      ? code.toUpperCase()
      : err instanceof SyntaxError
      ? "INVALID_SOURCE"
      : (err as Error)?.name ?? "ERROR",
    message: (err as Error)?.message ?? String(err),
  };
}

/**
 * Runs an upload over a source of drafts and returns its progress events. The last event is
 * always `done` with the summary, also when a fatal outcome or a source that cannot be read
 * further stopped the run (then `summary.fatal` says why). Cancel the stream to stop the run; the journal stays consistent.
 *
 * @param source The drafts: a source stage's stream, or an iterable of drafts.
 * @param options Target, limits, journal.
 * @returns The progress events.
 *
 * @example A dry run over two drafts
 * ```ts
 * import { runUpload, summaryOf } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(runUpload([
 *   { id: "a", kind: "text", content: { type: "raw", text: "hello" }, location: "a", concepts: [] },
 *   { id: "b", kind: "text", content: { type: "raw", text: "world" }, location: "b", concepts: [] },
 * ], { dryRun: true }));
 * assertEquals(summary.batches, 1);
 * assertEquals(summary.rejected, 0);
 * ```
 */
export function runUpload(
  source: DraftSource,
  options: RunUploadOptions = {},
): ReadableStream<ProgressEvent> {
  const ctx: RunContext = {
    options,
    runId: options.runId ?? crypto.randomUUID().slice(0, 8),
    tally: new RunTally(),
    stop: new RunStop(options.signal),
    journal: undefined,
    limiter: options.rps === 0 ? undefined : new RateLimiter({ rps: options.rps ?? 15 }),
    budget: options.dryRun ? undefined : new ByteBudget(
      defaultByteBudget(options.concurrency ?? 4, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES),
    ),
    wait: undefined,
  };
  const interval = options.progressIntervalMs ?? 500;
  let reader: ReadableStreamDefaultReader<ProgressEvent> | undefined;
  let lastProgress = 0;
  let finished = false;

  /** Ends the run: closes the journal, then the last counts and the `done` summary. */
  const finish = async (
    controller: ReadableStreamDefaultController<ProgressEvent>,
    extra: Partial<UploadSummary>,
  ) => {
    if (finished) return;
    finished = true;
    ctx.stop.dispose();
    await ctx.journal?.close();
    controller.enqueue(ctx.tally.progress(options.total));
    const journal = ctx.journal ? { journal: ctx.journal.path } : {};
    const summary = ctx.tally.summary(ctx.runId, options.dryRun ?? false, {
      ...journal,
      ...extra,
    });
    controller.enqueue({ type: "done", summary });
    controller.close();
  };

  /** Ends the run on an error: every stage is stopped, what was answered stays journaled. */
  const fail = async (controller: ReadableStreamDefaultController<ProgressEvent>, err: unknown) => {
    if (err instanceof FatalUploadError) {
      ctx.stop.abort.abort(err);
      return await finish(controller, { fatal: fatalOf(err) });
    }
    // Stopped by the caller, or anything else (a source that cannot be read further): requests
    // in flight are abandoned; their inputs stay "sending" in the journal and are confirmed on
    // the next run.
    const reason = ctx.stop.byCaller ? options.signal!.reason : err;
    ctx.stop.abort.abort(reason);
    await reader?.cancel(reason).catch(() => {});
    await finish(controller, ctx.stop.byCaller ? { cancelled: true } : { fatal: fatalOf(err) });
  };

  return new ReadableStream<ProgressEvent>({
    async start(controller) {
      if (options.journal) ctx.journal = await Journal.open(options.journal);
      if (!options.dryRun && !options.client) {
        throw new TypeError("runUpload needs a client unless dryRun is set");
      }
      if (options.createVersion && !options.dryRun && !options.datasetId) {
        throw new TypeError("runUpload needs a datasetId to create a version");
      }
      controller.enqueue(await startRun(ctx));
      reader = composeStages(source, ctx).getReader();
    },

    async pull(controller) {
      try {
        const { value, done } = await reader!.read();
        if (done) return await finish(controller, ctx.stop.byCaller ? { cancelled: true } : {});
        ctx.tally.count(value);
        controller.enqueue(value);
        const now = performance.now();
        if (value.type === "batch" || now - lastProgress >= interval) {
          lastProgress = now;
          controller.enqueue(ctx.tally.progress(options.total));
        }
      } catch (err) {
        await fail(controller, err);
      }
    },

    async cancel(reason) {
      ctx.stop.dispose();
      ctx.stop.abort.abort(reason);
      await reader?.cancel(reason).catch(() => {});
      if (!finished) {
        finished = true;
        await ctx.journal?.close();
      }
    },
  }, { highWaterMark: 16 });
}
