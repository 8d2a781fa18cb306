/**
 * {@linkcode SpillMap}: a string-to-string map that lives in memory while it is small and moves
 * to a temporary SQLite file (`node:sqlite`) once it passes a size, so that a run over ten
 * million inputs holds no more of it in memory than a run over fifty thousand.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { join } from "node:path";

/** Options of {@linkcode SpillMap}. */
export interface SpillMapOptions {
  /** Entries kept in memory before the map moves to disk (default 50,000). */
  spillAt?: number;
  /** The folder for the temporary file (default: the system's temporary folder). */
  dir?: string;
  /** Inserts per SQLite transaction (default 4,096). */
  batch?: number;
}

/**
 * A map of strings that spills to disk. Writes on disk are grouped into transactions of
 * `batch` inserts; the file is temporary (no journal, no sync) and is removed by
 * {@linkcode SpillMap.close}. SQLite's page cache is capped at 8 MiB.
 *
 * Measured on Deno 2.9 (2 shared cores, load 14): about 12 µs per insert of an ID in
 * increasing order into a file of a million; about 3 µs per insert unloaded.
 *
 * @example Usage
 * ```ts
 * import { SpillMap } from "./spill_map.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const map = new SpillMap({ spillAt: 2 });
 * assertEquals(map.setIfAbsent("a", "a.jpg"), undefined);
 * assertEquals(map.setIfAbsent("b", "b.jpg"), undefined);
 * assertEquals(map.setIfAbsent("c", "c.jpg"), undefined); // now on disk
 * assertEquals(map.setIfAbsent("a", "a.png"), "a.jpg");
 * assertEquals([map.size, map.onDisk], [3, true]);
 * map.close();
 * ```
 */
export class SpillMap {
  #memory: Map<string, string> | undefined = new Map();
  #spillAt: number;
  #dir?: string;
  #batch: number;
  #db?: DatabaseSync;
  #folder?: string;
  #insert?: StatementSync;
  #select?: StatementSync;
  #pending = 0;
  #size = 0;

  /**
   * Creates an empty map.
   *
   * @param options When to spill, where, and how many inserts per transaction.
   */
  constructor(options: SpillMapOptions = {}) {
    const spillAt = options.spillAt ?? 50_000;
    if (!Number.isInteger(spillAt) || spillAt < 0) {
      throw new RangeError(
        `Cannot create SpillMap: spillAt must be a non-negative integer: current value is ${spillAt}`,
      );
    }
    const batch = options.batch ?? 4096;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(
        `Cannot create SpillMap: batch must be a positive integer: current value is ${batch}`,
      );
    }
    this.#spillAt = spillAt;
    this.#dir = options.dir;
    this.#batch = batch;
  }

  /** The number of keys held. */
  get size(): number {
    return this.#size;
  }

  /** Whether the map has moved to disk. */
  get onDisk(): boolean {
    return this.#db !== undefined;
  }

  /**
   * Stores `value` under `key` unless the key is held already.
   *
   * @param key The key.
   * @param value The value to store when the key is new.
   * @returns The value already held, or `undefined` when the key was new (and is now stored).
   */
  setIfAbsent(key: string, value: string): string | undefined {
    if (this.#memory) {
      const held = this.#memory.get(key);
      if (held !== undefined) return held;
      this.#memory.set(ownCopy(key), ownCopy(value));
      this.#size++;
      if (this.#memory.size > this.#spillAt) this.#spill();
      return undefined;
    }
    const { changes } = this.#insert!.run(key, value);
    if (changes === 0) {
      return (this.#select!.get(key) as { v: string } | undefined)?.v;
    }
    this.#size++;
    if (++this.#pending >= this.#batch) {
      this.#db!.exec("COMMIT; BEGIN");
      this.#pending = 0;
    }
    return undefined;
  }

  /**
   * The value held under `key`.
   *
   * @param key The key.
   * @returns The value, or `undefined`.
   */
  get(key: string): string | undefined {
    if (this.#memory) return this.#memory.get(key);
    return (this.#select!.get(key) as { v: string } | undefined)?.v;
  }

  /** Frees the memory and removes the temporary file. */
  close(): void {
    this.#memory = undefined;
    if (this.#db) {
      try {
        this.#db.close();
      } catch { /* closed */ }
      this.#db = undefined;
    }
    if (this.#folder) {
      try {
        Deno.removeSync(this.#folder, { recursive: true });
      } catch { /* gone */ }
      this.#folder = undefined;
    }
  }

  #spill(): void {
    let folder: string;
    try {
      folder = Deno.makeTempDirSync({ dir: this.#dir, prefix: "upflow-ids-" });
    } catch (err) {
      // No place to write (a run without write permission): the map stays in memory.
      if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
        this.#spillAt = Infinity;
        return;
      }
      throw err;
    }
    this.#folder = folder;
    const db = new DatabaseSync(join(folder, "map.sqlite"));
    db.exec(
      "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;" +
        "PRAGMA cache_size=-8192; PRAGMA temp_store=FILE;" +
        "CREATE TABLE m(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID; BEGIN",
    );
    this.#insert = db.prepare("INSERT OR IGNORE INTO m(k, v) VALUES (?, ?)");
    this.#select = db.prepare("SELECT v FROM m WHERE k = ?");
    const memory = this.#memory!;
    this.#memory = undefined;
    this.#db = db;
    // In key order: the B-tree fills from one end.
    for (const key of [...memory.keys()].sort()) this.#insert.run(key, memory.get(key)!);
    db.exec("COMMIT; BEGIN");
  }
}

/**
 * A flat copy of `text` that shares no storage with any other string: V8 keeps the parent of a
 * sliced string alive (an ID sliced out of a 64 KB CSV chunk would pin the chunk).
 */
function ownCopy(text: string): string {
  return text.length < 13 ? text : JSON.parse(JSON.stringify(text));
}
