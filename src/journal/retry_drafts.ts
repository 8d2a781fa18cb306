/**
 * {@linkcode retryDrafts}: what a retry re-sends, read from a journal's failure lines. The same
 * rule as `upflow retry` (by ID and location, never by position; duplicates only with fresh IDs
 * on request; rejections are fixed in the source, not retried).
 *
 * @module
 */
import type { InputDraft } from "../inputs/input_draft.ts";
import type { JournalState } from "./journal.ts";

/** What {@linkcode retryDrafts} found. */
export interface RetryPlan {
  /** The drafts to re-send, in journal order. */
  drafts: InputDraft[];
  /** The failures not re-sent, with why, as rejections (location, ID, reason). */
  notRetried: { location: string; id?: string; reason: string }[];
}

/**
 * Splits a journal's failures into drafts to re-send and failures that are not retried: records
 * refused by validation (fix the source), failures with no draft in the journal, and duplicates
 * unless `newIdsForDuplicates` is set (then they are re-sent under `<id>-<8 hex>`).
 *
 * @param state A journal's state (from `readJournal`).
 * @param options `newIdsForDuplicates`: re-send duplicates under fresh IDs.
 * @returns The drafts and the failures left out.
 *
 * @example Usage
 * ```ts
 * import { readJournal, retryDrafts } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile({ suffix: ".ndjson" });
 * const draft = { id: "a", kind: "text", content: { type: "raw", text: "hi" }, location: "x.csv:2", concepts: [] };
 * await Deno.writeTextFile(path, [
 *   { t: "input", id: "a", location: "x.csv:2", outcome: "failed", reason: "timeout", draft },
 *   { t: "input", id: "", location: "x.csv:3", outcome: "rejected", reason: "no input" },
 * ].map((l) => JSON.stringify(l)).join("\n") + "\n");
 * const plan = retryDrafts(await readJournal(path));
 * assertEquals(plan.drafts.map((d) => d.id), ["a"]);
 * assertEquals(plan.notRetried.length, 1);
 * await Deno.remove(path);
 * ```
 */
export function retryDrafts(
  state: JournalState,
  options: { newIdsForDuplicates?: boolean } = {},
): RetryPlan {
  const drafts: InputDraft[] = [];
  const notRetried: RetryPlan["notRetried"] = [];
  for (const entry of state.failures.values()) {
    const id = entry.id === "" ? undefined : entry.id;
    const leave = (reason: string) =>
      notRetried.push({ location: entry.location, ...(id ? { id } : {}), reason });
    if (entry.outcome === "rejected") {
      leave(`not retried: ${entry.reason ?? "rejected"} (fix the source and upload it again)`);
      continue;
    }
    if (!entry.draft) {
      leave(`not retried: ${entry.reason ?? entry.outcome} (no draft in the journal to re-send)`);
      continue;
    }
    let draft = entry.draft;
    if (entry.code === "INPUT_DUPLICATE" || /duplicate/i.test(entry.reason ?? "")) {
      if (!options.newIdsForDuplicates) {
        leave(
          `not retried: ${entry.reason} (re-send it under a new ID with the new-IDs-for-duplicates option)`,
        );
        continue;
      }
      draft = { ...draft, id: `${draft.id}-${crypto.randomUUID().slice(0, 8)}` };
    }
    drafts.push(draft);
  }
  return { drafts, notRetried };
}
