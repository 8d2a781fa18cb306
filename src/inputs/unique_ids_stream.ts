/**
 * {@linkcode UniqueIdsStream}: input IDs must be unique within a run; later drafts that reuse an
 * ID become rejections that name the first place the ID came from.
 *
 * @module
 */
import type { DraftOrRejection } from "./input_draft.ts";
import { SpillMap } from "../journal/spill_map.ts";

/** Options of {@linkcode UniqueIdsStream}. */
export interface UniqueIdsStreamOptions {
  /** IDs remembered in memory before the index moves to a temporary file (default 50,000). */
  spillAt?: number;
  /** The folder for that file (default: the system's temporary folder). */
  dir?: string;
}

/**
 * Passes the first draft of each input ID and turns every later draft with the same ID into a
 * rejection at the later draft's location, whose reason names the first one's:
 * `duplicate input ID "cat_01": also produced by cats/cat_01.png`. Rejections and skips pass
 * through untouched.
 *
 * Memory: up to `spillAt` IDs (default 50,000) are remembered in a `Map`, holding flat copies of
 * the ID and of the first location (about 94 bytes per ID, measured); past that, the index moves
 * to a temporary SQLite file (a {@linkcode SpillMap}) with an 8 MiB page cache, so ten million
 * records cost what fifty thousand cost. The file is removed when the stream ends or is
 * cancelled.
 *
 * @example Usage
 * ```ts
 * import { type DraftOrRejection, UniqueIdsStream } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const draft = (id: string, location: string): DraftOrRejection => ({
 *   type: "draft",
 *   draft: { id, kind: "image", content: { type: "url", url: "https://example.com/a.jpg" }, location, concepts: [] },
 * });
 * const items = await Array.fromAsync(
 *   ReadableStream.from([draft("a", "a.jpg"), draft("a", "a.png"), draft("b", "b.jpg")])
 *     .pipeThrough(new UniqueIdsStream()),
 * );
 * assertEquals(items.map((item) => item.type), ["draft", "rejected", "draft"]);
 * assertEquals(items[1], {
 *   type: "rejected",
 *   rejection: {
 *     location: "a.png",
 *     id: "a",
 *     reason: 'duplicate input ID "a": also produced by a.jpg',
 *   },
 * });
 * ```
 */
export class UniqueIdsStream extends TransformStream<DraftOrRejection, DraftOrRejection> {
  #firstLocations: SpillMap;

  /**
   * Creates a stream that remembers each input ID it passes.
   *
   * @param options When the index moves to disk, and where.
   *
   * @example Usage
   * ```ts
   * import { UniqueIdsStream } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new UniqueIdsStream().idCount, 0);
   * ```
   */
  constructor(options: UniqueIdsStreamOptions = {}) {
    const firstLocations = new SpillMap(options);
    super({
      transform(item, controller) {
        if (item.type !== "draft") {
          controller.enqueue(item);
          return;
        }
        const { id, location } = item.draft;
        const first = firstLocations.setIfAbsent(id, location);
        if (first === undefined) {
          controller.enqueue(item);
          return;
        }
        controller.enqueue({
          type: "rejected",
          rejection: {
            location,
            id,
            reason: `duplicate input ID ${JSON.stringify(id)}: also produced by ${first}`,
          },
        });
      },
      flush() {
        firstLocations.close();
      },
      cancel() {
        firstLocations.close();
      },
    });
    this.#firstLocations = firstLocations;
  }

  /**
   * The number of distinct input IDs passed so far.
   *
   * @returns The count of IDs remembered.
   *
   * @example Usage
   * ```ts
   * import { UniqueIdsStream } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const stream = new UniqueIdsStream();
   * await Array.fromAsync(
   *   ReadableStream.from([
   *     { type: "draft" as const, draft: { id: "a", kind: "text" as const, content: { type: "raw" as const, text: "hi" }, location: "x.csv:2", concepts: [] } },
   *   ]).pipeThrough(stream),
   * );
   * assertEquals(stream.idCount, 1);
   * ```
   */
  get idCount(): number {
    return this.#firstLocations.size;
  }
}
