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
import { ProcessingWaitStream } from "../pipeline/processing_wait_stream.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
import { RateLimiter } from "../clarifai/rate_limiter.ts";
import { type Shard, ShardStream } from "../inputs/shard.ts";
import { type ExistingPolicy, PresenceStream } from "../pipeline/presence_stream.ts";
import { DigestStream } from "../pipeline/digest_stream.ts";
import type { RetryPolicy } from "../clarifai/retry_policy.ts";

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
  const runId = options.runId ?? crypto.randomUUID().slice(0, 8);
  // `abort` stops everything at once (a fatal outcome, a broken source, the grace period over);
  // a caller's signal first only stops sending (see `stop` below).
  const abort = new AbortController();
  let stopSending = () => {};
  let stopped = false;
  let grace: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    // Stopped by the caller: no new batch is sent, requests in flight get their answers (so
    // the summary counts what the server holds), and after a grace period the rest is
    // abandoned (its inputs stay "sending" in the journal and are confirmed next run).
    stopped = true;
    stopSending();
    grace = setTimeout(() => abort.abort(options.signal?.reason), CANCEL_GRACE_MS);
  };
  if (options.signal?.aborted) queueMicrotask(stop);
  else options.signal?.addEventListener("abort", stop, { once: true });
  const counts: UploadCounts = zeroCounts();
  const started = performance.now();
  let batches = 0;
  let bytes = 0;
  let journal: Journal | undefined;
  let reader: ReadableStreamDefaultReader<ProgressEvent> | undefined;
  let processing: UploadSummary["processing"];
  let lastProgress = 0;
  const interval = options.progressIntervalMs ?? 500;
  let finished = false;

  const summary = (extra: Partial<UploadSummary>): UploadSummary => {
    const durationMs = performance.now() - started;
    const seconds = Math.max(durationMs / 1000, 1e-6);
    return {
      runId,
      dryRun: options.dryRun ?? false,
      ...counts,
      batches,
      bytes,
      durationMs: Math.round(durationMs),
      inputsPerSecond: Math.round((counts.uploaded / seconds) * 10) / 10,
      megabytesPerSecond: Math.round((bytes / 1e6 / seconds) * 100) / 100,
      ...(processing ? { processing } : {}),
      ...(journal ? { journal: journal.path } : {}),
      ...extra,
    };
  };

  const count = (event: ProgressEvent) => {
    switch (event.type) {
      case "rejected":
        counts.rejected++;
        break;
      case "skipped":
        counts.skipped++;
        break;
      case "batch":
        batches++;
        counts.uploaded += event.ids.length;
        counts.annotations += event.annotations ?? 0;
        bytes += event.bytes;
        break;
      case "failed":
        if (event.stage === "processing") break;
        counts.failed++;
        if (event.stage === "annotation") counts.annotationsFailed++;
        break;
      case "processing":
        processing = { succeeded: event.succeeded, failed: event.failed, pending: event.pending };
        break;
    }
  };

  const progressEvent = (): ProgressEvent => ({
    type: "progress",
    counts: { ...counts },
    bytes,
    elapsedMs: Math.round(performance.now() - started),
    ...(options.total ? { total: options.total } : {}),
  });

  const finish = async (
    controller: ReadableStreamDefaultController<ProgressEvent>,
    extra: Partial<UploadSummary>,
  ) => {
    if (finished) return;
    finished = true;
    clearTimeout(grace);
    options.signal?.removeEventListener("abort", stop);
    await journal?.close();
    controller.enqueue(progressEvent());
    controller.enqueue({ type: "done", summary: summary(extra) });
    controller.close();
  };

  return new ReadableStream<ProgressEvent>({
    async start(controller) {
      if (options.journal) journal = await Journal.open(options.journal);
      const index = journal?.index;
      if (!options.dryRun && !options.client) {
        throw new TypeError("runUpload needs a client unless dryRun is set");
      }
      await journal?.append([{
        t: "run",
        runId,
        time: new Date().toISOString(),
        target: options.target ?? (options.dryRun ? "dry run" : "Clarifai"),
        ...(options.source ? { source: options.source } : {}),
      }]);
      controller.enqueue({
        type: "start",
        runId,
        target: options.target ?? (options.dryRun ? "dry run" : "Clarifai"),
        dryRun: options.dryRun ?? false,
        ...(journal ? { journal: journal.path } : {}),
        ...(options.total ? { total: options.total } : {}),
        ...(index?.uploadedCount ? { resumed: index.uploadedCount } : {}),
      });

      const resumeFilter = new TransformStream<DraftOrRejection, DraftOrRejection>({
        transform(item, c) {
          if (item.type === "draft" && index?.isUploaded(item.draft.id)) {
            if (!annotationsChanged(item.draft, index.annotationIds(item.draft.id))) {
              counts.alreadyUploaded++;
              return;
            }
            // Uploaded before, but with regions the journal does not record (fixed in the
            // source since): sent again, its duplicate confirmed, its new annotations posted.
          }
          c.enqueue(item);
        },
      });
      const limiter = options.rps === 0 ? undefined : new RateLimiter({ rps: options.rps ?? 15 });
      let drafts = toStream(source);
      if (options.shard && options.shard.count > 1) {
        drafts = drafts.pipeThrough(new ShardStream(options.shard));
      }
      drafts = drafts.pipeThrough(new UniqueIdsStream()).pipeThrough(resumeFilter);
      if (!options.dryRun && options.existing !== "fail") {
        // The server is the source of truth: what it holds already is not loaded nor sent.
        // (With existing inputs failing, the server's duplicate answers report them.)
        drafts = drafts.pipeThrough(
          new PresenceStream({
            client: options.client!,
            userAppId: options.userAppId,
            existing: options.existing === "new-id" ? "new-id" : "skip",
            retry: options.retry,
            rateLimiter: limiter,
            signal: abort.signal,
            onRetry: () => counts.retries++,
            onPresent: async (draft, verified) => {
              counts.present++;
              if (!verified) counts.presentUnverified++;
              await journal?.append([{
                t: "input",
                id: draft.id,
                location: draft.location,
                kind: draft.kind,
                outcome: "uploaded",
                present: verified ? "verified" : "unverified",
              }]);
            },
            // Sent on so that its annotations are posted: the journal line makes the server's
            // duplicate answer this run's own, confirmed, not a failure.
            onPresentAnnotated: (draft) =>
              journal?.append([{
                t: "input",
                id: draft.id,
                location: draft.location,
                kind: draft.kind,
                outcome: "uploaded",
                present: "verified",
              }]),
          }),
          { signal: abort.signal },
        );
      }
      // The content read and not yet answered is bounded in bytes (a dry run sends nothing).
      const budget = options.dryRun ? undefined : new ByteBudget(
        defaultByteBudget(
          options.concurrency ?? 4,
          options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
        ),
      );
      let loaded = drafts.pipeThrough(
        new LoadStream({
          concurrency: options.readConcurrency,
          openObject: options.openObject,
          budget,
        }),
      );
      if (options.digest ?? true) loaded = loaded.pipeThrough(new DigestStream());
      let events = loaded
        .pipeThrough(
          new BatchStream({
            batchSize: options.batchSize,
            maxBatchBytes: options.maxBatchBytes,
            budget,
          }),
        )
        .pipeThrough(
          new TransformStream<BatchItem, BatchItem>({
            start(c) {
              // Ends the batches here: the upload stage finishes what it has in flight.
              stopSending = () => c.terminate();
              if (stopped) c.terminate();
            },
          }),
        )
        .pipeThrough(
          options.dryRun ? dryRunStream() : new UploadStream({
            client: options.client!,
            userAppId: options.userAppId,
            concurrency: options.concurrency,
            rateLimiter: limiter,
            retry: options.retry,
            journal,
            runId,
            signal: abort.signal,
            budget,
            onRetry: (info) => {
              counts.retries++;
              options.onRetry?.(info);
            },
          }),
          { signal: abort.signal },
        );
      if (options.wait && !options.dryRun) {
        events = events.pipeThrough(
          new ProcessingWaitStream({
            client: options.client!,
            userAppId: options.userAppId,
            journal,
            signal: abort.signal,
            // The wait keeps its own, patient retry policy: a short upload policy
            // (`--retries 2`) would make it give up and leave inputs unaccounted for.
            rateLimiter: limiter,
          }),
        );
      }
      reader = events.getReader();
    },

    async pull(controller) {
      try {
        const { value, done } = await reader!.read();
        if (done) {
          return await finish(controller, options.signal?.aborted ? { cancelled: true } : {});
        }
        count(value);
        controller.enqueue(value);
        const now = performance.now();
        if (value.type === "batch" || now - lastProgress >= interval) {
          lastProgress = now;
          controller.enqueue(progressEvent());
        }
      } catch (err) {
        if (err instanceof FatalUploadError) {
          abort.abort(err);
          await finish(controller, {
            fatal: { code: fatalCodeName(err), message: err.message },
          });
          return;
        }
        if (options.signal?.aborted) {
          // Stopped by the caller: what was answered is journaled; the rest is resent next time.
          abort.abort(options.signal.reason);
          await reader?.cancel(options.signal.reason).catch(() => {});
          await finish(controller, { cancelled: true });
          return;
        }
        // Anything else stops the run too (a source that cannot be read further: a bad header,
        // an unterminated quote, bytes that are not UTF-8), with a summary that says why.
        // Requests in flight are abandoned; their inputs stay "sending" in the journal and are
        // confirmed on the next run.
        abort.abort(err);
        await reader?.cancel(err).catch(() => {});
        await finish(controller, {
          fatal: {
            code: typeof (err as { code?: unknown })?.code === "string"
              ? (err as { code: string }).code.toUpperCase()
              : err instanceof SyntaxError
              ? "INVALID_SOURCE"
              : (err as Error)?.name ?? "ERROR",
            message: (err as Error)?.message ?? String(err),
          },
        });
      }
    },

    async cancel(reason) {
      clearTimeout(grace);
      options.signal?.removeEventListener("abort", stop);
      abort.abort(reason);
      await reader?.cancel(reason).catch(() => {});
      if (!finished) {
        finished = true;
        await journal?.close();
      }
    },
  }, { highWaterMark: 16 });
}
