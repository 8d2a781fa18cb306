/**
 * CSV parsing throughput: upflow's CsvParseStream (and CsvRowStream) against csv-parse (sync and
 * stream APIs) and papaparse, on the same ~8 MB Clarifai-style CSV built once below.
 *
 * Run: `deno bench -A bench/csv_parse_bench.ts`
 */
import { parse as parseSync } from "npm:csv-parse@7.0.3/sync";
import { parse as parseNodeStream } from "npm:csv-parse@7.0.3";
import Papa from "npm:papaparse@5.7.1";
import { CsvParseStream, CsvRowStream } from "../src/sources/csv_parse_stream.ts";

/** A seeded PRNG (mulberry32), so every run parses the same text. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildCsv(targetBytes: number): { text: string; records: number } {
  const random = prng(42);
  const words = ["cat", "dog", "bird", "tabby", "golden retriever", "naïve", "日本", "😀"];
  const pick = () => words[Math.floor(random() * words.length)];
  const lines = ["inputid,input,concepts,metadata,geopoints"];
  let size = lines[0].length;
  let n = 0;
  while (size < targetBytes) {
    const id = `input-${n}`;
    const text = random() < 0.1
      ? `"A review of the ${pick()}:\n""${pick()}"", said the ${pick()}."`
      : `https://example.com/images/${pick().replaceAll(" ", "_")}/${n}.jpg`;
    const concepts = random() < 0.5 ? `"${pick()},${pick()}"` : pick();
    const metadata = random() < 0.3 ? `"{""source"": ""web"", ""n"": ${n}}"` : "";
    const geo = random() < 0.2
      ? `"${(random() * 360 - 180).toFixed(4)},${(random() * 180 - 90).toFixed(4)}"`
      : "";
    const line = `${id},${text},${concepts},${metadata},${geo}`;
    lines.push(line);
    size += line.length + 2;
    n++;
  }
  return { text: lines.join("\r\n") + "\r\n", records: n + 1 };
}

const { text: TEXT, records: RECORDS } = buildCsv(8 * 1024 * 1024);
const CHUNK = 64 * 1024;
const CHUNKS: string[] = [];
for (let i = 0; i < TEXT.length; i += CHUNK) CHUNKS.push(TEXT.slice(i, i + CHUNK));

function check(count: number): void {
  if (count !== RECORDS) throw new Error(`parsed ${count} records, expected ${RECORDS}`);
}

async function countStream(stream: ReadableStream<unknown>): Promise<number> {
  let count = 0;
  for await (const _ of stream) count++;
  return count;
}

Deno.bench({
  name: "csv-parse (sync)",
  group: "csv",
  baseline: true,
  fn() {
    check(parseSync(TEXT).length);
  },
});

Deno.bench({
  name: "csv-parse (stream, 64 KiB chunks)",
  group: "csv",
  async fn() {
    const parser = parseNodeStream();
    let count = 0;
    parser.on("readable", () => {
      while (parser.read() !== null) count++;
    });
    const done = new Promise<void>((resolve, reject) => {
      parser.on("end", resolve);
      parser.on("error", reject);
    });
    for (const chunk of CHUNKS) parser.write(chunk);
    parser.end();
    await done;
    check(count);
  },
});

Deno.bench({
  name: "papaparse (string)",
  group: "csv",
  fn() {
    const result = Papa.parse(TEXT, { skipEmptyLines: true });
    check(result.data.length);
  },
});

Deno.bench({
  name: "upflow CsvParseStream (64 KiB chunks)",
  group: "csv",
  async fn() {
    check(await countStream(ReadableStream.from(CHUNKS).pipeThrough(new CsvParseStream())));
  },
});

Deno.bench({
  name: "upflow CsvRowStream (64 KiB chunks)",
  group: "csv",
  async fn() {
    check(await countStream(ReadableStream.from(CHUNKS).pipeThrough(new CsvRowStream())));
  },
});

// One record whose second field holds a million escaped quotes (`""`) with text between them, as
// a JSON metadata column does at scale: the cost per escaped quote, which once made such fields
// cost far more than their size.
const QUOTES = 'id,"' + 'ab""'.repeat(500_000) + '"\r\n';
const QUOTE_CHUNKS: string[] = [];
for (let i = 0; i < QUOTES.length; i += CHUNK) QUOTE_CHUNKS.push(QUOTES.slice(i, i + CHUNK));

Deno.bench({
  name: "csv-parse (sync): 1M escaped quotes in a field",
  group: "quotes",
  baseline: true,
  fn() {
    if (parseSync(QUOTES)[0][1].length !== 1_500_000) throw new Error("wrong field");
  },
});

Deno.bench({
  name: "upflow CsvParseStream: 1M escaped quotes in a field (64 KiB chunks)",
  group: "quotes",
  async fn() {
    const rows = await Array.fromAsync(
      ReadableStream.from(QUOTE_CHUNKS).pipeThrough(new CsvParseStream()),
    );
    if (rows[0][1].length !== 1_500_000) throw new Error("wrong field");
  },
});
