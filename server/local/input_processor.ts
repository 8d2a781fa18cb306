/**
 * The local API's background processing: inputs are stored `INPUT_PENDING` and a timer moves
 * them to `INPUT_SUCCESS` or `INPUT_FAILED`, sniffing content bytes by their magic numbers (an
 * image that is not an image fails) and applying the `fail-input` fault. URL inputs succeed
 * unfetched (these machines have no network), unless `fetchUrls` is on: then each URL is fetched
 * as Clarifai would (see `checkUrlContent`) and an input whose URL cannot be fetched, or is not
 * the kind it claims, ends `INPUT_FAILED` with the reason.
 *
 * @module
 */
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import type { FaultInjector } from "./faults.ts";
import { localStatus } from "./local_status.ts";
import { type ContentKind, contentMismatchReason } from "./sniff_content.ts";
import type { LocalStore, PendingInput } from "./store.ts";
import { fromBinary } from "@bufbuild/protobuf";
import { DataSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
import { checkUrlContent, type UrlContentOutcome } from "./fetch_url_content.ts";

/** Options of {@linkcode InputProcessor}. */
export interface InputProcessorOptions {
  /** Milliseconds between storing inputs and processing them (default 0). */
  delayMs?: number;
  /** Inputs processed per transaction (default 512). */
  batchSize?: number;
  /** Fetch URL inputs as Clarifai does, and fail those that cannot be fetched (default off). */
  fetchUrls?: boolean;
  /** The `fetch` used for URL inputs (default the global one). */
  fetch?: typeof fetch;
}

/** URL inputs fetched at once. */
const FETCHES_AT_ONCE = 8;

/** The URL of a stored input's content, when it was given by URL. */
function urlOf(kind: string, data: Uint8Array): string | undefined {
  const parsed = fromBinary(DataSchema, data);
  const url = kind === "image"
    ? parsed.image?.url
    : kind === "video"
    ? parsed.video?.url
    : kind === "audio"
    ? parsed.audio?.url
    : parsed.text?.url;
  return url ? url : undefined;
}

/**
 * Processes pending inputs in the background, in batches, one transaction per batch.
 *
 * @example Process a stored input
 * ```ts
 * import { InputProcessor } from "./input_processor.ts";
 * import { LocalStore } from "./store.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const app = store.appKey("me", "demo");
 * store.blobs.put("h", new TextEncoder().encode("not an image"));
 * store.inputs.insert({
 *   app, id: "a", kind: "image", data: new Uint8Array(), contentHash: "h", contentSize: 12,
 *   statusCode: 30001, statusDescription: "Download pending", statusDetails: "",
 *   createdAt: 1, modifiedAt: 1, jobId: "j",
 * });
 * const processor = new InputProcessor(store, new FaultInjector());
 * processor.kick();
 * await processor.idle();
 * assertEquals(store.inputs.get(app, "a")?.statusCode, 30002);
 * processor.close();
 * store.close();
 * ```
 */
export class InputProcessor {
  #store: LocalStore;
  #faults: FaultInjector;
  #delayMs: number;
  #batchSize: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #fetchUrls: boolean;
  #fetch?: typeof fetch;
  /** A run is fetching URLs (the run is asynchronous then). */
  #running = false;
  #closed = false;
  #waiters: (() => void)[] = [];

  /**
   * Creates a processor; call {@linkcode InputProcessor.prototype.kick} to start it.
   *
   * @param store The store.
   * @param faults The fault injector (`fail-input`).
   * @param options Delay and batch size.
   */
  constructor(store: LocalStore, faults: FaultInjector, options: InputProcessorOptions = {}) {
    const { delayMs = 0, batchSize = 512 } = options;
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) {
      throw new RangeError(
        `Cannot create InputProcessor: delayMs must be a number of at least 0: current value is ${delayMs}`,
      );
    }
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new RangeError(
        `Cannot create InputProcessor: batchSize must be a positive integer: current value is ${batchSize}`,
      );
    }
    this.#store = store;
    this.#faults = faults;
    this.#delayMs = delayMs;
    this.#batchSize = batchSize;
    this.#fetchUrls = options.fetchUrls ?? false;
    this.#fetch = options.fetch;
  }

  /** Schedules a run (if none is scheduled) after the configured delay. */
  kick(): void {
    if (this.#closed || this.#timer !== undefined || this.#running) return;
    this.#timer = setTimeout(() => this.#run(), this.#delayMs);
  }

  /**
   * Resolves when no input is pending (immediately when none is).
   *
   * @returns A promise.
   */
  idle(): Promise<void> {
    if (
      this.#timer === undefined && !this.#running && this.#store.inputs.pending(1).length === 0
    ) {
      return Promise.resolve();
    }
    this.kick();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops processing; pending inputs stay pending (they are processed after a restart). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  #run(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const batch = this.#store.inputs.pending(this.#batchSize);
    if (!this.#fetchUrls) return this.#settle(batch, new Map());
    this.#running = true;
    this.#fetchAll(batch).then((fetched) => {
      this.#running = false;
      if (!this.#closed) this.#settle(batch, fetched);
    });
  }

  /** Fetches the URL inputs of a batch, a few at a time. */
  async #fetchAll(batch: PendingInput[]): Promise<Map<number, UrlContentOutcome>> {
    const outcomes = new Map<number, UrlContentOutcome>();
    const todo: { seq: number; url: string; kind: ContentKind }[] = [];
    for (const input of batch) {
      if (input.contentHash !== null) continue;
      const row = this.#store.inputs.get(input.app, input.id);
      const url = row === undefined ? undefined : urlOf(input.kind, row.data);
      if (url !== undefined) todo.push({ seq: input.seq, url, kind: input.kind as ContentKind });
    }
    const next = async () => {
      for (let item = todo.shift(); item !== undefined; item = todo.shift()) {
        if (this.#closed) return;
        outcomes.set(item.seq, await checkUrlContent(item.url, item.kind, { fetch: this.#fetch }));
      }
    };
    await Promise.all(Array.from({ length: FETCHES_AT_ONCE }, next));
    return outcomes;
  }

  /** Gives each input of a batch its outcome, in one transaction. */
  #settle(batch: PendingInput[], fetched: Map<number, UrlContentOutcome>): void {
    if (batch.length > 0) {
      const now = Date.now();
      const ok = localStatus(StatusCode.INPUT_SUCCESS);
      const failed = localStatus(StatusCode.INPUT_FAILED);
      this.#store.transaction(() => {
        for (const input of batch) {
          let reason: string | undefined;
          if (input.contentHash !== null) {
            const head = this.#store.blobs.head(input.contentHash, 16) ?? new Uint8Array();
            reason = contentMismatchReason(input.kind as ContentKind, head);
          }
          const outcome = fetched.get(input.seq);
          if (outcome !== undefined && !outcome.ok) reason = outcome.details;
          if (reason === undefined && this.#faults.takeFailInput()) {
            reason = "processing failed (fail-input fault)";
          }
          if (reason === undefined) {
            this.#store.inputs.setStatus(input.seq, { ...ok, details: "" }, now);
          } else {
            this.#store.inputs.setStatus(input.seq, { ...failed, details: reason }, now);
          }
        }
      });
    }
    if (batch.length === this.#batchSize) {
      this.#timer = setTimeout(() => this.#run(), 0);
    } else {
      for (const resolve of this.#waiters.splice(0)) resolve();
    }
  }
}
