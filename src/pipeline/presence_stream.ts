/**
 * {@linkcode PresenceStream}: the server is the source of truth. Before any media bytes are
 * read, the drafts' IDs are looked up on the server a page at a time (ListInputs by IDs), and
 * what is there already is not sent again: it is verified by the content digest upflow records
 * with each input, reported as present, and passed over; a different content under the same ID
 * is a conflict, reported at the local file's location.
 *
 * Presence does not judge processing: an input the server holds is present whatever its
 * processing status (pending, failed). The callbacks get the server's copy, so that a run that
 * waits for processing hands those not processed successfully to its processing wait, which
 * reports a failure the same way whichever run stored the input.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { V2 } from "../gen/clarifai/api/service_pb.ts";
import type { ClarifaiInput, V2Client } from "../clarifai/api_types.ts";
import type { Input, UserAppIDSet } from "../gen/clarifai/api/resources_pb.ts";
import { UserAppIDSetSchema } from "../gen/clarifai/api/resources_pb.ts";
import type { DraftOrRejection, InputDraft } from "../inputs/input_draft.ts";
import { draftDigest, recordedDigest } from "../inputs/content_digest.ts";
import { invalidIdReason } from "../inputs/ids.ts";
import { classifyStatus } from "../clarifai/status_codes.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
import { RetryPolicy, withRetry } from "../clarifai/retry_policy.ts";
import { callerRetries } from "../clarifai/retry_interceptor.ts";
import type { RateLimiter } from "../clarifai/rate_limiter.ts";

/**
 * What to do with an input whose ID the server holds already: `skip` it (counted as present;
 * a different content under the ID is a conflict), `fail` it (sent, so the server's duplicate
 * answer reports it; `PresenceStream` is not used then), or upload it under a `new-id` derived
 * from its content (`<id>-<8 hex of its digest>`, so a re-run finds that one present) unless the
 * server's copy has the same digest.
 */
export type ExistingPolicy = "skip" | "fail" | "new-id";

/** The policies, for option checks. */
export const EXISTING_POLICIES: readonly ExistingPolicy[] = ["skip", "fail", "new-id"];

/** Options of {@linkcode PresenceStream}. */
export interface PresenceStreamOptions {
  /** A Connect client of `clarifai.api.V2`. */
  client: V2Client;
  /** The user and app the inputs go to. */
  userAppId?: { userId: string; appId: string };
  /** What to do with inputs the server holds (default `skip`). */
  existing?: Exclude<ExistingPolicy, "fail">;
  /**
   * IDs per ListInputs call, 1..1000 (default 1000, the most a ListInputs page holds: a bare
   * re-run makes one call per 1,000 inputs, about an eighth of the PostInputs calls that
   * uploaded them).
   */
  pageSize?: number;
  /** Lookups in flight, 1..16 (default 2). */
  concurrency?: number;
  /**
   * Ask the server for its input count first and check nothing when the app is empty (default
   * true): only this run can add the inputs it is about to send.
   */
  skipWhenEmpty?: boolean;
  /** Retry policy of the lookups. */
  retry?: RetryPolicy;
  /** The rate limiter shared with the upload, if any. */
  rateLimiter?: RateLimiter;
  /** Stops the lookups. */
  signal?: AbortSignal;
  /**
   * Called for each input found present and not sent: `verified` when the server's copy carries
   * the same content digest, false when it carries none; `held` is the server's copy, as listed
   * (its `status` says where its processing stands: the presence check does not judge it, a
   * processing wait does). The calls of a page are made at once and awaited together before the
   * page's other drafts are passed on.
   */
  onPresent?: (draft: InputDraft, verified: boolean, held: ClarifaiInput) => void | Promise<void>;
  /**
   * Called for each input found present that has regions or frames (awaited, with the page's
   * other callbacks, before the page is passed on), with the server's copy: it is passed on
   * all the same, so that the upload confirms it and posts the annotations the server lacks
   * (their IDs derive from their content, so none is stored twice). Record it, before the
   * upload sees it, as the run's own (a journal line), or its duplicate answer is a failure.
   */
  onPresentAnnotated?: (draft: InputDraft, held: ClarifaiInput) => void | Promise<void>;
  /** Called for each retry of a lookup (for counting). */
  onRetry?: () => void;
  /** The digest of a draft's content (default: {@linkcode draftDigest}). */
  digest?: (draft: InputDraft) => Promise<string>;
}

/**
 * A `TransformStream` of drafts that passes on only the drafts to send. Rejections and skips
 * pass through. If a lookup fails after its retries, its drafts are passed on unchecked (the
 * upload then reports any that exist as duplicates); a fatal outcome errors the stream.
 *
 * @example An input the server holds with the same content is not sent again
 * ```ts
 * import { PresenceStream } from "@upflow/upflow";
 * import { DIGEST_KEY, digestOf } from "../inputs/content_digest.ts";
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { V2 } from "../gen/clarifai/api/service_pb.ts";
 * import { type DraftOrRejection, StatusCode } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const url = (id: string) => `https://example.com/${id}.jpg`;
 * const held = new Map([["a", digestOf(url("a"))]]);
 * const client = createClient(V2, createRouterTransport(({ service }) => {
 *   service(V2, {
 *     getInputCount: () => ({ status: { code: StatusCode.SUCCESS }, counts: { processed: 1 } }),
 *     listInputs: (req) => ({
 *       status: { code: StatusCode.SUCCESS },
 *       inputs: req.ids.filter((id) => held.has(id)).map((id) => ({
 *         id, data: { metadata: { [DIGEST_KEY]: held.get(id)! } },
 *       })),
 *     }),
 *   });
 * }));
 * const items: DraftOrRejection[] = ["a", "b"].map((id) => ({
 *   type: "draft",
 *   draft: { id, kind: "image", content: { type: "url", url: url(id) }, location: id, concepts: [] },
 * }));
 * const present: string[] = [];
 * const out = await Array.fromAsync(ReadableStream.from(items).pipeThrough(
 *   new PresenceStream({ client, onPresent: (d, verified) => { if (verified) present.push(d.id); } }),
 * ));
 * assertEquals(out.map((i) => i.type === "draft" ? i.draft.id : i.type), ["b"]);
 * assertEquals(present, ["a"]);
 * ```
 */
export class PresenceStream extends TransformStream<DraftOrRejection, DraftOrRejection> {
  /**
   * Creates the presence check.
   *
   * @param options The client, the policy and the limits.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(options: PresenceStreamOptions) {
    const pageSize = options.pageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new RangeError(
        `Cannot create PresenceStream: pageSize must be an integer from 1 to 1000: current value is ${pageSize}`,
      );
    }
    const concurrency = options.concurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
      throw new RangeError(
        `Cannot create PresenceStream: concurrency must be an integer from 1 to 16: current value is ${concurrency}`,
      );
    }
    const existing = options.existing ?? "skip";
    if (existing !== "skip" && existing !== "new-id") {
      throw new RangeError(
        `Cannot create PresenceStream: existing must be skip or new-id: current value is ${
          JSON.stringify(existing)
        }`,
      );
    }
    const checker = new PresenceChecker(options, existing);
    const queue: Promise<DraftOrRejection[]>[] = [];
    let page: InputDraft[] = [];
    let active = true;

    const drain = async (
      controller: TransformStreamDefaultController<DraftOrRejection>,
      keep: number,
    ) => {
      while (queue.length > keep) {
        for (const item of await queue.shift()!) controller.enqueue(item);
      }
    };

    super({
      async start() {
        if (options.skipWhenEmpty ?? true) active = !(await checker.appIsEmpty());
      },
      async transform(item, controller) {
        if (item.type !== "draft" || !active) {
          controller.enqueue(item);
          return;
        }
        page.push(item.draft);
        if (page.length >= pageSize) {
          const full = page;
          page = [];
          const work = checker.check(full);
          work.catch(() => {}); // awaited in order by drain
          queue.push(work);
          await drain(controller, concurrency - 1);
        }
      },
      async flush(controller) {
        if (page.length > 0) queue.push(checker.check(page));
        page = [];
        await drain(controller, 0);
      },
    });
  }
}

/** The lookups and the decisions of {@linkcode PresenceStream}. */
class PresenceChecker {
  #client: Client<typeof V2>;
  #userAppId?: UserAppIDSet;
  #retry: RetryPolicy;
  #options: PresenceStreamOptions;
  #existing: "skip" | "new-id";
  #digest: (draft: InputDraft) => Promise<string>;

  constructor(options: PresenceStreamOptions, existing: "skip" | "new-id") {
    this.#client = options.client;
    this.#userAppId = options.userAppId ? create(UserAppIDSetSchema, options.userAppId) : undefined;
    this.#retry = options.retry ?? new RetryPolicy();
    this.#options = options;
    this.#existing = existing;
    this.#digest = options.digest ?? draftDigest;
  }

  /** Whether the app holds no inputs at all (false when that cannot be read). */
  async appIsEmpty(): Promise<boolean> {
    try {
      const response = await this.#call(
        (signal) =>
          this.#client.getInputCount({ userAppId: this.#userAppId }, callerRetries(signal)),
      );
      if (classifyStatus(response.status) !== "success") return false;
      // A successful answer without counts counts nothing.
      const c = response.counts;
      return !c || c.processed + c.toProcess + c.errors + c.processing === 0;
    } catch (err) {
      if (err instanceof FatalUploadError || this.#options.signal?.aborted) throw err;
      return false;
    }
  }

  #call<T extends { status?: { code: number } }>(
    fn: (signal?: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return withRetry(() => fn(this.#options.signal), this.#retry, {
      signal: this.#options.signal,
      rateLimiter: this.#options.rateLimiter,
      onRetry: () => this.#options.onRetry?.(),
    });
  }

  /** The inputs the server holds among `ids`, or `undefined` when that cannot be read. */
  async #lookup(ids: string[]): Promise<Map<string, Input> | undefined> {
    try {
      const response = await this.#call((signal) =>
        this.#client.listInputs({
          userAppId: this.#userAppId,
          ids,
          page: 1,
          perPage: ids.length,
        }, callerRetries(signal))
      );
      if (classifyStatus(response.status) !== "success") return undefined;
      return new Map(response.inputs.map((input) => [input.id, input]));
    } catch (err) {
      if (err instanceof FatalUploadError || this.#options.signal?.aborted) throw err;
      return undefined;
    }
  }

  /** Decides a page of drafts: the items to pass on. */
  async check(page: InputDraft[]): Promise<DraftOrRejection[]> {
    const held = await this.#lookup(page.map((d) => d.id));
    if (held === undefined) return page.map((draft) => ({ type: "draft", draft }));
    const out: DraftOrRejection[] = [];
    const renamed: InputDraft[] = [];
    // The callbacks of the page's present inputs, made at once and awaited together: a journal
    // gathers them into one write.
    const recording: (void | Promise<void>)[] = [];
    // The local digests of the page's present inputs, read at once (files are read here).
    const digests = await Promise.all(page.map(async (draft) => {
      const input = held.get(draft.id);
      if (!input) return undefined;
      if (recordedDigest(input.data?.metadata) === undefined && this.#existing === "skip") {
        return "";
      }
      try {
        return await this.#digest(draft);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    }));
    for (const [i, draft] of page.entries()) {
      const input = held.get(draft.id);
      if (!input) {
        out.push({ type: "draft", draft });
        continue;
      }
      const recorded = recordedDigest(input.data?.metadata);
      const local = digests[i]!;
      if (local instanceof Error) {
        out.push(
          this.#reject(draft, `cannot read it to compare with the server's copy: ${local.message}`),
        );
        continue;
      }
      if (recorded !== undefined && recorded === local) {
        recording.push(this.#present(draft, input, true, out));
        continue;
      }
      if (this.#existing === "skip") {
        if (recorded === undefined) recording.push(this.#present(draft, input, false, out));
        else {
          out.push(this.#reject(
            draft,
            `conflict: the server holds input ${JSON.stringify(draft.id)} with other content ` +
              `(${recorded.slice(0, 19)}…, here ${local.slice(0, 19)}…); ` +
              "upload it under a new ID (existing inputs: new-id) or delete the server's copy",
          ));
        }
        continue;
      }
      // new-id: under an ID derived from the content, so a re-run finds the same one.
      const id = `${draft.id}-${local.slice(7, 15)}`;
      const invalid = invalidIdReason(id);
      if (invalid) out.push(this.#reject(draft, `cannot derive a new ID: ${invalid}`));
      else renamed.push({ ...draft, id });
    }
    if (renamed.length > 0) {
      const again = await this.#lookup(renamed.map((d) => d.id));
      for (const draft of renamed) {
        const input = again?.get(draft.id);
        if (input && recordedDigest(input.data?.metadata) === await this.#digest(draft)) {
          recording.push(this.#present(draft, input, true, out));
        } else if (input) {
          out.push(this.#reject(
            draft,
            `conflict: the server holds input ${
              JSON.stringify(draft.id)
            } already, with other content`,
          ));
        } else out.push({ type: "draft", draft });
      }
    }
    await Promise.all(recording);
    return out;
  }

  /** Calls the draft's callback (its result is awaited before `out` is passed on). */
  #present(
    draft: InputDraft,
    held: Input,
    verified: boolean,
    out: DraftOrRejection[],
  ): void | Promise<void> {
    if (draft.regions?.length || draft.frames?.length) {
      out.push({ type: "draft", draft });
      return this.#options.onPresentAnnotated?.(draft, held);
    }
    return this.#options.onPresent?.(draft, verified, held);
  }

  #reject(draft: InputDraft, reason: string): DraftOrRejection {
    return { type: "rejected", rejection: { location: draft.location, id: draft.id, reason } };
  }
}
