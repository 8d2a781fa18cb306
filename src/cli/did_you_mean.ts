/**
 * "Did you mean …?" for mistyped commands and flags: the known words nearest to what was typed,
 * by edit distance.
 *
 * @module
 */

/**
 * The edit distance between two strings: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each count 1 (the optimal string alignment distance).
 *
 * @param a One string.
 * @param b The other.
 * @returns The number of edits that turn `a` into `b`.
 *
 * @example Usage
 * ```ts
 * import { editDistance } from "./did_you_mean.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(editDistance("fodler", "folder"), 1);
 * assertEquals(editDistance("kitten", "sitting"), 3);
 * ```
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[rows - 1][cols - 1];
}

/**
 * The known words nearest to `typed`: those at the smallest edit distance, when that distance is
 * small for the word's length (at most a third of it, and at least 1), or else the known words
 * that `typed` begins (`--rec` → `--recursive`). Case is ignored.
 *
 * @param typed What was typed.
 * @param known The words it may have meant.
 * @returns The suggestions, best first (empty when nothing is close).
 *
 * @example Usage
 * ```ts
 * import { didYouMean } from "./did_you_mean.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(didYouMean("fodler", ["folder", "csv", "coco"]), ["folder"]);
 * assertEquals(didYouMean("rec", ["recursive", "retries"]), ["recursive"]);
 * assertEquals(didYouMean("upload", ["folder", "csv"]), []);
 * ```
 */
export function didYouMean(typed: string, known: readonly string[]): string[] {
  const word = typed.toLowerCase();
  if (word === "") return [];
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best = Infinity;
  let nearest: string[] = [];
  for (const candidate of known) {
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance > limit) continue;
    if (distance < best) {
      best = distance;
      nearest = [candidate];
    } else if (distance === best) {
      nearest.push(candidate);
    }
  }
  if (nearest.length > 0) return nearest;
  if (word.length >= 3) return known.filter((k) => k.toLowerCase().startsWith(word));
  return [];
}

/**
 * Words a suggestion as the end of a message: ` (did you mean --recursive?)`, or `""`.
 *
 * @param suggestions From {@linkcode didYouMean}, already written as they should be typed.
 * @returns The text to append.
 *
 * @example Usage
 * ```ts
 * import { suggestion } from "./did_you_mean.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(suggestion(["--wait", "--json"]), " (did you mean --wait or --json?)");
 * assertEquals(suggestion([]), "");
 * ```
 */
export function suggestion(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return "";
  const shown = suggestions.slice(0, 3);
  const words = shown.length === 1
    ? shown[0]
    : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
  return ` (did you mean ${words}?)`;
}
