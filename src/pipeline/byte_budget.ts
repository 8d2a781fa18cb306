/**
 * {@linkcode ByteBudget}: the bytes of content the pipeline may hold at once, from the moment the
 * load stage reads a file until the upload stage has its answer. The load stage acquires before
 * reading; the upload stage releases when a batch's request is done.
 *
 * @module
 */

/**
 * The default budget for `concurrency` requests of up to `maxBatchBytes` each: three quarters
 * of what those requests hold when full, `concurrency × maxBatchBytes`, and at least one full
 * request. The quarter left is for what the transport holds besides: the copies of the bytes
 * being written, which are collected later. Measured on 19 MB images (50 MB videos) to the
 * discard server, peak RSS with budgets of 64, 96 and 128 MiB: 199, 206 and 250 MiB (185, 236
 * and 224 MiB), of which about 70 MiB is the runtime; the bound to keep is
 * `concurrency × maxBatchBytes + 100 MB`. 96 MiB still holds two 50 MB videos at once.
 *
 * @param concurrency Requests in flight at once.
 * @param maxBatchBytes The largest request, in bytes.
 * @returns The budget in bytes.
 *
 * @example Usage
 * ```ts
 * import { defaultByteBudget } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(defaultByteBudget(4, 32 * 1024 * 1024), 96 * 1024 * 1024);
 * assertEquals(defaultByteBudget(1, 32 * 1024 * 1024), 32 * 1024 * 1024);
 * ```
 */
export function defaultByteBudget(concurrency: number, maxBatchBytes: number): number {
  return Math.max(maxBatchBytes, Math.floor(concurrency * maxBatchBytes * 3 / 4));
}

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/**
 * A counter of bytes held against a limit. {@linkcode ByteBudget.acquire} waits, first come first
 * served, until the bytes fit; a request larger than the whole budget is let through once nothing
 * else is held (it is then held alone). While an acquire waits, the `onWait` listeners are called
 * once: a stage that holds a partial batch flushes it, so that the bytes can move on and come
 * back.
 *
 * @example Two reads of 60 bytes in a budget of 100: the second waits for the first's release
 * ```ts
 * import { ByteBudget } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const budget = new ByteBudget(100);
 * await budget.acquire(60);
 * let second = false;
 * const waiting = budget.acquire(60).then(() => second = true);
 * await Promise.resolve();
 * assertEquals(second, false);
 * budget.release(60);
 * await waiting;
 * assertEquals([second, budget.held], [true, 60]);
 * ```
 */
export class ByteBudget {
  /** The limit in bytes. */
  readonly limit: number;
  #held = 0;
  #peak = 0;
  #waiters: Waiter[] = [];
  #onWait = new Set<() => void>();

  /**
   * Creates a budget.
   *
   * @param limit The limit in bytes, a positive integer.
   * @throws {RangeError} When `limit` is not a positive integer.
   *
   * @example Usage
   * ```ts
   * import { ByteBudget } from "@upflow/upflow";
   * import { assertThrows } from "@std/assert";
   *
   * new ByteBudget(128 * 1024 * 1024);
   * assertThrows(() => new ByteBudget(0), RangeError);
   * ```
   */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create ByteBudget: limit must be a positive integer: current value is ${limit}`,
      );
    }
    this.limit = limit;
  }

  /**
   * The bytes held now.
   *
   * @example Usage
   * ```ts
   * import { ByteBudget } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const budget = new ByteBudget(10);
   * await budget.acquire(4);
   * assertEquals(budget.held, 4);
   * ```
   */
  get held(): number {
    return this.#held;
  }

  /**
   * Whether an acquire is waiting for room.
   *
   * @example Usage
   * ```ts
   * import { ByteBudget } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const budget = new ByteBudget(10);
   * await budget.acquire(10);
   * const next = budget.acquire(1);
   * assertEquals(budget.waiting, true);
   * budget.release(10);
   * await next;
   * assertEquals(budget.waiting, false);
   * ```
   */
  get waiting(): boolean {
    return this.#waiters.length > 0;
  }

  /**
   * The most bytes held at once so far.
   *
   * @example Usage
   * ```ts
   * import { ByteBudget } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const budget = new ByteBudget(10);
   * await budget.acquire(4);
   * budget.release(4);
   * assertEquals(budget.peak, 4);
   * ```
   */
  get peak(): number {
    return this.#peak;
  }

  /**
   * Waits until `bytes` fit in the budget (or, for more than the whole budget, until nothing else
   * is held), then holds them.
   *
   * @param bytes How many bytes, 0 or more.
   * @param signal Stops waiting: the promise rejects with the signal's reason.
   * @returns When the bytes are held.
   *
   * @example Usage
   * ```ts
   * import { ByteBudget } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const budget = new ByteBudget(10);
   * await budget.acquire(25); // more than the budget: held alone
   * assertEquals(budget.held, 25);
   * ```
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#waiters.length === 0 && this.#fits(bytes)) {
      this.#take(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject };
      this.#waiters.push(waiter);
      if (signal) {
        const abort = () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(signal.reason);
          this.#grant();
        };
        signal.addEventListener("abort", abort, { once: true });
        const done = () => signal.removeEventListener("abort", abort);
        waiter.resolve = () => (done(), resolve());
      }
      for (const listener of this.#onWait) listener();
    });
  }

  /**
   * Gives back bytes held, and lets waiting acquires through.
   *
   * @param bytes How many bytes.
   *
   * @example Usage
   * ```ts
   * import { ByteBudget } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const budget = new ByteBudget(10);
   * await budget.acquire(6);
   * budget.release(6);
   * assertEquals(budget.held, 0);
   * ```
   */
  release(bytes: number): void {
    if (bytes <= 0) return;
    this.#held = Math.max(0, this.#held - bytes);
    this.#grant();
  }

  /**
   * Calls `listener` whenever an acquire starts to wait; returns a function that removes it.
   *
   * @param listener Called with no arguments.
   * @returns Removes the listener.
   *
   * @example Usage
   * ```ts
   * import { ByteBudget } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const budget = new ByteBudget(10);
   * let waits = 0;
   * budget.onWait(() => waits++);
   * await budget.acquire(10);
   * const second = budget.acquire(1);
   * budget.release(10);
   * await second;
   * assertEquals(waits, 1);
   * ```
   */
  onWait(listener: () => void): () => void {
    this.#onWait.add(listener);
    return () => this.#onWait.delete(listener);
  }

  #fits(bytes: number): boolean {
    return this.#held === 0 || this.#held + bytes <= this.limit;
  }

  #take(bytes: number): void {
    this.#held += bytes;
    if (this.#held > this.#peak) this.#peak = this.#held;
  }

  #grant(): void {
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0].bytes)) {
      const waiter = this.#waiters.shift()!;
      this.#take(waiter.bytes);
      waiter.resolve();
    }
  }
}
