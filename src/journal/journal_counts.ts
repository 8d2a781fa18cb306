/**
 * {@linkcode journalCounts}: what a journal (or the journals of a sharded upload) records, summed,
 * read from their on-disk indexes.
 *
 * @module
 */
import { Journal, readJournal } from "./journal.ts";
import { DatabaseSync } from "node:sqlite";

/** The counts a journal records. */
export interface JournalCounts {
  /** Journals read. */
  journals: number;
  /** Inputs whose latest outcome is uploaded (or processed), including those found present. */
  uploaded: number;
  /** Failures and rejections of inputs still not uploaded. */
  failed: number;
  /** Runs recorded. */
  runs: number;
}

/**
 * Sums the counts of journals: the N journals of an upload split into N shards (one each).
 * Journals are only read, never changed, so this is safe while their uploads run: a journal's
 * index is read when it has one (it may trail the journal by the lines being written), the
 * journal itself otherwise.
 *
 * @param paths The journals.
 * @returns The sums.
 *
 * @example Two shards' journals
 * ```ts
 * import { journalCounts } from "./journal_counts.ts";
 * import { Journal, readJournal } from "./journal.ts";
import { DatabaseSync } from "node:sqlite";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * for (const [k, ids] of [["a", "b"], ["c"]].entries()) {
 *   const j = await Journal.open(`${dir}/shard-${k}.ndjson`);
 *   await j.append(ids.map((id) => ({ t: "input" as const, id, location: id, outcome: "uploaded" as const })));
 *   await j.close();
 * }
 * const counts = await journalCounts([`${dir}/shard-0.ndjson`, `${dir}/shard-1.ndjson`]);
 * assertEquals([counts.journals, counts.uploaded, counts.failed], [2, 3, 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function journalCounts(paths: string[]): Promise<JournalCounts> {
  const sum: JournalCounts = { journals: 0, uploaded: 0, failed: 0, runs: 0 };
  for (const path of paths) {
    try {
      await Deno.stat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(`no journal at ${path}`);
      }
      throw err;
    }
    sum.journals++;
    const counts = indexCounts(Journal.indexPath(path));
    if (counts) {
      sum.uploaded += counts.uploaded;
      sum.failed += counts.failed;
      sum.runs += counts.runs;
      continue;
    }
    const state = await readJournal(path);
    sum.uploaded += state.uploaded.size;
    sum.failed += state.failures.size;
    sum.runs += state.runs.length;
  }
  return sum;
}

/** The counts an index file holds, read without changing it, or `undefined` without one. */
function indexCounts(path: string): Omit<JournalCounts, "journals"> | undefined {
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
    const runs = (db.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n;
    return {
      uploaded: Number(meta.get("uploaded") ?? 0),
      failed: Number(meta.get("failures") ?? 0),
      runs,
    };
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}
