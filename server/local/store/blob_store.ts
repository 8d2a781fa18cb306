/**
 * The local API's content bytes, stored once per SHA-256: as files in `<data>/blobs/` (written
 * whole under a temporary name, then renamed), or in the database for a store in memory. Files
 * keep large uploads out of SQLite's journal, which wrote every byte twice.
 *
 * @module
 */
import {
  closeSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { SqliteDb } from "./sqlite_db.ts";

/** The table's schema: which hashes exist (and their bytes when kept in the database). */
export const BLOBS_SCHEMA = `
CREATE TABLE IF NOT EXISTS blobs (
  hash TEXT PRIMARY KEY,
  bytes BLOB NOT NULL
);
`;

/**
 * Content bytes by SHA-256.
 *
 * @example Store and read bytes
 * ```ts
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * store.blobs.put("h1", new Uint8Array([1, 2, 3]));
 * assertEquals(store.blobs.get("h1"), new Uint8Array([1, 2, 3]));
 * assertEquals(store.blobs.head("h1", 2), new Uint8Array([1, 2]));
 * store.close();
 * ```
 */
export class BlobStore {
  #db: SqliteDb;
  #dir: string | undefined;

  /**
   * Wraps the shared database.
   *
   * @param db The database (with {@linkcode BLOBS_SCHEMA} applied).
   * @param dir The folder of blob files, or `undefined` to keep bytes in the database.
   */
  constructor(db: SqliteDb, dir: string | undefined) {
    this.#db = db;
    this.#dir = dir;
  }

  #path(hash: string): string {
    return join(this.#dir!, hash);
  }

  /**
   * Stores content bytes under their hash (once).
   *
   * @param hash SHA-256 hex of `bytes`.
   * @param bytes The content.
   */
  put(hash: string, bytes: Uint8Array): void {
    const insert = this.#db.sql("INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)");
    if (this.#dir === undefined) {
      insert.run(hash, bytes);
      return;
    }
    if (Number(insert.run(hash, new Uint8Array(0)).changes) === 0) return;
    const path = this.#path(hash);
    const temp = `${path}.${crypto.randomUUID()}.tmp`;
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  }

  /**
   * Reads content bytes by hash.
   *
   * @param hash SHA-256 hex.
   * @returns The bytes, or `undefined`.
   */
  get(hash: string): Uint8Array | undefined {
    const row = this.#db.sql("SELECT bytes FROM blobs WHERE hash = ?").get(hash);
    if (row === undefined) return undefined;
    if (this.#dir === undefined) return row.bytes as Uint8Array;
    try {
      return new Uint8Array(readFileSync(this.#path(hash)));
    } catch {
      return undefined;
    }
  }

  /**
   * Reads the first bytes of stored content (enough to sniff its format).
   *
   * @param hash SHA-256 hex.
   * @param length How many bytes.
   * @returns The bytes, or `undefined`.
   */
  head(hash: string, length: number): Uint8Array | undefined {
    if (this.#dir === undefined) {
      const row = this.#db.sql("SELECT substr(bytes, 1, ?) AS head FROM blobs WHERE hash = ?")
        .get(length, hash);
      return row === undefined ? undefined : row.head as Uint8Array;
    }
    if (this.#db.sql("SELECT 1 FROM blobs WHERE hash = ?").get(hash) === undefined) {
      return undefined;
    }
    let fd: number | undefined;
    try {
      fd = openSync(this.#path(hash), "r");
      const head = new Uint8Array(length);
      const n = readSync(fd, head, 0, length, 0);
      return head.subarray(0, n);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /**
   * Forgets a hash (its row); call {@linkcode BlobStore.prototype.removeFiles} once the
   * transaction committed.
   *
   * @param hash SHA-256 hex.
   * @returns `true` when it was stored.
   */
  forget(hash: string): boolean {
    return Number(this.#db.sql("DELETE FROM blobs WHERE hash = ?").run(hash).changes) > 0;
  }

  /**
   * Deletes the files of forgotten hashes.
   *
   * @param hashes SHA-256 hex values.
   */
  removeFiles(hashes: string[]): void {
    if (this.#dir === undefined) return;
    for (const hash of hashes) rmSync(this.#path(hash), { force: true });
  }
}
