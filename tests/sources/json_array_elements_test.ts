import { assertEquals, assertRejects } from "@std/assert";
import { jsonArrayElements } from "../../src/sources/json_array_elements.ts";

/** Splits text into chunks of pseudo-random sizes (1 to max), deterministic per seed. */
function split(text: string, seed: number, max: number): string[] {
  const chunks: string[] = [];
  let state = seed;
  let at = 0;
  while (at < text.length) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % max);
    chunks.push(text.slice(at, at + size));
    at += size;
  }
  return chunks;
}

const document = {
  info: { text: 'brackets ] } [ { and "quotes" and \\ backslashes', list: [[1, [2]], {}] },
  licenses: [{ id: 1, name: "CC ]" }],
  images: [
    { id: 1, file_name: "a b/ü.jpg", width: 640, height: 480 },
    { id: "x", file_name: 'quote".png', nested: { deep: [[[]]] } },
  ],
  skipped_number: -12.5e3,
  skipped_literal: null,
  annotations: [
    { id: 1, bbox: [0.5, 1e-3, 3, 4], segmentation: [[1, 2, 3, 4, 5, 6]] },
    { id: 2, segmentation: { counts: 'a\\b"c]}', size: [2, 2] } },
    7,
    "text",
    null,
    [],
  ],
  categories: [{ id: 1, name: "猫 ünïcode ✓" }],
  empty: [],
};

Deno.test("jsonArrayElements yields the same elements however the text is split", async (t) => {
  const texts = {
    compact: JSON.stringify(document),
    indented: JSON.stringify(document, null, 2),
    "CRLF and tabs": JSON.stringify(document, null, "\t").replaceAll("\n", "\r\n"),
  };
  for (const [name, text] of Object.entries(texts)) {
    await t.step(name, async () => {
      const expected = ["images", "annotations", "categories"].flatMap((key) =>
        (document[key as keyof typeof document] as unknown[]).map((value, index) => ({
          key,
          value,
          index,
        }))
      );
      for (const [seed, max] of [[1, 1], [2, 3], [3, 17], [4, 200], [5, 100000]]) {
        const got = await Array.fromAsync(
          jsonArrayElements(split(text, seed, max), ["images", "annotations", "categories"]),
        );
        assertEquals(got.map(({ key, value, index }) => ({ key, value, index })), expected);
      }
    });
  }
  await t.step("lines are where elements start", async () => {
    const text = '{\n"images": [\n  {"id": 1},\n  {"id":\n 2}\n]}';
    const got = await Array.fromAsync(jsonArrayElements(split(text, 9, 4), ["images"]));
    assertEquals(got.map((e) => e.line), [3, 4]);
  });
  await t.step("a key holding something other than an array is skipped", async () => {
    const got = await Array.fromAsync(jsonArrayElements(['{"images": {"a": 1}}'], ["images"]));
    assertEquals(got, []);
  });
  await t.step("an async iterable of chunks", async () => {
    const stream = ReadableStream.from(['{"images": [1', ", 2]}"]);
    const got = await Array.fromAsync(jsonArrayElements(stream, ["images"]));
    assertEquals(got.map((e) => e.value), [1, 2]);
  });
});

Deno.test("jsonArrayElements reports malformed documents with the line", async (t) => {
  const cases: [string, string, string][] = [
    [
      "not an object",
      "[1, 2]",
      'Syntax error on line 1: expected "{" at the start of the document, found "["',
    ],
    [
      "empty",
      "",
      'Syntax error on line 1: expected "{" at the start of the document, found the end of the text',
    ],
    [
      "truncated element",
      '{"images": [\n{"id": 1',
      "Syntax error on line 2: the text ends inside a value",
    ],
    [
      "truncated array",
      '{"images": [{"id": 1},',
      'Syntax error on line 1: the text ends inside the "images" array',
    ],
    [
      "text ending in a number element",
      '{"images": [1, 23',
      'Syntax error on line 1: expected "," or "]" in the "images" array, found the end of the text',
    ],
    [
      "bad element",
      '{"images": [\n\n{"id": 01}]}',
      'Syntax error on line 3: element 1 of "images":',
    ],
    [
      "missing comma",
      '{"images": [{"a": 1} {"b": 2}]}',
      'expected "," or "]" in the "images" array, found "{"',
    ],
    ["missing colon", '{"images" [1]}', 'expected ":" after member name "images", found "["'],
    ["unquoted key", "{images: [1]}", 'expected a member name in double quotes, found "i"'],
    [
      "trailing text",
      '{"images": []} x',
      'Syntax error on line 1: unexpected "x" after the end of the document',
    ],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, async () => {
      // Split in small chunks, and whole (a value ending the text is then in the first chunk).
      for (const chunks of [split(text, 7, 5), [text]]) {
        await assertRejects(
          () => Array.fromAsync(jsonArrayElements(chunks, ["images"])),
          SyntaxError,
          message,
        );
      }
    });
  }
});
