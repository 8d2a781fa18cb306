/**
 * Buffers for whole request messages, reused from one request to the next. Fresh memory is what
 * a large message costs most on this kind of machine: the first write of each page faults it in,
 * about 180 ms for 50 MB, where copying 50 MB into memory already touched takes 3 ms.
 * So the buffer a message is gathered into comes back here once the message has been consumed,
 * and the next message of a similar size is gathered into the same pages. Buffers idle for a few
 * seconds are let go, so an idle local API does not hold the memory of its last upload.
 *
 * @module
 */

/** Messages smaller than this get a buffer of their own (small allocations are cheap). */
const MIN_POOLED_BYTES = 64 * 1024;

/** Options of {@linkcode MessageBuffers}. */
export interface MessageBuffersOptions {
  /** The most bytes kept for reuse (default 256 MiB). */
  maxKeptBytes?: number;
  /** Milliseconds without any use after which the kept buffers are let go (default 5000). */
  idleMs?: number;
}

/**
 * A small pool of byte buffers: {@linkcode MessageBuffers.prototype.take} one of at least a size,
 * {@linkcode MessageBuffers.prototype.give} it back once nothing reads it any more.
 *
 * @example Reuse a buffer
 * ```ts
 * import { MessageBuffers } from "./message_buffers.ts";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const buffers = new MessageBuffers();
 * const first = buffers.take(100_000);
 * assertEquals(first.length, 100_000);
 * buffers.give(first);
 * const second = buffers.take(120_000);
 * assert(second.buffer === first.buffer, "the same memory, gathered again");
 * buffers.close();
 * ```
 */
export class MessageBuffers {
  #free: Uint8Array[] = [];
  #keptBytes = 0;
  #maxKeptBytes: number;
  #idleMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates an empty pool.
   *
   * @param options How much it keeps, and for how long.
   */
  constructor(options: MessageBuffersOptions = {}) {
    const { maxKeptBytes = 256 * 1024 * 1024, idleMs = 5000 } = options;
    if (!(Number.isInteger(maxKeptBytes) && maxKeptBytes >= 0)) {
      throw new RangeError(
        `Cannot create MessageBuffers: maxKeptBytes must be an integer of at least 0: current value is ${maxKeptBytes}`,
      );
    }
    if (!(Number.isFinite(idleMs) && idleMs >= 0)) {
      throw new RangeError(
        `Cannot create MessageBuffers: idleMs must be a number of at least 0: current value is ${idleMs}`,
      );
    }
    this.#maxKeptBytes = maxKeptBytes;
    this.#idleMs = idleMs;
  }

  /**
   * A buffer of exactly `size` bytes (a view of a kept buffer when one is large enough). Its
   * content is whatever was there before: the caller overwrites it.
   *
   * @param size The bytes needed.
   * @returns The buffer.
   */
  take(size: number): Uint8Array {
    if (size < MIN_POOLED_BYTES) return new Uint8Array(size);
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const length = this.#free[i].length;
      if (length >= size && (best < 0 || length < this.#free[best].length)) best = i;
    }
    this.#touch();
    if (best < 0) return new Uint8Array(new ArrayBuffer(roundUp(size)), 0, size);
    const [kept] = this.#free.splice(best, 1);
    this.#keptBytes -= kept.length;
    return kept.subarray(0, size);
  }

  /**
   * Takes a buffer back for reuse: call it only once nothing reads the buffer any more.
   *
   * @param buffer A buffer from {@linkcode MessageBuffers.prototype.take}.
   */
  give(buffer: Uint8Array): void {
    const whole = new Uint8Array(buffer.buffer);
    if (whole.length < MIN_POOLED_BYTES || whole.length > this.#maxKeptBytes) return;
    this.#free.push(whole);
    this.#keptBytes += whole.length;
    // Over the limit: let the smallest go first (the large ones cost most to fault in again).
    this.#free.sort((a, b) => b.length - a.length);
    while (this.#keptBytes > this.#maxKeptBytes) this.#keptBytes -= this.#free.pop()!.length;
    this.#touch();
  }

  /** Lets every kept buffer go and stops the idle timer. */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#free = [];
    this.#keptBytes = 0;
  }

  /** (Re)starts the idle timer, which does not keep the process alive. */
  #touch(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const timer = setTimeout(() => this.close(), this.#idleMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}

/** The size a new pooled buffer gets: the next power of two, so similar sizes share buffers. */
function roundUp(size: number): number {
  return Math.max(size, 2 ** Math.ceil(Math.log2(size)));
}
