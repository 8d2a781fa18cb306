import { parse } from "npm:csv-parse@7.0.3/sync";
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
    {
      name: "runs of escaped quotes, across lines",
      text: '"""""",""""\n"a""\nb""",c\n',
      expected: rows([1, ['""', '"']], [2, ['a"\nb"', "c"]]),
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

Deno.test("CsvRowStream reads stray quotes as Python's csv module does", async (t) => {
  const cases: { name: string; text: string; expected: CsvRow[] }[] = [
    {
      name: "a quote inside an unquoted field is kept",
      text: 'inputid,input,concepts\na1,Great 12" pizza,food\n',
      expected: rows([1, ["inputid", "input", "concepts"]], [2, ["a1", 'Great 12" pizza', "food"]]),
    },
    {
      name: "quotes at the end of an unquoted field",
      text: 'a,b\nc,d"e\nf"",g"\n',
      expected: rows([1, ["a", "b"]], [2, ["c", 'd"e']], [3, ['f""', 'g"']]),
    },
    {
      name: "text after a closing quote is appended",
      text: 'x\r\n"a"b,c\r\n',
      expected: rows([1, ["x"]], [2, ["ab", "c"]]),
    },
    {
      name: "a space after a multi-line quoted field",
      text: 'x,"1\n2\r\n3" \n',
      expected: rows([1, ["x", "1\n2\r\n3 "]]),
    },
    {
      name: "a quote after a closing quote is literal",
      text: '"a"b"c,d\n',
      expected: rows([1, ['ab"c', "d"]]),
    },
    {
      name: "after a BOM",
      text: '\uFEFFab"',
      expected: rows([1, ['ab"']]),
    },
  ];
  for (const { name, text, expected } of cases) {
    await t.step(name, () => assertSplitInvariant(text, expected));
  }
});

Deno.test("CsvRowStream rejects the record of an unclosed quote and reads the lines after it", async (t) => {
  const unclosed = (line: number, quoteLine: number, column: number, more = true): CsvRow => ({
    line,
    fields: [],
    error: `unterminated quoted field: the quote opened on line ${quoteLine}, column ${column} ` +
      `is never closed${more ? " (the lines after it are read as records)" : ""}`,
  });
  const cases: { name: string; text: string; expected: CsvRow[] }[] = [
    {
      name: "the lines after the quote's line are records again",
      text: 'a,b\nc,"d\ne\nf',
      expected: [...rows([1, ["a", "b"]]), unclosed(2, 2, 3), ...rows([3, ["e"]], [4, ["f"]])],
    },
    {
      name: "on the last line, after CRLFs",
      text: 'a\r\n\r\n"b',
      expected: [...rows([1, ["a"]]), unclosed(3, 3, 1, false)],
    },
    {
      name: "escaped quotes after it are read again as they were written",
      text: 'x\n"a\nb,""c"" d\r\n""""\n',
      expected: [
        ...rows([1, ["x"]]),
        unclosed(2, 2, 1),
        ...rows([3, ["b", 'c"" d']], [4, ['"']]),
      ],
    },
    {
      name: "a record that started lines before the quote",
      text: 'h\n"1\n2",x,"3\r4\r5,6',
      expected: [...rows([1, ["h"]]), unclosed(2, 3, 6), ...rows([4, ["4"]], [5, ["5", "6"]])],
    },
    {
      name: "a quote closed on a later line is not an error (Python reads it so)",
      text: 'a\n"b\nc,"d\ne\n',
      expected: rows([1, ["a"]], [2, ["b\nc,d"]], [4, ["e"]]),
    },
  ];
  for (const { name, text, expected } of cases) {
    await t.step(name, () => assertSplitInvariant(text, expected));
  }
  await t.step("an unclosed quote longer than maxRecordLength skips the rest", async () => {
    const out = await Array.fromAsync(
      ReadableStream.from(['a\n"', "y".repeat(150), "\nb\n"]).pipeThrough(
        new CsvRowStream({ maxRecordLength: 100 }),
      ),
    );
    assertEquals(out, [
      { line: 1, fields: ["a"] },
      {
        line: 2,
        fields: [],
        error: "unterminated quoted field: the quote opened on line 2, column 1 is never closed, " +
          "and the rest of the file is longer than 100 characters: it was skipped",
      },
    ]);
  });
});

Deno.test("CsvParseStream fails on an unclosed quote, naming the quote's line", async (t) => {
  for (
    const [text, line] of [['a,b\nc,"d\ne\nf', 2], ['a\r\n\r\n"b', 3], [
      'x\n"1\n2",y,"3',
      3,
    ]] as const
  ) {
    await t.step(JSON.stringify(text), async () => {
      await assertRejects(
        () => Array.fromAsync(ReadableStream.from([text]).pipeThrough(new CsvParseStream())),
        SyntaxError,
        `Syntax error on line ${line}: unterminated quoted field`,
      );
    });
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

/** Whether python3 runs here (it reads CSV the way Clarifai's Python SDK does). */
async function hasPython(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("python3", {
      args: ["-c", "import csv"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** Parses each text with Python's csv module (default dialect), dropping empty rows. */
async function pythonRows(texts: string[]): Promise<string[][][]> {
  const script = "import csv, io, json, sys\n" +
    "texts = json.load(sys.stdin)\n" +
    "out = [[r for r in csv.reader(io.StringIO(t, newline='')) if r] for t in texts]\n" +
    "json.dump(out, sys.stdout)\n";
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(texts)));
  await writer.close();
  const { success, stdout } = await child.output();
  assert(success, "python3 failed");
  return JSON.parse(new TextDecoder().decode(stdout));
}

const PYTHON = await hasPython();

Deno.test({
  name: "CsvRowStream reads 1000 random malformed CSVs as Python's csv module does",
  ignore: !PYTHON,
  async fn() {
    // Python reads an unclosed quote to the end of the file; upflow reports that record and reads
    // the lines after the quote's line again. So each text is cut into segments at the records
    // reported, and every segment must read as Python reads it alone.
    const random = prng(7);
    const segments: string[] = [];
    const actual: string[][][] = [];
    let unclosed = 0;
    let literal = 0;
    for (let n = 0; n < 1000; n++) {
      let text = "";
      const length = 1 + Math.floor(random() * 14);
      for (let k = 0; k < length; k++) text += PIECES[Math.floor(random() * PIECES.length)];
      const cut = Math.floor(random() * (text.length + 1));
      const out = await parseChunks([text.slice(0, cut), text.slice(cut)]);
      assert(typeof out !== "string", `CSV #${n}: ${out}`);
      // The physical lines, each with its line ending.
      const lines = text.match(/[^\r\n]*(\r\n|\r|\n|$)/g)!.filter((line) => line !== "");
      let from = 1; // first line of the current segment
      let rowsOfSegment: string[][] = [];
      for (const row of out) {
        if (row.error === undefined) {
          rowsOfSegment.push(row.fields);
          if (row.fields.some((field) => /^[^"]+"/.test(field))) literal++;
          continue;
        }
        const match = /the quote opened on line (\d+)/.exec(row.error);
        assert(match, `CSV #${n}: ${row.error}`);
        unclosed++;
        segments.push(lines.slice(from - 1, row.line - 1).join(""));
        actual.push(rowsOfSegment);
        rowsOfSegment = [];
        from = Number(match[1]) + 1;
      }
      segments.push(lines.slice(from - 1).join(""));
      actual.push(rowsOfSegment);
    }
    const expected = await pythonRows(segments);
    for (let i = 0; i < segments.length; i++) {
      assertEquals(actual[i], expected[i], `segment ${JSON.stringify(segments[i])}`);
    }
    assert(unclosed > 50, `only ${unclosed} unclosed quotes were generated`);
    assert(literal > 50, `only ${literal} literal quotes were generated`);
  },
});

if (!PYTHON) console.log("python3 not found: the comparison with Python's csv module is skipped");

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
