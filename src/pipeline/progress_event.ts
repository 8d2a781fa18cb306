/**
 * The progress events of an upload: one discriminated union drives the CLI's bar, the NDJSON
 * output, the HTTP service's stream and the module API.
 *
 * @module
 */
import type { InputKind } from "../inputs/input_draft.ts";
import type { FailureStage } from "../inputs/failure_stage.ts";

export type { FailureStage };

/** Counts by outcome, as they stand. */
export interface UploadCounts {
  /** Inputs the server accepted in this run (including resends confirmed present). */
  uploaded: number;
  /** Inputs skipped because the journal says an earlier run uploaded them. */
  alreadyUploaded: number;
  /**
   * Inputs found on the server (the source of truth) and not sent again: verified by the content
   * digest upflow records, or, for inputs without one, present but not verified.
   */
  present: number;
  /** Of the present inputs, those the server holds without a digest to verify them by. */
  presentUnverified: number;
  /** Inputs the server refused or that failed after retries. */
  failed: number;
  /** Records refused by validation before anything was sent. */
  rejected: number;
  /** Files passed over on purpose (hidden, other extensions). */
  skipped: number;
  /** Annotations the server accepted. */
  annotations: number;
  /** Annotations that failed. */
  annotationsFailed: number;
  /** Requests retried (transport errors, throttling, retryable statuses). */
  retries: number;
}

/** The end-of-run summary: the payload of the `done` event. */
export interface UploadSummary extends UploadCounts {
  /** The run's ID. */
  runId: string;
  /** `true` when nothing was sent (`--dry-run`). */
  dryRun: boolean;
  /** Batches sent (or, in a dry run, that would be sent). */
  batches: number;
  /** Content bytes sent (or that would be sent). */
  bytes: number;
  /** Wall time of the run in milliseconds. */
  durationMs: number;
  /** Uploaded inputs per second over the run. */
  inputsPerSecond: number;
  /** Content megabytes (10^6 bytes) per second over the run. */
  megabytesPerSecond: number;
  /** Processing results, when the run waited for processing. */
  processing?: { succeeded: number; failed: number; pending: number };
  /** The journal's path, when there is one. */
  journal?: string;
  /** Set when a fatal outcome stopped the run. */
  fatal?: { code: string; message: string };
  /** Set when the run was cancelled before it finished. */
  cancelled?: boolean;
  /** The dataset version made when the upload ended, when one was asked for. */
  version?: DatasetVersionResult;
}

/**
 * A dataset version's metrics as the official Python SDK's `get_upload_status` shows them: the
 * inputs by kind, and the annotations summed over the concept groups (concepts, bounding boxes,
 * polygons); frames come from the version's total (the SDK shows none).
 */
export interface DatasetVersionMetrics {
  /** Inputs in the version. */
  inputs: number;
  /** Inputs by kind (`image`, `text`, `video`, `audio`). */
  inputsByKind: Record<string, number>;
  /** Annotation counts. */
  annotations: {
    /** Input-level concepts (positive tags), summed over the concepts. */
    concepts: number;
    /** Bounding boxes, summed over the concepts. */
    boundingBoxes: number;
    /** Polygons, summed over the concepts. */
    polygons: number;
    /** Video frames with annotations. */
    frames: number;
  };
  /** Each concept's counts, by concept ID. */
  concepts: DatasetVersionConcept[];
}

/** One concept's counts in a dataset version. */
export interface DatasetVersionConcept {
  /** The concept ID. */
  id: string;
  /** Inputs that carry it (at input level, in a region or in a frame). */
  inputs: number;
  /** Input-level tags with it. */
  inputTags: number;
  /** Bounding boxes with it. */
  boundingBoxes: number;
  /** Polygons with it. */
  polygons: number;
}

/** How the dataset version made at the end of a run came out. */
export interface DatasetVersionResult {
  /** The version's ID. */
  id: string;
  /** The dataset's ID. */
  datasetId: string;
  /** `ready` with its metrics, `failed` or `timed out` with an error. */
  status: "ready" | "failed" | "timed out";
  /** Milliseconds from its creation to this outcome. */
  waitedMs: number;
  /** Its metrics, when ready. */
  metrics?: DatasetVersionMetrics;
  /** What went wrong, when it did not become ready. */
  error?: string;
}

/** The run starts. */
export interface StartEvent {
  /** Discriminant. */
  type: "start";
  /** The run's ID. */
  runId: string;
  /** Where the inputs go, for people: `local API at http://127.0.0.1:8710` or a Clarifai URL. */
  target: string;
  /** `true` when nothing will be sent. */
  dryRun: boolean;
  /** The journal's path, when there is one. */
  journal?: string;
  /** Totals from a pre-count, when one was cheap. */
  total?: { inputs: number; bytes: number };
  /** Inputs the journal already records as uploaded (skipped without reading). */
  resumed?: number;
}

/** A record refused by validation, never sent. */
export interface RejectedEvent {
  /** Discriminant. */
  type: "rejected";
  /** Where the record came from. */
  location: string;
  /** Why it was refused. */
  reason: string;
  /** Its input ID, when known. */
  id?: string;
}

/** A file passed over on purpose. */
export interface SkippedEvent {
  /** Discriminant. */
  type: "skipped";
  /** Where the file is. */
  location: string;
  /** Why it was passed over. */
  reason: string;
}

/** A batch of inputs the server accepted (or, in a dry run, a batch that would be sent). */
export interface BatchEvent {
  /** Discriminant. */
  type: "batch";
  /** Sequence number of the batch in this run, from 1. */
  batch: number;
  /** The IDs of the inputs accepted. */
  ids: string[];
  /** Content bytes of the accepted inputs. */
  bytes: number;
  /** Requests it took (1 when nothing was retried). */
  attempts: number;
  /**
   * The inputs-add jobs that track the batch's processing, one per request it took (an input
   * accepted on a retry, or stored by a request whose answer was lost, is in an earlier one).
   */
  jobIds?: string[];
  /** Annotations posted with the batch's inputs, when there were any. */
  annotations?: number;
}

/** An input (or one of its annotations) that failed. */
export interface FailedEvent {
  /** Discriminant. */
  type: "failed";
  /** The input ID. */
  id: string;
  /** Where the record came from. */
  location: string;
  /** The input's kind. */
  kind?: InputKind;
  /** What failed. */
  stage: FailureStage;
  /** Clarifai's status code name, when the server gave one (`INPUT_DUPLICATE`). */
  code?: string;
  /** Why, in words. */
  reason: string;
  /** Requests it took. */
  attempts: number;
  /**
   * Set on a processing failure of an input this run found on the server instead of sending it
   * (counted present until then): whether the server's copy carried the same content digest.
   */
  present?: "verified" | "unverified";
}

/** Counts so far, emitted after each batch and periodically. */
export interface ProgressCountsEvent {
  /** Discriminant. */
  type: "progress";
  /** Counts by outcome. */
  counts: UploadCounts;
  /** Content bytes sent so far. */
  bytes: number;
  /** Milliseconds since the start. */
  elapsedMs: number;
  /** Totals from a pre-count, when known. */
  total?: { inputs: number; bytes: number };
}

/** Processing progress while waiting for the server to process the inputs (`--wait`). */
export interface ProcessingEvent {
  /** Discriminant. */
  type: "processing";
  /** Inputs not processed yet. */
  pending: number;
  /** Inputs processed successfully. */
  succeeded: number;
  /** Inputs that failed processing. */
  failed: number;
}

/**
 * The dataset version made when the upload ended (`createVersion`): its status as it changes,
 * and at least every few seconds while the server works on it; the last one is `ready` (with
 * the metrics), `failed` or `timed out`.
 */
export interface VersionEvent {
  /** Discriminant. */
  type: "version";
  /** The version's ID. */
  id: string;
  /** The dataset's ID. */
  datasetId: string;
  /** Where it stands. */
  status: "pending" | "in progress" | DatasetVersionResult["status"];
  /** Milliseconds since the version was asked for. */
  elapsedMs: number;
  /** Its metrics, when ready. */
  metrics?: DatasetVersionMetrics;
  /** What went wrong, when it failed or timed out. */
  error?: string;
}

/** The run ended: the summary. Always the last event. */
export interface DoneEvent {
  /** Discriminant. */
  type: "done";
  /** The summary. */
  summary: UploadSummary;
}

/** Every event of an upload run. */
export type ProgressEvent =
  | StartEvent
  | RejectedEvent
  | SkippedEvent
  | BatchEvent
  | FailedEvent
  | ProgressCountsEvent
  | ProcessingEvent
  | VersionEvent
  | DoneEvent;

/**
 * Returns a fresh set of zero counts.
 *
 * @returns Counts with every field 0.
 *
 * @example Usage
 * ```ts
 * import { zeroCounts } from "./progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(zeroCounts().uploaded, 0);
 * ```
 */
export function zeroCounts(): UploadCounts {
  return {
    uploaded: 0,
    alreadyUploaded: 0,
    present: 0,
    presentUnverified: 0,
    failed: 0,
    rejected: 0,
    skipped: 0,
    annotations: 0,
    annotationsFailed: 0,
    retries: 0,
  };
}

/**
 * Reads a stream of progress events to its end and returns the summary of its `done` event.
 *
 * @param events The event stream of an upload.
 * @param onEvent Called with every event, in order.
 * @returns The summary.
 * @throws {Error} When the stream ends without a `done` event.
 *
 * @example Usage
 * ```ts
 * import { type ProgressEvent, summaryOf } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const done: ProgressEvent = {
 *   type: "done",
 *   summary: {
 *     runId: "r1", dryRun: true, batches: 0, bytes: 0, durationMs: 1,
 *     inputsPerSecond: 0, megabytesPerSecond: 0, uploaded: 0, alreadyUploaded: 0, present: 0,
 *     presentUnverified: 0,
 *     failed: 0, rejected: 0, skipped: 0, annotations: 0, annotationsFailed: 0, retries: 0,
 *   },
 * };
 * const summary = await summaryOf(ReadableStream.from([done]));
 * assertEquals(summary.runId, "r1");
 * ```
 */
export async function summaryOf(
  events: ReadableStream<ProgressEvent>,
  onEvent?: (event: ProgressEvent) => void,
): Promise<UploadSummary> {
  let summary: UploadSummary | undefined;
  for await (const event of events) {
    onEvent?.(event);
    if (event.type === "done") summary = event.summary;
  }
  if (!summary) throw new Error("The upload ended without a summary");
  return summary;
}
