// The csv-spectrum corpus (a public set of CSV edge cases, each with the records it must give),
// read at several chunk sizes: bytes are cut anywhere, even inside a UTF-8 character or a CRLF.
// Test-only package: an npm specifier here, never in the import map.
// deno-lint-ignore no-import-prefix
import spectrum from "npm:csv-spectrum@1.0.0";
import { assert, assertEquals } from "@std/assert";
import { CsvRowStream } from "../../src/sources/csv_parse_stream.ts";

interface SpectrumCase {
  name: string;
  csv: Uint8Array;
  json: Uint8Array;
}

const cases: SpectrumCase[] = await new Promise((resolve, reject) => {
  spectrum((error: unknown, items: SpectrumCase[]) => error ? reject(error) : resolve(items));
});

/** Reads `bytes` cut into chunks of `size` bytes as records keyed by the header. */
async function readRecords(bytes: Uint8Array, size: number): Promise<Record<string, string>[]> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const rows = await Array.fromAsync(
    ReadableStream.from(chunks)
      .pipeThrough(new TextDecoderStream("utf-8", { fatal: true }))
      .pipeThrough(new CsvRowStream()),
  );
  for (const row of rows) assertEquals(row.error, undefined, `line ${row.line}`);
  const [header, ...records] = rows.map((row) => row.fields);
  return records.map((fields) => {
    assertEquals(fields.length, header.length);
    return Object.fromEntries(header.map((column, i) => [column, fields[i]]));
  });
}

Deno.test("CsvRowStream reads every csv-spectrum case at chunk sizes 1, 2, 3, 7 and whole", async (t) => {
  assert(cases.length >= 11, `csv-spectrum has ${cases.length} cases`);
  for (const { name, csv, json } of cases) {
    const expected = JSON.parse(new TextDecoder().decode(json));
    for (const size of [1, 2, 3, 7, csv.length]) {
      await t.step(
        `${name}, ${size === csv.length ? "whole" : `${size}-byte chunks`}`,
        async () => {
          assertEquals(await readRecords(csv, size), expected);
        },
      );
    }
  }
});
