/**
 * {@linkcode journalCounts}: what a journal (or the journals of a sharded upload) records, summed,
 * read from their on-disk indexes, never by holding a journal's lines in memory.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { indexJournal, Journal, journalHead } from "./journal.ts";

/** The counts a journal records. */
export interface JournalCounts {
  /** The journals read. */
  journals: string[];
  /** Inputs whose latest outcome is uploaded (or processed), including those found present. */
  uploaded: number;
  /** Failures and rejections of inputs still not uploaded. */
  failed: number;
  /** Runs recorded. */
  runs: number;
  /**
   * Journal bytes the counts leave out: lines a running upload has written but not indexed yet
   * (or that one which died wrote last); the next run over the journal indexes them.
   */
  unindexedBytes: number;
}

/** The files beside a journal that a pattern like `journals/*` also matches. */
const SIDE_FILE = /\.(index\.sqlite(-wal|-shm|-journal)?|lock)$/;

/**
 * The journals named by paths and patterns: `*`, `?` and `[…]` in a path's file name match as
 * in a shell, each pattern's matches in name order, the side files of journals
 * (`.index.sqlite`, `.lock`) left out.
 *
 * @param patterns Journal paths or glob patterns.
 * @returns The journals' paths.
 * @throws {Deno.errors.NotFound} When a path does not exist or a pattern matches nothing.
 *
 * @example The shards of one upload
 * ```ts
 * import { journalPaths } from "./journal_counts.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * for (const name of ["up-shard0of2.ndjson", "up-shard1of2.ndjson", "up-shard0of2.ndjson.lock"]) {
 *   await Deno.writeTextFile(`${dir}/${name}`, "");
 * }
 * assertEquals(journalPaths([`${dir}/up-shard*of2.ndjson*`]), [
 *   `${dir}/up-shard0of2.ndjson`,
 *   `${dir}/up-shard1of2.ndjson`,
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function journalPaths(patterns: string[]): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    if (!/[*?[]/.test(pattern)) {
      try {
        Deno.statSync(pattern);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) {
          throw new Deno.errors.NotFound(`no journal at ${pattern}`);
        }
        throw err;
      }
      out.push(pattern);
      continue;
    }
    const dir = dirname(pattern);
    const name = fileNamePattern(basename(pattern));
    let matches: string[] = [];
    try {
      matches = [...Deno.readDirSync(dir)]
        .filter((e) => !e.isDirectory && name.test(e.name) && !SIDE_FILE.test(e.name))
        .map((e) => join(dir, e.name)).sort();
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (matches.length === 0) throw new Deno.errors.NotFound(`no journal matches ${pattern}`);
    out.push(...matches);
  }
  return [...new Set(out)];
}

/** A shell pattern of a file name (`*`, `?`, `[…]`, `[!…]`) as a regular expression. */
function fileNamePattern(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const close = c === "[" ? pattern.indexOf("]", i + 2) : -1;
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (close !== -1) {
      const body = pattern.slice(i + 1, close).replace(/^!/, "^").replace(/[\\\]]/g, "\\$&");
      source += `[${body}]`;
      i = close;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/**
 * Sums the counts of journals: the N journals of an upload split into N shards (one each).
 * Journals are only read, never changed, so this is safe while their uploads run. A journal's
 * own index is read when it describes the journal (it may trail it by the lines being
 * written: see {@linkcode JournalCounts.unindexedBytes}); a journal without one (from another
 * machine or an older upflow) is indexed into a temporary file first, a few thousand lines at
 * a time, so a journal of ten million lines is never held in memory.
 *
 * @param patterns The journals: paths or glob patterns (see {@linkcode journalPaths}).
 * @returns The sums.
 * @throws {Deno.errors.NotFound} When a journal does not exist or a pattern matches nothing.
 *
 * @example Two shards' journals
 * ```ts
 * import { journalCounts } from "./journal_counts.ts";
 * import { Journal } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * for (const [k, ids] of [["a", "b"], ["c"]].entries()) {
 *   const j = await Journal.open(`${dir}/shard-${k}.ndjson`);
 *   await j.append(ids.map((id) => ({ t: "input" as const, id, location: id, outcome: "uploaded" as const })));
 *   await j.close();
 * }
 * const counts = await journalCounts([`${dir}/shard-*.ndjson`]);
 * assertEquals([counts.journals.length, counts.uploaded, counts.failed], [2, 3, 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function journalCounts(patterns: string[]): Promise<JournalCounts> {
  const sum: JournalCounts = { journals: [], uploaded: 0, failed: 0, runs: 0, unindexedBytes: 0 };
  for (const path of journalPaths(patterns)) {
    sum.journals.push(path);
    const { size } = await Deno.stat(path);
    const counts = indexCounts(Journal.indexPath(path), size, await journalHead(path)) ??
      await temporaryIndexCounts(path);
    sum.uploaded += counts.uploaded;
    sum.failed += counts.failed;
    sum.runs += counts.runs;
    sum.unindexedBytes += counts.unindexedBytes;
  }
  return sum;
}

type Counts = Omit<JournalCounts, "journals">;

/**
 * The counts a journal's own index holds, read without changing it, or `undefined` when there
 * is none, it cannot be read, or it describes another journal (replaced or cut since).
 */
function indexCounts(path: string, size: number, head: string): Counts | undefined {
  let db: DatabaseSync;
  try {
    Deno.statSync(path);
    db = new DatabaseSync(path, { readOnly: true });
  } catch {
    return undefined;
  }
  try {
    const meta = new Map(
      (db.prepare("SELECT k, v FROM meta").all() as { k: string; v: string }[]).map((r) => [
        r.k,
        r.v,
      ]),
    );
    const offset = Number(meta.get("offset") ?? 0);
    if (meta.get("version") !== "1" || offset > size || (meta.get("head") ?? "") !== head) {
      return undefined;
    }
    const runs = (db.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n;
    return {
      uploaded: Number(meta.get("uploaded") ?? 0),
      failed: Number(meta.get("failures") ?? 0),
      runs,
      unindexedBytes: size - offset,
    };
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

/** The counts of a journal indexed into a temporary file, removed afterwards. */
async function temporaryIndexCounts(path: string): Promise<Counts> {
  const dir = await Deno.makeTempDir({ prefix: "upflow-status-" });
  try {
    const { index } = await indexJournal(path, join(dir, "index.sqlite"));
    try {
      return {
        uploaded: index.uploadedCount,
        failed: index.failureCount,
        runs: index.runs().length,
        unindexedBytes: (await Deno.stat(path)).size - index.offset,
      };
    } finally {
      index.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
