/**
 * The local API's content bytes, stored once per SHA-256: as files in `<data>/blobs/`, or in the
 * database for a store in memory. Files keep large uploads out of SQLite's journal, which wrote
 * every byte twice.
 *
 * A blob exists through its row, never through its file alone, and a file is written whole
 * before the transaction that adds its row commits: a file without a row (left by a crash or a
 * rolled-back request) is never read, and is written over when the same content comes again. So
 * no blob is ever visible half-written. Small contents are written straight under their final
 * name inside the transaction; contents from {@linkcode STAGED_BYTES} up are written before it
 * ({@linkcode BlobStore.prototype.stage}: `node:fs/promises`, a chunk at a time, so other
 * requests go on between the chunks) under a temporary name, renamed in it. The row keeps the content's first {@linkcode HEAD_BYTES} bytes, so processing sniffs a
 * format without opening the file.
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
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SqliteDb } from "./sqlite_db.ts";

/** How many of a content's first bytes its row keeps (for sniffing without the file). */
export const HEAD_BYTES = 64;

/** Contents of at least this many bytes are written before the transaction, asynchronously. */
export const STAGED_BYTES = 1024 * 1024;

/**
 * The table's schema: which hashes exist, with their bytes when kept in the database, or the
 * first {@linkcode HEAD_BYTES} of them when kept in a file (none in stores written before).
 */
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
   * Whether content with this hash is stored.
   *
   * @param hash SHA-256 hex.
   * @returns `true` when it is.
   */
  has(hash: string): boolean {
    return this.#db.sql("SELECT 1 FROM blobs WHERE hash = ?").get(hash) !== undefined;
  }

  /**
   * Writes large content under a temporary name ahead of its transaction (a chunk at a time,
   * other requests going on between the chunks), unless it is small, already stored or kept in
   * the database. Pass the name to
   * {@linkcode BlobStore.prototype.put}, and {@linkcode BlobStore.prototype.unstage} it once
   * the transaction is over (it is gone by then when `put` used it).
   *
   * @param hash SHA-256 hex of `bytes`.
   * @param bytes The content.
   * @returns The temporary file, or `undefined` when nothing was written.
   */
  async stage(hash: string, bytes: Uint8Array): Promise<string | undefined> {
    if (this.#dir === undefined || bytes.length < STAGED_BYTES || this.has(hash)) return undefined;
    const temp = `${this.#path(hash)}.${crypto.randomUUID()}.tmp`;
    try {
      await writeFile(temp, bytes);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    return temp;
  }

  /**
   * Removes a staged file that no `put` used (a no-op for one it used).
   *
   * @param staged The name {@linkcode BlobStore.prototype.stage} returned, if any.
   */
  unstage(staged: string | undefined): void {
    if (staged !== undefined) rmSync(staged, { force: true });
  }

  /**
   * Stores content bytes under their hash (once): call it inside the transaction that records
   * their use.
   *
   * @param hash SHA-256 hex of `bytes`.
   * @param bytes The content.
   * @param staged The content already written by {@linkcode BlobStore.prototype.stage}.
   */
  put(hash: string, bytes: Uint8Array, staged?: string): void {
    const insert = this.#db.sql("INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)");
    if (this.#dir === undefined) {
      insert.run(hash, bytes);
      return;
    }
    if (Number(insert.run(hash, bytes.subarray(0, HEAD_BYTES)).changes) === 0) return;
    const path = this.#path(hash);
    if (staged !== undefined) renameSync(staged, path);
    else writeFileSync(path, bytes);
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
    const memory = this.#dir === undefined;
    const row = this.#db.sql("SELECT substr(bytes, 1, ?) AS head FROM blobs WHERE hash = ?")
      .get(memory ? length : Math.min(length, HEAD_BYTES), hash);
    if (row === undefined) return undefined;
    const kept = (row.head ?? new Uint8Array(0)) as Uint8Array; // SQLite: NULL for an empty blob
    // A file's row keeps its first HEAD_BYTES (all of a shorter content; none from before).
    if (memory || (kept.length > 0 && (kept.length === length || kept.length < HEAD_BYTES))) {
      return kept;
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
