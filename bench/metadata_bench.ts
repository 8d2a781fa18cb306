/**
 * Metadata parsing: upflow's `parseMetadata` on JSON text and on the Python-dict form the
 * Clarifai docs show (single quotes, True/False/None), against `JSON.parse` on the same JSON as
 * the baseline. 10,000 metadata fields of the kind a CSV carries, built once below.
 *
 * Run: `deno bench -A bench/metadata_bench.ts`
 */
import { parseMetadata } from "../src/inputs/metadata.ts";

const JSON_TEXTS: string[] = [];
const DICT_TEXTS: string[] = [];
for (let i = 0; i < 10_000; i++) {
  const value = {
    source: i % 3 === 0 ? "web" : "camera",
    id: i,
    score: i / 7,
    ok: i % 2 === 0,
    note: i % 5 === 0 ? null : `row ${i}, "quoted"`,
    tags: ["a", "b", String(i % 11)],
    nested: { w: 640, h: 480, author: "O'Brien" },
  };
  JSON_TEXTS.push(JSON.stringify(value));
  DICT_TEXTS.push(
    `{'source': '${value.source}', 'id': ${i}, 'score': ${value.score}, 'ok': ${
      value.ok ? "True" : "False"
    }, 'note': ${value.note === null ? "None" : `'row ${i}, "quoted"'`}, 'tags': ['a', 'b', '${
      i % 11
    }'], 'nested': {'w': 640, 'h': 480, 'author': "O'Brien"}}`,
  );
}
// The two forms must mean the same thing, or the comparison is void.
if (JSON.stringify(parseMetadata(DICT_TEXTS[5])) !== JSON_TEXTS[5]) {
  throw new Error("the dict form does not parse to the JSON form");
}

Deno.bench({
  name: "JSON.parse (JSON)",
  group: "metadata",
  baseline: true,
  fn() {
    for (const text of JSON_TEXTS) JSON.parse(text);
  },
});

Deno.bench({
  name: "parseMetadata (JSON)",
  group: "metadata",
  fn() {
    for (const text of JSON_TEXTS) parseMetadata(text);
  },
});

Deno.bench({
  name: "parseMetadata (single-quoted dict form)",
  group: "metadata",
  fn() {
    for (const text of DICT_TEXTS) parseMetadata(text);
  },
});

Deno.bench({
  name: "SDK way: JSON.parse(text.replace(/'/g, '\"')) (dict form; breaks on O'Brien)",
  group: "metadata",
  fn() {
    for (const text of DICT_TEXTS) {
      try {
        JSON.parse(text.replace(/'/g, '"'));
      } catch {
        // The SDK's rewrite cannot parse True/False/None or apostrophes: that is its cost too.
      }
    }
  },
});
