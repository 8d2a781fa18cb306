import { parse } from "csv-parse/sync";
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { CsvParseStream, type CsvRow, CsvRowStream } from "../../src/sources/csv_parse_stream.ts";

/** Parses `chunks` with a CsvRowStream; a parse error is returned as its message. */
async function parseChunks(chunks: string[], separator?: string): Promise<CsvRow[] | string> {
  try {
    return await Array.fromAsync(
      ReadableStream.from(chunks).pipeThrough(new CsvRowStream({ separator })),
    );
  } catch (error) {
    if (error instanceof SyntaxError) return `SyntaxError: ${error.message}`;
    throw error;
  }
}

/** Asserts that every way of cutting `text` into 2 chunks, and 1-character chunks, agree. */
async function assertSplitInvariant(text: string, expected: CsvRow[] | string): Promise<void> {
  assertEquals(await parseChunks([text]), expected, "one chunk");
  for (let cut = 0; cut <= text.length; cut++) {
    assertEquals(
      await parseChunks([text.slice(0, cut), text.slice(cut)]),
      expected,
      `split at ${cut}`,
    );
  }
  assertEquals(await parseChunks(text.split("")), expected, "1-character chunks");
}

const rows = (...records: [number, string[]][]): CsvRow[] =>
  records.map(([line, fields]) => ({ line, fields }));

Deno.test("CsvRowStream parses RFC 4180 at every split point", async (t) => {
  const cases: { name: string; text: string; expected: CsvRow[] }[] = [
    { name: "simple LF", text: "a,b\nc,d\n", expected: rows([1, ["a", "b"]], [2, ["c", "d"]]) },
    {
      name: "no final newline",
      text: "a,b\nc,d",
      expected: rows([1, ["a", "b"]], [2, ["c", "d"]]),
    },
    { name: "CRLF", text: "a,b\r\nc,d\r\n", expected: rows([1, ["a", "b"]], [2, ["c", "d"]]) },
    { name: "lone CR", text: "a,b\rc,d\r", expected: rows([1, ["a", "b"]], [2, ["c", "d"]]) },
    {
      name: "mixed endings",
      text: "a\r\nb\nc\rd",
      expected: rows([1, ["a"]], [2, ["b"]], [3, ["c"]], [4, ["d"]]),
    },
    { name: "BOM", text: "\uFEFFa,b\n1,2", expected: rows([1, ["a", "b"]], [2, ["1", "2"]]) },
    {
      name: "BOM only at the start",
      text: "a\n\uFEFFb",
      expected: rows([1, ["a"]], [2, ["\uFEFFb"]]),
    },
    {
      name: "empty fields",
      text: ",\na,,\n,,b",
      expected: rows([1, ["", ""]], [2, ["a", "", ""]], [3, ["", "", "b"]]),
    },
    {
      name: "empty lines skipped, lines still counted",
      text: "\n\na\r\n\r\n\nb\n\n",
      expected: rows([3, ["a"]], [6, ["b"]]),
    },
    {
      name: "quoted fields",
      text: '"a","b,c",""\n"",x\n',
      expected: rows([1, ["a", "b,c", ""]], [2, ["", "x"]]),
    },
    {
      name: "escaped quotes",
      text: '"say ""hi""",""""\n',
      expected: rows([1, ['say "hi"', '"']]),
    },
    {
      name: "newlines inside quotes",
      text: 'id,text\n1,"one\ntwo\r\nthree\rfour"\n2,"x\n\n"\n3,y',
      expected: rows(
        [1, ["id", "text"]],
        [2, ["1", "one\ntwo\r\nthree\rfour"]],
        [6, ["2", "x\n\n"]],
        [9, ["3", "y"]],
      ),
    },
    {
      name: "whitespace is data",
      text: " a , b \n \n",
      expected: rows([1, [" a ", " b "]], [2, [" "]]),
    },
    {
      name: "unicode and astral characters",
      text: 'é,"😀,🐈"\n日本,😀\n',
      expected: rows([1, ["é", "😀,🐈"]], [2, ["日本", "😀"]]),
    },
    {
      name: "quoted field at end of input",
      text: 'a,"b"',
      expected: rows([1, ["a", "b"]]),
    },
    { name: "trailing separator at end of input", text: "a,", expected: rows([1, ["a", ""]]) },
    { name: "empty input", text: "", expected: [] },
    { name: "only a BOM", text: "\uFEFF", expected: [] },
  ];
  for (const { name, text, expected } of cases) {
    await t.step(name, () => assertSplitInvariant(text, expected));
  }
});

Deno.test("CsvRowStream reports syntax errors with the line", async (t) => {
  const cases: { name: string; text: string; message: string }[] = [
    {
      name: "unterminated quoted field names the line it starts on",
      text: 'a,b\nc,"d\ne\nf',
      message: "Syntax error on line 2: unterminated quoted field",
    },
    {
      name: "unterminated quoted field after CRLFs",
      text: 'a\r\n\r\n"b',
      message: "Syntax error on line 3: unterminated quoted field",
    },
    {
      name: "quote inside an unquoted field",
      text: 'a,b\nc,d"e\n',
      message: "Syntax error on line 2: unexpected quote in unquoted field at column 4",
    },
    {
      name: "character after a closing quote",
      text: 'x\r\n"a"b,c\r\n',
      message: "Syntax error on line 2: unexpected character after the closing quote at column 4",
    },
    {
      name: "space after a closing quote, after a multi-line field",
      text: 'x,"1\n2\r\n3" \n',
      message: "Syntax error on line 3: unexpected character after the closing quote at column 3",
    },
    {
      name: "column counts after a BOM",
      text: '\uFEFFab"',
      message: "Syntax error on line 1: unexpected quote in unquoted field at column 3",
    },
  ];
  for (const { name, text, message } of cases) {
    await t.step(name, () => assertSplitInvariant(text, `SyntaxError: ${message}`));
  }
});

Deno.test("CsvParseStream emits fields only, with a custom separator", async () => {
  const out = await Array.fromAsync(
    ReadableStream.from(['a;"b;c"\n', "d;e"]).pipeThrough(new CsvParseStream({ separator: ";" })),
  );
  assertEquals(out, [["a", "b;c"], ["d", "e"]]);
  await assertRejects(
    () => Array.fromAsync(ReadableStream.from(['"x']).pipeThrough(new CsvParseStream())),
    SyntaxError,
    "Syntax error on line 1: unterminated quoted field",
  );
});

Deno.test("CsvParseStream and CsvRowStream validate the separator", async (t) => {
  for (const separator of ["", ";;", '"', "\n", "\r", "😀"]) {
    await t.step(JSON.stringify(separator), () => {
      assertThrows(
        () => new CsvParseStream({ separator }),
        RangeError,
        "Cannot create CsvParseStream: separator must be one character",
      );
      assertThrows(
        () => new CsvRowStream({ separator }),
        RangeError,
        "Cannot create CsvRowStream: separator must be one character",
      );
    });
  }
  assertThrows(
    () => new CsvParseStream({ separator: 1 as unknown as string }),
    TypeError,
    "separator must be a string",
  );
});

/** A seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ["a", "b", "xyz", " ", ",", '"', "\n", "\r\n", "\r", "é", "日", "😀", "🐈‍⬛", "\t"];

const LF_PIECES = PIECES.filter((piece) => !piece.includes("\r"));

function randomCsv(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const eol = pick(["\n", "\r\n", "\r"]);
  const fieldCount = 1 + Math.floor(random() * 4);
  const recordCount = 1 + Math.floor(random() * 6);
  const records: string[] = [];
  for (let r = 0; r < recordCount; r++) {
    const fields: string[] = [];
    for (let f = 0; f < fieldCount; f++) {
      let value = "";
      const length = Math.floor(random() * 5);
      for (let k = 0; k < length; k++) value += pick(PIECES);
      const special = /[",\r\n]/.test(value);
      fields.push(special || random() < 0.2 ? `"${value.replaceAll('"', '""')}"` : value);
    }
    // A record of one empty unquoted field is an empty line: both parsers skip it.
    records.push(fields.join(","));
  }
  const bom = random() < 0.1 ? "\uFEFF" : "";
  const last = random() < 0.5 ? eol : "";
  return bom + records.join(eol) + last;
}

Deno.test("CsvParseStream agrees with csv-parse on 3000 random CSVs", async () => {
  const random = prng(20240611);
  for (let n = 0; n < 3000; n++) {
    const text = randomCsv(random);
    const expected: string[][] = parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
    });
    // Cut the text at up to 3 random points, which may split CRLFs and surrogate pairs.
    const cuts = Array.from(
      { length: Math.floor(random() * 4) },
      () => Math.floor(random() * (text.length + 1)),
    ).sort((a, b) => a - b);
    const chunks: string[] = [];
    let from = 0;
    for (const cut of [...cuts, text.length]) {
      chunks.push(text.slice(from, cut));
      from = cut;
    }
    const actual = await Array.fromAsync(
      ReadableStream.from(chunks).pipeThrough(new CsvParseStream()),
    );
    assertEquals(actual, expected, `CSV #${n}: ${JSON.stringify(text)} in ${chunks.length}`);
  }
});

Deno.test("CsvParseStream rejects what csv-parse rejects on random malformed CSVs", async () => {
  const random = prng(7);
  let errors = 0;
  for (let n = 0; n < 500; n++) {
    // Random text of CSV-significant characters, mostly malformed. LF line endings only:
    // csv-parse keeps the CRs of other endings than the first one in fields (not RFC 4180).
    let text = "";
    const length = 1 + Math.floor(random() * 12);
    for (let k = 0; k < length; k++) text += LF_PIECES[Math.floor(random() * LF_PIECES.length)];
    let expected: string[][] | "error";
    try {
      expected = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true });
    } catch {
      expected = "error";
    }
    let actual: string[][] | "error";
    try {
      actual = await Array.fromAsync(ReadableStream.from([text]).pipeThrough(new CsvParseStream()));
    } catch (error) {
      assert(error instanceof SyntaxError, `CSV #${n}: ${error}`);
      actual = "error";
      errors++;
    }
    assertEquals(actual, expected, `CSV #${n}: ${JSON.stringify(text)}`);
  }
  assert(errors > 50, `only ${errors} malformed inputs were generated`);
});

Deno.test("a record longer than maxRecordLength is skipped (CsvRowStream) or refused (CsvParseStream)", async (t) => {
  const cases: [string, string[], number][] = [
    ["an unquoted field", ["a,b\n", "x".repeat(60), "x".repeat(60), ",y\nc,d\n"], 3],
    ["a quoted field across chunks", ['a,b\n"', "y".repeat(70), "\n".repeat(40), '",z\nc,d\n'], 43],
  ];
  for (const [name, chunks, nextLine] of cases) {
    await t.step(`${name}: skipped, then parsing goes on`, async () => {
      const rows = await Array.fromAsync(
        ReadableStream.from(chunks).pipeThrough(new CsvRowStream({ maxRecordLength: 100 })),
      );
      assertEquals(rows, [
        { line: 1, fields: ["a", "b"] },
        {
          line: 2,
          fields: [],
          error:
            "the record is longer than 100 characters: it was skipped (an unterminated quote, or not a CSV file?)",
        },
        { line: nextLine, fields: ["c", "d"] },
      ]);
    });
    await t.step(`${name}: CsvParseStream fails naming the line`, async () => {
      const error = await assertRejects(
        () =>
          Array.fromAsync(
            ReadableStream.from(chunks).pipeThrough(new CsvParseStream({ maxRecordLength: 100 })),
          ),
        SyntaxError,
      );
      assertEquals(
        error.message,
        "Syntax error on line 2: the record is longer than 100 characters (an unterminated quote, or not a CSV file?)",
      );
    });
  }
  await t.step("a record at the limit is kept", async () => {
    const rows = await Array.fromAsync(
      ReadableStream.from(["a\n", "z".repeat(50), "z".repeat(50), "\n"]).pipeThrough(
        new CsvRowStream({ maxRecordLength: 100 }),
      ),
    );
    assertEquals(rows[1].fields[0].length, 100);
  });
});
