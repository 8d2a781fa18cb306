/**
 * The local API's content bytes, stored once per SHA-256: in files under `<data>/blobs/`, or in
 * the database for a store in memory. Files keep large uploads out of SQLite's journal, which
 * wrote every byte twice.
 *
 * Contents under {@linkcode STAGED_BYTES} are packed: the new contents of one
 * {@linkcode BlobStore.prototype.putAll} (one request) go into one file, `pack-<uuid>`, each at
 * its offset. Creating a file costs the kernel about 0.15 to 0.5 ms here, more than everything
 * else the local API does for a 30 KB image. A pack file is deleted once no content in it is
 * used; until then, the space of its deleted contents stays taken. Larger contents have a file
 * of their own, named by their hash, written before the transaction
 * ({@linkcode BlobStore.prototype.stage}: `node:fs/promises`, a chunk at a time, so other
 * requests go on between the chunks) under a temporary name, and renamed in it.
 *
 * A blob exists through its row, never through a file alone, and its file is written whole
 * before the transaction that adds the row commits: a file no row points to (left by a crash or
 * a rolled-back request) is never read, and a content's own file is written over when the same
 * content comes again. So no blob is ever visible half-written. The row also keeps the content's
 * first {@linkcode HEAD_BYTES} bytes, so processing sniffs a format without opening a file.
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
  writeSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Row, SqliteDb } from "./sqlite_db.ts";

/** How many of a content's first bytes its row keeps (for sniffing without the file). */
export const HEAD_BYTES = 64;

/**
 * Contents of at least this many bytes get a file of their own, written before the transaction
 * (asynchronously); smaller ones are packed.
 */
export const STAGED_BYTES = 1024 * 1024;

/**
 * The table's schema: which hashes exist, with their bytes when kept in the database, or the
 * first {@linkcode HEAD_BYTES} of them when kept in a file (none in stores written before), and
 * where a packed content is. Stores written before packs get the columns when opened.
 */
export const BLOBS_SCHEMA = `
CREATE TABLE IF NOT EXISTS blobs (
  hash TEXT PRIMARY KEY,
  bytes BLOB NOT NULL,
  pack TEXT,
  pack_offset INTEGER,
  size INTEGER
);
`;

/** The prefix of pack file names (content files are named by their 64-hex-digit hash). */
const PACK_PREFIX = "pack-";

/** One content for {@linkcode BlobStore.prototype.putAll}. */
export interface BlobContent {
  /** SHA-256 hex of `bytes`. */
  hash: string;
  /** The content. */
  bytes: Uint8Array;
  /** The content already written by {@linkcode BlobStore.prototype.stage}, if it was. */
  staged?: string;
}

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
   * Wraps the shared database (adding the pack columns to a store written before them).
   *
   * @param db The database (with {@linkcode BLOBS_SCHEMA} applied).
   * @param dir The folder of blob files, or `undefined` to keep bytes in the database.
   */
  constructor(db: SqliteDb, dir: string | undefined) {
    this.#db = db;
    this.#dir = dir;
    const columns = db.sql("SELECT name FROM pragma_table_info('blobs')").all().map((r) => r.name);
    for (
      const [column, type] of [["pack", "TEXT"], ["pack_offset", "INTEGER"], ["size", "INTEGER"]]
    ) {
      if (!columns.includes(column)) db.sql(`ALTER TABLE blobs ADD COLUMN ${column} ${type}`).run();
    }
    db.sql("CREATE INDEX IF NOT EXISTS blobs_by_pack ON blobs (pack) WHERE pack IS NOT NULL").run();
  }

  #path(name: string): string {
    return join(this.#dir!, name);
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
   * the database. Pass the name to {@linkcode BlobStore.prototype.putAll}, and
   * {@linkcode BlobStore.prototype.unstage} it once the transaction is over (it is gone by then
   * when `putAll` used it).
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
   * Removes a staged file that no `putAll` used (a no-op for one it used).
   *
   * @param staged The name {@linkcode BlobStore.prototype.stage} returned, if any.
   */
  unstage(staged: string | undefined): void {
    if (staged !== undefined) rmSync(staged, { force: true });
  }

  /**
   * Stores contents under their hashes (each once; the first of a hash wins): call it inside
   * the transaction that records their use. The new small ones go into one pack file.
   *
   * @param contents The contents.
   */
  putAll(contents: BlobContent[]): void {
    const insert = this.#db.sql(
      "INSERT OR IGNORE INTO blobs (hash, bytes, pack, pack_offset, size) VALUES (?, ?, ?, ?, ?)",
    );
    const pack = `${PACK_PREFIX}${crypto.randomUUID()}`;
    const packed: Uint8Array[] = [];
    let offset = 0;
    for (const { hash, bytes, staged } of contents) {
      if (this.#dir === undefined) {
        insert.run(hash, bytes, null, null, bytes.length);
        continue;
      }
      const own = staged !== undefined || bytes.length >= STAGED_BYTES;
      const head = bytes.subarray(0, HEAD_BYTES);
      const added = insert.run(hash, head, own ? null : pack, own ? null : offset, bytes.length);
      if (Number(added.changes) === 0) continue;
      if (!own) {
        packed.push(bytes);
        offset += bytes.length;
      } else if (staged !== undefined) {
        renameSync(staged, this.#path(hash));
      } else {
        writeFileSync(this.#path(hash), bytes);
      }
    }
    if (packed.length > 0) this.#writePack(this.#path(pack), packed);
  }

  /** Writes a new pack file whole (a failed write leaves nothing behind). */
  #writePack(path: string, parts: Uint8Array[]): void {
    const fd = openSync(path, "wx");
    try {
      for (const part of parts) {
        for (let at = 0; at < part.length;) at += writeSync(fd, part, at, part.length - at);
      }
    } catch (error) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw error;
    }
    closeSync(fd);
  }

  /**
   * Stores content bytes under their hash (once): {@linkcode BlobStore.prototype.putAll} for one.
   *
   * @param hash SHA-256 hex of `bytes`.
   * @param bytes The content.
   * @param staged The content already written by {@linkcode BlobStore.prototype.stage}.
   */
  put(hash: string, bytes: Uint8Array, staged?: string): void {
    this.putAll([{ hash, bytes, staged }]);
  }

  /** Reads `length` bytes of a stored content from `start` (fewer at its end). */
  #read(hash: string, row: Row, start: number, length: number): Uint8Array | undefined {
    const packed = row.pack !== null && row.pack !== undefined;
    let fd: number | undefined;
    try {
      fd = openSync(this.#path(packed ? String(row.pack) : hash), "r");
      const size = row.size === null || row.size === undefined ? Infinity : Number(row.size);
      const want = Math.max(0, Math.min(length, size - start));
      const out = new Uint8Array(want);
      const base = (packed ? Number(row.pack_offset) : 0) + start;
      let got = 0;
      while (got < want) {
        const n = readSync(fd, out, got, want - got, base + got);
        if (n === 0) break;
        got += n;
      }
      return out.subarray(0, got);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /**
   * Reads content bytes by hash.
   *
   * @param hash SHA-256 hex.
   * @returns The bytes, or `undefined`.
   */
  get(hash: string): Uint8Array | undefined {
    const row = this.#db.sql("SELECT bytes, pack, pack_offset, size FROM blobs WHERE hash = ?")
      .get(hash);
    if (row === undefined) return undefined;
    if (this.#dir === undefined) return row.bytes as Uint8Array;
    if (row.pack !== null) return this.#read(hash, row, 0, Number(row.size));
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
    const row = this.#db.sql(
      "SELECT substr(bytes, 1, ?) AS head, pack, pack_offset, size FROM blobs WHERE hash = ?",
    ).get(memory ? length : Math.min(length, HEAD_BYTES), hash);
    if (row === undefined) return undefined;
    const kept = (row.head ?? new Uint8Array(0)) as Uint8Array; // SQLite: NULL for an empty blob
    // A file's row keeps its first HEAD_BYTES (all of a shorter content; none from before).
    if (memory || (kept.length > 0 && (kept.length === length || kept.length < HEAD_BYTES))) {
      return kept;
    }
    return this.#read(hash, row, 0, length);
  }

  /**
   * Forgets a hash (its row); pass what it returns to {@linkcode BlobStore.prototype.removeFiles}
   * once the transaction committed.
   *
   * @param hash SHA-256 hex.
   * @returns The file that held the content (its own, or its pack), or `undefined` when the
   * hash was not stored.
   */
  forget(hash: string): string | undefined {
    const row = this.#db.sql("DELETE FROM blobs WHERE hash = ? RETURNING pack").get(hash);
    if (row === undefined) return undefined;
    return row.pack === null ? hash : String(row.pack);
  }

  /**
   * Deletes the files of forgotten contents: their own, and packs no stored content is in.
   *
   * @param files What {@linkcode BlobStore.prototype.forget} returned.
   */
  removeFiles(files: string[]): void {
    if (this.#dir === undefined) return;
    const inPack = this.#db.sql("SELECT 1 FROM blobs WHERE pack = ? LIMIT 1");
    for (const file of new Set(files)) {
      if (file.startsWith(PACK_PREFIX) && inPack.get(file) !== undefined) continue;
      rmSync(this.#path(file), { force: true });
    }
  }
}
