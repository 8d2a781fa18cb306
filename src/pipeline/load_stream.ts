/**
 * The load stage: {@linkcode LoadStream} reads each draft's content (lazily, a bounded number of
 * reads at a time, in order) and turns the draft into the protobuf `Input` to send.
 *
 * @module
 */
import type { DraftOrRejection, InputDraft, ObjectContent } from "../inputs/input_draft.ts";
import type { LoadedInput } from "./loaded_input.ts";
import { oversizeReason } from "../inputs/validate.ts";
import { toInput } from "../inputs/to_input.ts";
import { encodedInputSize } from "./encoded_size.ts";
import type { LoadedItem } from "./loaded_input.ts";
import { readWholeFile } from "./read_whole_file.ts";
import type { ByteBudget } from "./byte_budget.ts";

/** What {@linkcode LoadStreamOptions.stat} returns about a path. */
export interface FileStat {
  /** Size in bytes. */
  size: number;
  /** Whether the path is a regular file (after following symlinks). */
  isFile: boolean;
}

/**
 * Opens an object of an S3-compatible store for the load stage: its bytes (read now, the
 * object's ETag checked), or a URL the server fetches itself (a presigned GET URL).
 */
export type ObjectOpener = (
  content: ObjectContent,
  options: { signal: AbortSignal },
) => Promise<{ bytes: Uint8Array } | { url: string }>;

/** Options of {@linkcode LoadStream}. */
export interface LoadStreamOptions {
  /** How many files may be read at once, 1 to 64; default 4. */
  concurrency?: number;
  /**
   * Reads a whole file; default {@linkcode readWholeFile} (open, `stat`, read into one buffer of
   * that size). The signal aborts when the stream is cancelled. Tests inject their own to observe
   * reads.
   */
  readFile?: (
    path: string,
    options: { signal: AbortSignal; size?: number },
  ) => Promise<Uint8Array>;
  /** Returns a path's size and whether it is a file; default `Deno.stat`. */
  stat?: (path: string) => Promise<FileStat>;
  /**
   * Opens drafts whose content is an `object` (`s3://bucket/key`), with the same bounded,
   * lazy reads as files. Without one, such drafts are rejected.
   */
  openObject?: ObjectOpener;
  /**
   * The bytes the pipeline may hold: a file is read only once its size fits (in stream order;
   * one larger than the whole budget is read alone), and its loaded input carries the bytes
   * held in {@linkcode LoadedInput.heldBytes} for the stage that drops it to release. Without
   * one, only `concurrency` bounds the read-ahead.
   */
  budget?: ByteBudget;
}

/** Holds a file's bytes in the budget, in stream order, and gives them back. */
interface Hold {
  /** Waits for its turn and for the bytes to fit; returns the bytes held. */
  take(bytes: number, signal: AbortSignal): Promise<number>;
  /** Gives bytes back. */
  release(bytes: number): void;
}

interface Entry {
  done: boolean;
  item?: LoadedItem;
  settled: Promise<void>;
}

const MAX_CONCURRENCY = 64;
const utf8 = new TextEncoder();

/**
 * A `TransformStream` from drafts (and the rejections and skips among them) to loaded inputs.
 * For each draft with file content it stats the file first (or takes the size the source gave),
 * rejects it without reading when it is over Clarifai's limit for its kind, then reads it as the
 * reader downstream asks for more, at most `concurrency` reads in flight, and emits items in the
 * order they came. A missing or unreadable file, an empty file or text that is not UTF-8 becomes
 * a rejection with the draft's location and a reason; the stream goes on. Cancelling the stream
 * aborts the reads in flight and waits for them to end, so no file handle is left open.
 *
 * @example Load a text file and an inline text
 * ```ts
 * import { type DraftOrRejection, LoadStream } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello");
 * const drafts: DraftOrRejection[] = [
 *   {
 *     type: "draft",
 *     draft: {
 *       id: "a",
 *       kind: "text",
 *       content: { type: "file", path: `${dir}/a.txt` },
 *       location: "a.txt",
 *       concepts: [],
 *     },
 *   },
 *   {
 *     type: "draft",
 *     draft: {
 *       id: "b",
 *       kind: "text",
 *       content: { type: "file", path: `${dir}/missing.txt` },
 *       location: "missing.txt",
 *       concepts: [],
 *     },
 *   },
 * ];
 * const items = await Array.fromAsync(ReadableStream.from(drafts).pipeThrough(new LoadStream()));
 * assertEquals(items.map((item) => item.type), ["loaded", "rejected"]);
 * if (items[0].type === "loaded") assertEquals(items[0].loaded.input.data?.text?.raw, "hello");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LoadStream extends TransformStream<DraftOrRejection, LoadedItem> {
  /**
   * Creates a load stage.
   *
   * @param options The options.
   * @throws {RangeError} When `concurrency` is not an integer from 1 to 64.
   *
   * @example Usage
   * ```ts
   * import { LoadStream } from "@upflow/upflow";
   * import { assertThrows } from "@std/assert";
   *
   * new LoadStream({ concurrency: 8 });
   * assertThrows(() => new LoadStream({ concurrency: 0 }), RangeError);
   * ```
   */
  constructor(options: LoadStreamOptions = {}) {
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new RangeError(
        `Cannot create LoadStream: concurrency must be an integer from 1 to ${MAX_CONCURRENCY}: current value is ${concurrency}`,
      );
    }
    const readFile = options.readFile ?? readWholeFile;
    const stat = options.stat ?? Deno.stat;
    const abort = new AbortController();
    const queue: Entry[] = [];
    let controller: TransformStreamDefaultController<LoadedItem> | undefined;
    let closed = false;

    // Emits the settled items at the head of the queue, in order.
    const pump = () => {
      while (!closed && queue.length > 0 && queue[0].done) {
        const entry = queue.shift()!;
        try {
          controller!.enqueue(entry.item!);
        } catch {
          closed = true; // The readable side was cancelled or errored meanwhile.
        }
      }
    };

    const push = (work: Promise<LoadedItem> | LoadedItem) => {
      const entry: Entry = { done: false, settled: Promise.resolve() };
      if (work instanceof Promise) {
        entry.settled = work.then((item) => {
          entry.item = item;
          entry.done = true;
          pump();
        });
      } else {
        entry.item = work;
        entry.done = true;
      }
      queue.push(entry);
      pump();
    };

    // Bytes are held in stream order: each load waits for the one before it to have its bytes
    // (or to need none), so a later, smaller file never takes the room an earlier one waits
    // for, and the items ahead of a waiting load can always move on and release theirs.
    let turn = Promise.resolve();
    const load = (draft: InputDraft) => {
      let hold: Hold | undefined;
      let done = () => {};
      const budget = options.budget;
      if (budget) {
        const before = turn;
        turn = new Promise<void>((resolve) => done = resolve);
        hold = {
          take: async (bytes, signal) => {
            try {
              await before;
              await budget.acquire(bytes, signal);
              return bytes;
            } finally {
              done();
            }
          },
          release: (bytes) => budget.release(bytes),
        };
      }
      return (draft.content.type === "object"
        ? loadObject(draft, draft.content, options.openObject, abort.signal, hold)
        : loadDraft(draft, readFile, stat, abort.signal, hold))
        .catch((error) => reject(draft, error))
        .finally(done);
    };

    super({
      start(c) {
        controller = c;
      },
      async transform(item) {
        if (item.type !== "draft") {
          push(item);
        } else if (item.draft.content.type === "file" || item.draft.content.type === "object") {
          push(load(item.draft));
        } else {
          push(loadInline(item.draft));
        }
        // Bounded read-ahead: wait for the oldest item before taking more drafts.
        while (queue.length >= concurrency) await queue[0].settled;
      },
      async flush() {
        while (queue.length > 0) await queue[0].settled;
        closed = true;
      },
      async cancel() {
        closed = true;
        abort.abort();
        await Promise.all(queue.map((entry) => entry.settled));
        queue.length = 0;
      },
    });
  }
}

function rejected(draft: InputDraft, reason: string): LoadedItem {
  return { type: "rejected", rejection: { location: draft.location, reason, id: draft.id } };
}

function reject(draft: InputDraft, error: unknown): LoadedItem {
  return rejected(draft, error instanceof Error ? error.message : String(error));
}

function loaded(
  draft: InputDraft,
  bytes: Uint8Array | undefined,
  contentBytes: number,
  heldBytes = 0,
): LoadedItem {
  const input = toInput(draft, bytes);
  const loaded: LoadedInput = {
    draft,
    input,
    encodedSize: encodedInputSize(input),
    contentBytes,
  };
  if (heldBytes > 0) loaded.heldBytes = heldBytes;
  return { type: "loaded", loaded };
}

/**
 * Holds `size` bytes (when there is a budget), runs `read`, and gives the bytes back at once
 * unless it yields a loaded input, which then carries them.
 */
async function holding(
  size: number,
  hold: Hold | undefined,
  signal: AbortSignal,
  read: (held: number) => Promise<LoadedItem>,
): Promise<LoadedItem> {
  const held = hold ? await hold.take(size, signal) : 0;
  let item: LoadedItem | undefined;
  try {
    item = await read(held);
    return item;
  } finally {
    if (held > 0 && item?.type !== "loaded") hold!.release(held);
  }
}

function loadInline(draft: InputDraft): LoadedItem {
  try {
    const content = draft.content;
    let size = 0;
    if (content.type === "bytes") {
      size = content.bytes.length;
      if (size === 0) return rejected(draft, `the ${draft.kind} content is empty (0 bytes)`);
    } else if (content.type === "raw") {
      size = utf8.encode(content.text).length;
    }
    const tooBig = oversizeReason(draft.kind, size);
    if (tooBig !== undefined) return rejected(draft, tooBig);
    return loaded(draft, undefined, size);
  } catch (error) {
    return reject(draft, error);
  }
}

async function loadDraft(
  draft: InputDraft,
  readFile: (
    path: string,
    options: { signal: AbortSignal; size?: number },
  ) => Promise<Uint8Array>,
  stat: (path: string) => Promise<FileStat>,
  signal: AbortSignal,
  hold?: Hold,
): Promise<LoadedItem> {
  if (draft.content.type !== "file") return loadInline(draft);
  const path = draft.content.path;
  let size = draft.content.size;
  if (size === undefined) {
    let info: FileStat;
    try {
      info = await stat(path);
    } catch (error) {
      return rejected(draft, fileErrorReason(path, error));
    }
    if (!info.isFile) return rejected(draft, `${path} is not a file`);
    size = info.size;
  }
  if (size === 0) return rejected(draft, `the file ${path} is empty (0 bytes)`);
  const tooBig = oversizeReason(draft.kind, size);
  if (tooBig !== undefined) return rejected(draft, tooBig);
  if (signal.aborted) return rejected(draft, "the upload was cancelled");
  const known = size;
  return holding(known, hold, signal, async (held) => {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path, { signal, size: known });
    } catch (error) {
      return rejected(draft, fileErrorReason(path, error));
    }
    // The file may have changed since it was listed.
    if (bytes.length === 0) return rejected(draft, `the file ${path} is empty (0 bytes)`);
    const grown = oversizeReason(draft.kind, bytes.length);
    if (grown !== undefined) return rejected(draft, grown);
    try {
      return loaded(draft, bytes, bytes.length, held);
    } catch (error) {
      return reject(draft, error);
    }
  });
}

async function loadObject(
  draft: InputDraft,
  content: ObjectContent,
  open: ObjectOpener | undefined,
  signal: AbortSignal,
  hold?: Hold,
): Promise<LoadedItem> {
  if (open === undefined) {
    return rejected(draft, `no object store is configured to read ${content.url}`);
  }
  if (content.size === 0) return rejected(draft, `the object ${content.url} is empty (0 bytes)`);
  const tooBig = content.size === undefined ? undefined : oversizeReason(draft.kind, content.size);
  if (tooBig !== undefined) return rejected(draft, tooBig);
  if (signal.aborted) return rejected(draft, "the upload was cancelled");
  // An object of unknown size holds nothing before it is opened.
  return await holding(content.size ?? 0, hold, signal, async (held) => {
    let opened: { bytes: Uint8Array } | { url: string };
    try {
      opened = await open(content, { signal });
    } catch (error) {
      if (signal.aborted) return rejected(draft, "the upload was cancelled");
      throw error;
    }
    if ("url" in opened) {
      // Sent as a URL: the draft keeps the object's s3:// address (the journal never sees the
      // presigned URL), the input carries the URL. It holds no bytes.
      hold?.release(held);
      const input = toInput({ ...draft, content: { type: "url", url: opened.url } });
      return {
        type: "loaded",
        loaded: { draft, input, encodedSize: encodedInputSize(input), contentBytes: 0 },
      };
    }
    const bytes = opened.bytes;
    if (bytes.length === 0) return rejected(draft, `the object ${content.url} is empty (0 bytes)`);
    const grown = oversizeReason(draft.kind, bytes.length);
    if (grown !== undefined) return rejected(draft, grown);
    return loaded(draft, bytes, bytes.length, held);
  });
}

function fileErrorReason(path: string, error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return `file not found: ${path}`;
  if (error instanceof Deno.errors.PermissionDenied) {
    return `permission denied reading ${path}`;
  }
  if (error instanceof Deno.errors.IsADirectory) return `${path} is not a file`;
  if (error instanceof DOMException && error.name === "AbortError") {
    return "the upload was cancelled";
  }
  const message = error instanceof Error ? error.message : String(error);
  return `cannot read ${path}: ${message}`;
}
