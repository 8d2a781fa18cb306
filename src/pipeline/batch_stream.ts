/**
 * The batch stage: {@linkcode BatchStream} groups loaded inputs into `PostInputs` requests bounded
 * by count and by exact encoded bytes.
 *
 * @module
 */
import type { Rejection, Skip } from "../inputs/input_draft.ts";
import { lengthDelimitedFieldSize } from "./encoded_size.ts";
import type { LoadedInput, LoadedItem } from "./loaded_input.ts";
import type { ByteBudget } from "./byte_budget.ts";

/** A group of inputs to send in one `PostInputs` request. */
export interface Batch {
  /** Discriminant. */
  type: "batch";
  /** The inputs, in stream order. */
  inputs: LoadedInput[];
  /**
   * The exact encoded size of a `PostInputsRequest` holding these inputs, including
   * {@linkcode BatchStreamOptions.requestOverheadBytes}.
   */
  encodedBytes: number;
}

/** An item of the batch stage's output: a batch, or a rejection or skip passed through. */
export type BatchItem =
  | Batch
  | { type: "rejected"; rejection: Rejection }
  | { type: "skipped"; skip: Skip };

/** Options of {@linkcode BatchStream}. */
export interface BatchStreamOptions {
  /** At most this many inputs per batch, 1 to 128; default 32. */
  batchSize?: number;
  /**
   * At most this many encoded bytes per request, from 1 KiB to 128 MiB; default 32 MiB: well
   * under Clarifai's 128 MB request limit, above its 20 MB image limit, and measured faster
   * than 64 MiB (smaller requests overlap better) with less memory in flight.
   */
  maxBatchBytes?: number;
  /**
   * The encoded size of the request's other fields (`user_app_id`, `inputs_add_job_id`, ...),
   * counted in every batch; default 0. See `requestOverheadBytes()` in `encoded_size.ts`.
   */
  requestOverheadBytes?: number;
  /**
   * The load stage's byte budget, if any: the batch being filled is sent as it is whenever a
   * read waits for room, or starts to (its bytes would otherwise wait for inputs that cannot be
   * read), and the bytes of an input rejected here are given back.
   */
  budget?: ByteBudget;
}

const MIB = 1024 * 1024;
const MAX_BATCH_SIZE = 128;
const MIN_BATCH_BYTES = 1024;
const MAX_BATCH_BYTES = 128 * MIB;

/** The default {@linkcode BatchStreamOptions.maxBatchBytes}: 32 MiB. */
export const DEFAULT_MAX_BATCH_BYTES = 32 * MIB;

/**
 * The largest request a lone video may make, whatever `maxBatchBytes` says: a video travels
 * alone, and Clarifai accepts videos under 128 MB as bytes. 128,000,000 bytes: the decimal
 * reading of "128 MB", the safe one.
 */
export const MAX_VIDEO_REQUEST_BYTES = 128_000_000;

/**
 * A `TransformStream` that groups loaded inputs into batches of at most `batchSize` inputs and
 * at most `maxBatchBytes` encoded request bytes, in order. A video flushes the batch being
 * filled and travels alone (Clarifai takes one video per request), in a request of up to
 * {@linkcode MAX_VIDEO_REQUEST_BYTES} even when `maxBatchBytes` is lower. An input too large to
 * fit in any request is rejected with its size, not sent. Rejections and skips pass through at once,
 * ahead of the batch being filled.
 *
 * @example Batches of two
 * ```ts
 * import { BatchStream, type LoadedItem } from "@upflow/upflow";
 * import { toInput } from "../inputs/to_input.ts";
 * import { encodedInputSize } from "./encoded_size.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const items: LoadedItem[] = ["a", "b", "c"].map((id) => {
 *   const draft = {
 *     id,
 *     kind: "text" as const,
 *     content: { type: "raw" as const, text: id },
 *     location: id,
 *     concepts: [],
 *   };
 *   const input = toInput(draft);
 *   return {
 *     type: "loaded",
 *     loaded: { draft, input, encodedSize: encodedInputSize(input), contentBytes: 1 },
 *   };
 * });
 * const batches = await Array.fromAsync(
 *   ReadableStream.from(items).pipeThrough(new BatchStream({ batchSize: 2 })),
 * );
 * assertEquals(
 *   batches.map((b) => b.type === "batch" ? b.inputs.map((l) => l.input.id) : []),
 *   [["a", "b"], ["c"]],
 * );
 * ```
 */
export class BatchStream extends TransformStream<LoadedItem, BatchItem> {
  /**
   * Creates a batch stage.
   *
   * @param options The options.
   * @throws {RangeError} When an option is out of range.
   *
   * @example Usage
   * ```ts
   * import { BatchStream } from "@upflow/upflow";
   * import { assertThrows } from "@std/assert";
   *
   * new BatchStream({ batchSize: 128, maxBatchBytes: 16 * 1024 * 1024 });
   * assertThrows(
   *   () => new BatchStream({ batchSize: 0 }),
   *   RangeError,
   *   "Cannot create BatchStream: batchSize must be an integer from 1 to 128: current value is 0",
   * );
   * ```
   */
  constructor(options: BatchStreamOptions = {}) {
    const batchSize = options.batchSize ?? 32;
    const maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    const overhead = options.requestOverheadBytes ?? 0;
    checkInteger("batchSize", batchSize, 1, MAX_BATCH_SIZE);
    checkInteger("maxBatchBytes", maxBatchBytes, MIN_BATCH_BYTES, MAX_BATCH_BYTES);
    checkInteger("requestOverheadBytes", overhead, 0, maxBatchBytes - 1);

    let pending: LoadedInput[] = [];
    let pendingBytes = overhead;
    const budget = options.budget;
    let stopWatching = () => {};

    const flush = (controller: TransformStreamDefaultController<BatchItem>) => {
      if (pending.length === 0) return;
      const inputs = pending;
      pending = [];
      try {
        controller.enqueue({ type: "batch", inputs, encodedBytes: pendingBytes });
      } finally {
        pendingBytes = overhead;
      }
    };

    super({
      start(controller) {
        if (budget) {
          stopWatching = budget.onWait(() => {
            try {
              flush(controller);
            } catch {
              stopWatching(); // the stream is closed or errored
            }
          });
        }
      },
      transform(item, controller) {
        if (item.type !== "loaded") {
          controller.enqueue(item);
          return;
        }
        const loaded = item.loaded;
        const fieldBytes = lengthDelimitedFieldSize(loaded.encodedSize);
        const isVideo = loaded.draft.kind === "video";
        const limit = isVideo ? Math.max(maxBatchBytes, MAX_VIDEO_REQUEST_BYTES) : maxBatchBytes;
        if (overhead + fieldBytes > limit) {
          budget?.release(loaded.heldBytes ?? 0);
          controller.enqueue({
            type: "rejected",
            rejection: {
              location: loaded.draft.location,
              id: loaded.draft.id,
              reason: `the input is ${mb(overhead + fieldBytes)} encoded: more than the ${
                mb(limit)
              } a request may hold (${isVideo ? "a video's request limit" : "maxBatchBytes"})`,
            },
          });
          return;
        }
        if (isVideo) {
          flush(controller);
          controller.enqueue({
            type: "batch",
            inputs: [loaded],
            encodedBytes: overhead + fieldBytes,
          });
          return;
        }
        if (pendingBytes + fieldBytes > maxBatchBytes) flush(controller);
        pending.push(loaded);
        pendingBytes += fieldBytes;
        // A read waiting for room may be waiting for this batch's bytes: send it as it is.
        if (pending.length >= batchSize || budget?.waiting) flush(controller);
      },
      flush(controller) {
        stopWatching();
        flush(controller);
      },
    });
  }
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create BatchStream: ${name} must be an integer from ${min} to ${max}: current value is ${value}`,
    );
  }
}

function mb(bytes: number): string {
  return bytes < MIB ? `${bytes} bytes` : `${(bytes / MIB).toFixed(1)} MB`;
}
