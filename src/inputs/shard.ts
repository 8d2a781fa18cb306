/**
 * Shards: `--shard K/N` splits one upload over N processes (a Kubernetes Indexed Job, a Slurm or
 * AWS Batch array), each uploading the inputs whose ID hashes to its index K. The hash is the
 * first four bytes of the SHA-256 of the ID's UTF-8 bytes, read as a big-endian unsigned
 * integer, modulo N: stable across runs, machines and versions, and the same whatever the source
 * (folder, CSV, annotation formats), so the N shards are disjoint and cover every input.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { DraftOrRejection } from "./input_draft.ts";

/** One shard of N: `index` from 0 to `count - 1`. */
export interface Shard {
  /** This shard's index, from 0. */
  index: number;
  /** The number of shards. */
  count: number;
}

/** The most shards an upload can be split into. */
export const MAX_SHARDS = 100_000;

/**
 * Parses `K/N` (K from 0 to N - 1).
 *
 * @param text The shard, as given: `"3/8"`.
 * @returns The shard.
 * @throws {RangeError} When the text is not `K/N` with integers 0 ≤ K < N ≤ 100,000.
 *
 * @example Usage
 * ```ts
 * import { parseShard } from "@upflow/upflow";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(parseShard("3/8"), { index: 3, count: 8 });
 * assertThrows(() => parseShard("8/8"), RangeError);
 * ```
 */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (
    !match || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 ||
    count > MAX_SHARDS || index >= count
  ) {
    throw new RangeError(
      `a shard must be K/N with N from 1 to ${MAX_SHARDS} and K from 0 to N-1 (e.g. 0/4): got ${
        JSON.stringify(text)
      }`,
    );
  }
  return { index, count };
}

/**
 * The shard a key belongs to among `count`.
 *
 * @param key An input ID (or, for a record with no ID, its location).
 * @param count The number of shards.
 * @returns The shard index, from 0 to `count - 1`.
 *
 * @example Usage
 * ```ts
 * import { shardOf } from "./shard.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(shardOf("cat_01", 1), 0);
 * assertEquals(shardOf("cat_01", 4), shardOf("cat_01", 4));
 * ```
 */
export function shardOf(key: string, count: number): number {
  if (count === 1) return 0;
  const digest = createHash("sha256").update(key).digest();
  return digest.readUInt32BE(0) % count;
}

/**
 * Passes only this shard's items: drafts by their ID, rejections by their ID (or, with none,
 * their location), skips by their location, so each record is reported by exactly one shard.
 *
 * @example Keep shard 0 of 2
 * ```ts
 * import { ShardStream, shardOf } from "./shard.ts";
 * import type { DraftOrRejection } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const items: DraftOrRejection[] = ["a", "b", "c", "d"].map((id) => ({
 *   type: "draft",
 *   draft: { id, kind: "text", content: { type: "raw", text: id }, location: id, concepts: [] },
 * }));
 * const stream = new ShardStream({ index: 0, count: 2 });
 * const kept = await Array.fromAsync(ReadableStream.from(items).pipeThrough(stream));
 * assertEquals(
 *   kept.map((i) => i.type === "draft" ? i.draft.id : ""),
 *   ["a", "b", "c", "d"].filter((id) => shardOf(id, 2) === 0),
 * );
 * assertEquals(stream.passedOver, 4 - kept.length);
 * ```
 */
export class ShardStream extends TransformStream<DraftOrRejection, DraftOrRejection> {
  #passedOver = { n: 0 };

  /**
   * Creates the filter.
   *
   * @param shard This shard.
   * @throws {RangeError} When the shard is out of range.
   */
  constructor(shard: Shard) {
    const { index, count } = shard;
    if (
      !Number.isInteger(count) || count < 1 || count > MAX_SHARDS || !Number.isInteger(index) ||
      index < 0 || index >= count
    ) {
      throw new RangeError(
        `Cannot create ShardStream: the shard must have 1 <= count <= ${MAX_SHARDS} and 0 <= index < count: current value is ${index}/${count}`,
      );
    }
    const passedOver = { n: 0 };
    super({
      transform(item, controller) {
        const key = item.type === "draft"
          ? item.draft.id
          : item.type === "rejected"
          ? item.rejection.id || item.rejection.location
          : item.skip.location;
        if (shardOf(key, count) === index) controller.enqueue(item);
        else passedOver.n++;
      },
    });
    this.#passedOver = passedOver;
  }

  /** The items passed over so far: other shards' inputs. */
  get passedOver(): number {
    return this.#passedOver.n;
  }
}
