/**
 * Mutation fuzzing of CsvParseStream and parseMetadata, seeded: real CSV samples
 * (`samples/*.csv`, the bad-input corpus) and real metadata fields are mutated (special
 * characters inserted or replaced, spans deleted, duplicated, spliced, truncated). Each case
 * must end in a result or the documented `SyntaxError` (metadata errors name a column), never
 * another error; CSV output must not depend on how the text is cut into chunks; metadata that
 * parses must parse again, as JSON, to the same object. The cases run in a worker that reports
 * before each one: a case that does not finish within the deadline is a hang, and fails.
 * (Random generated CSVs compared with csv-parse live in tests/sources/csv_parse_stream_test.ts.)
 */
import { join } from "node:path";
import { assert, assertEquals, assertGreater } from "@std/assert";
import { CsvParseStream } from "../../src/sources/csv_parse_stream.ts";
import { REPO } from "./_harness.ts";

const HANG_MS = 3_000;

async function csvSamples(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ["samples", "tests/fixtures/bad/csv"]) {
    for await (const entry of Deno.readDir(join(REPO, dir))) {
      if (!entry.isFile || !entry.name.endsWith(".csv")) continue;
      const bytes = await Deno.readFile(join(REPO, dir, entry.name));
      if (bytes.length === 0 || bytes.length > 100_000) continue;
      out.push(new TextDecoder().decode(bytes));
    }
  }
  return out.sort();
}

async function metadataSamples(csvs: string[]): Promise<string[]> {
  const out = new Set<string>([
    `{'source': 'web', 'stars': 5, 'ok': True, 'x': None, 'who': "O'Brien"}`,
    '{"a": [1, 2.5e3, -0.0, {"b": null}], "c": "\\u00e9\\n", "d": false}',
    `{'nested': {'deep': [[], {}, [{'k': 'v'}]]}, 'unicode': '猫 😀'}`,
  ]);
  for (const text of csvs) {
    const rows = await Array.fromAsync(
      ReadableStream.from([text]).pipeThrough(new CsvParseStream()),
    ).catch(() => [] as string[][]);
    const header = rows[0] ?? [];
    const column = header.indexOf("metadata");
    if (column < 0) continue;
    for (const row of rows.slice(1)) if (row[column]?.trim()) out.add(row[column]);
  }
  return [...out];
}

interface Finding {
  kind: string;
  text: string;
  detail: string;
}

async function fuzz(seed: number, csvCases: number, metadataCases: number) {
  const csvs = await csvSamples();
  const metas = await metadataSamples(csvs);
  assertGreater(csvs.length, 5, "CSV samples found");
  assertGreater(metas.length, 5, "metadata samples found");
  const worker = new Worker(new URL("./_fuzz_worker.ts", import.meta.url), { type: "module" });
  const findings: Finding[] = [];
  let last = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const stats = await new Promise<Record<string, number>>((resolve, reject) => {
      const arm = (ms = HANG_MS) => {
        clearTimeout(timer);
        timer = setTimeout(
          () => reject(new Error(`hang: no progress for ${ms} ms after ${last || "the start"}`)),
          ms,
        );
      };
      // Loading the worker's modules may take a while on a busy machine; cases may not.
      arm(60_000);
      worker.onmessage = (event) => {
        const m = event.data;
        arm();
        if (m.type === "case") last = `${m.kind} case ${m.n}: ${JSON.stringify(m.text)}`;
        else if (m.type === "problem") findings.push(m);
        else if (m.type === "done") resolve(m.stats);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`worker crashed after ${last}: ${e.message}`));
      };
      worker.postMessage({
        seed,
        csvSamples: csvs,
        metadataSamples: metas,
        csvCases,
        metadataCases,
      });
    });
    return { stats, findings };
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}

for (const seed of [1, 2]) {
  Deno.test({
    name: `fuzz (seed ${seed}): mutated CSVs and metadata end in a result or a SyntaxError, ` +
      "never hang, and CSV output does not depend on chunking",
    permissions: { read: true },
    async fn() {
      const { stats, findings } = await fuzz(seed, 1500, 3000);
      assertEquals(
        findings.slice(0, 5).map((f) => `${f.kind}: ${JSON.stringify(f.text)} → ${f.detail}`),
        [],
        `${findings.length} findings`,
      );
      assertEquals(stats.csv, 1500);
      assertEquals(stats.metadata, 3000);
      // The mutations reach both outcomes.
      assertGreater(stats.csvErrors, 50);
      assert(stats.csv - stats.csvErrors > 50);
      assertGreater(stats.metadataErrors, 100);
      assert(stats.metadata - stats.metadataErrors > 50);
    },
  });
}

/**
 * A hang guard, not a speed target: a loaded CI machine must not fail it, an exponential or
 * badly quadratic blow-up (minutes) must. Speed is measured in bench/, side by side.
 */
const PATHOLOGICAL_MS = 30_000;

Deno.test({
  name: "fuzz: pathological inputs finish (deep nesting, long runs of quotes)",
  permissions: { read: true },
  async fn(t) {
    const { parseMetadata } = await import("../../src/inputs/metadata.ts");
    const metaCases = [
      "[".repeat(200_000),
      "{'a': " + "{'a': ".repeat(50_000),
      "{'k': '" + "\\".repeat(100_000) + "'}",
      "{" + "'a': 1, ".repeat(50_000) + "'z': 2}",
      "{'s': '" + "x".repeat(2_000_000) + "'}",
    ];
    for (const [i, text] of metaCases.entries()) {
      await t.step(`metadata #${i} (${text.length} chars)`, () => {
        const started = performance.now();
        try {
          parseMetadata(text);
        } catch (error) {
          assert(error instanceof SyntaxError, String(error));
        }
        assert(performance.now() - started < PATHOLOGICAL_MS, "within the hang guard");
      });
    }
    const csvCases = [
      '"'.repeat(1_000_001),
      '"' + '""'.repeat(500_000) + '"\n',
      ",".repeat(1_000_000) + "\n",
      "a\r".repeat(300_000),
      ("x,".repeat(50) + "\n").repeat(20_000),
    ];
    for (const [i, text] of csvCases.entries()) {
      await t.step(`csv #${i} (${text.length} chars)`, async () => {
        const started = performance.now();
        try {
          await Array.fromAsync(
            ReadableStream.from([text.slice(0, 7), text.slice(7)]).pipeThrough(
              new CsvParseStream(),
            ),
          );
        } catch (error) {
          assert(error instanceof SyntaxError, String(error));
        }
        assert(performance.now() - started < PATHOLOGICAL_MS, "within the hang guard");
      });
    }
  },
});
