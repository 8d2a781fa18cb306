/**
 * The fuzzing worker: runs mutated inputs through CsvParseStream and parseMetadata and posts one
 * message per case, so the test (on the main thread) can tell a hang from slow progress and
 * terminate the worker. Messages: `{ type: "case", n }` before each case, `{ type: "problem",
 * … }` for a finding, `{ type: "done", stats }` at the end.
 *
 * @module
 */
import { CsvParseStream } from "../../src/sources/csv_parse_stream.ts";
import { parseMetadata } from "../../src/inputs/metadata.ts";
import { seeded } from "./_harness.ts";

interface Job {
  seed: number;
  csvSamples: string[];
  metadataSamples: string[];
  csvCases: number;
  metadataCases: number;
}

const SPECIAL = ['"', ",", "\n", "\r", "\r\n", '""', "\uFEFF", "\u0000", "é", "😀", "\\", "'", " "];
const META_SPECIAL = [
  "{",
  "}",
  "[",
  "]",
  ":",
  ",",
  "'",
  '"',
  "\\",
  "True",
  "None",
  "NaN",
  "-",
  "1e999",
  "\\u00",
  "\\ud800",
  " ",
  "0x1",
  "__proto__",
];

/** Applies 1–4 random mutations to `text`. */
function mutate(text: string, random: () => number, pieces: string[]): string {
  let out = text;
  const n = 1 + Math.floor(random() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(random() * (out.length + 1));
    const piece = pieces[Math.floor(random() * pieces.length)];
    switch (Math.floor(random() * 6)) {
      case 0: // insert a special piece
        out = out.slice(0, at) + piece + out.slice(at);
        break;
      case 1: // replace a character
        out = out.slice(0, at) + piece + out.slice(at + 1);
        break;
      case 2: // delete a span
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
        break;
      case 3: { // duplicate a span
        const len = Math.floor(random() * 40);
        out = out.slice(0, at) + out.slice(at, at + len) + out.slice(at);
        break;
      }
      case 4: // truncate
        out = out.slice(0, at);
        break;
      default: { // splice another part of the text in
        const from = Math.floor(random() * out.length);
        out = out.slice(0, at) + out.slice(from, from + 20) + out.slice(at);
      }
    }
  }
  return out;
}

function chunksOf(text: string, random: () => number): string[] {
  const cuts = Array.from(
    { length: 1 + Math.floor(random() * 5) },
    () => Math.floor(random() * (text.length + 1)),
  ).sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    chunks.push(text.slice(from, cut));
    from = cut;
  }
  return chunks;
}

async function parseCsv(chunks: string[]): Promise<string> {
  try {
    const rows = await Array.fromAsync(
      ReadableStream.from(chunks).pipeThrough(new CsvParseStream()),
    );
    return JSON.stringify(rows);
  } catch (error) {
    if (error instanceof SyntaxError) return `SyntaxError: ${error.message}`;
    return `UNDOCUMENTED ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
}

function parseMeta(text: string): string {
  try {
    const value = parseMetadata(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return "UNDOCUMENTED not an object";
    }
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof SyntaxError) return `SyntaxError: ${error.message}`;
    return `UNDOCUMENTED ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
}

/** The worker's scope, typed for the two members used here. */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<Job>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (event: MessageEvent<Job>) => {
  const job = event.data;
  const random = seeded(job.seed);
  const post = (m: unknown) => scope.postMessage(m);
  const stats = { csv: 0, csvErrors: 0, metadata: 0, metadataErrors: 0, problems: 0 };
  let n = 0;
  for (let i = 0; i < job.csvCases; i++) {
    const sample = job.csvSamples[i % job.csvSamples.length];
    const text = mutate(sample, random, SPECIAL);
    post({ type: "case", n: n++, kind: "csv", text: text.slice(0, 300) });
    const whole = await parseCsv([text]);
    stats.csv++;
    if (whole.startsWith("SyntaxError")) stats.csvErrors++;
    if (whole.startsWith("UNDOCUMENTED")) {
      stats.problems++;
      post({ type: "problem", kind: "csv", text, detail: whole });
      continue;
    }
    const chunked = await parseCsv(chunksOf(text, random));
    if (chunked !== whole) {
      stats.problems++;
      post({ type: "problem", kind: "csv-chunking", text, detail: `${whole} != ${chunked}` });
    }
    if (text.length < 400 && i % 10 === 0) {
      const single = await parseCsv(text.split(""));
      if (single !== whole) {
        stats.problems++;
        post({ type: "problem", kind: "csv-1-char", text, detail: `${whole} != ${single}` });
      }
    }
  }
  for (let i = 0; i < job.metadataCases; i++) {
    const sample = job.metadataSamples[i % job.metadataSamples.length];
    const text = mutate(sample, random, META_SPECIAL);
    post({ type: "case", n: n++, kind: "metadata", text: text.slice(0, 300) });
    const result = parseMeta(text);
    stats.metadata++;
    if (result.startsWith("SyntaxError")) {
      stats.metadataErrors++;
      if (!/column \d+/.test(result)) {
        stats.problems++;
        post({ type: "problem", kind: "metadata-position", text, detail: result });
      }
    } else if (result.startsWith("UNDOCUMENTED")) {
      stats.problems++;
      post({ type: "problem", kind: "metadata", text, detail: result });
    } else {
      // What parsed as metadata parses again, as JSON, to the same object.
      const again = parseMeta(result);
      if (again !== result) {
        stats.problems++;
        post({
          type: "problem",
          kind: "metadata-roundtrip",
          text,
          detail: `${result} != ${again}`,
        });
      }
    }
  }
  post({ type: "done", stats });
};
