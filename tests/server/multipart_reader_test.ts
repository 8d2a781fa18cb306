import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { multipartBoundary, MultipartReader } from "../../server/multipart_reader.ts";

const encoder = new TextEncoder();

/** Splits bytes into chunks at the given cut points. */
function chunked(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length])]
    .sort((a, b) => a - b);
  const chunks = points.slice(1).map((end, i) => bytes.slice(points[i], end));
  return ReadableStream.from(chunks);
}

async function readAll(body: ReadableStream<Uint8Array>, boundary: string) {
  const parts: { name: string; filename?: string; type?: string; bytes: number[] }[] = [];
  for await (const part of new MultipartReader(body, boundary)) {
    const bytes: number[] = [];
    for await (const chunk of part.body) bytes.push(...chunk);
    parts.push({
      name: part.name,
      ...(part.filename !== undefined ? { filename: part.filename } : {}),
      ...(part.contentType ? { type: part.contentType } : {}),
      bytes,
    });
  }
  return parts;
}

Deno.test("MultipartReader gives the same parts however the body is split", async () => {
  // Content that looks like a boundary, CRLFs at the edges, and bytes of every value.
  const binary = new Uint8Array(300).map((_, i) => i % 256);
  const form = new FormData();
  form.append("labels", "cat,dog");
  form.append("a", new File(["\r\n--not-the-boundary\r\n\r\n"], "tricky.txt"));
  form.append("b", new File([binary], "bin.dat", { type: "application/octet-stream" }));
  form.append("empty", new File([], "empty.txt"));
  const request = new Request("http://x/", { method: "POST", body: form });
  const boundary = multipartBoundary(request.headers.get("content-type")!);
  const bytes = new Uint8Array(await request.arrayBuffer());
  const expected = await readAll(ReadableStream.from([bytes]), boundary);
  assertEquals(expected.map((p) => [p.name, p.filename, p.bytes.length]), [
    ["labels", undefined, 7],
    ["a", "tricky.txt", 24],
    ["b", "bin.dat", 300],
    ["empty", "empty.txt", 0],
  ]);
  assertEquals(expected[2].bytes, [...binary]);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 200; round++) {
    const cuts = Array.from(
      { length: 1 + Math.floor(random() * 40) },
      () => Math.floor(random() * bytes.length),
    );
    assertEquals(await readAll(chunked(bytes, cuts), boundary), expected);
  }
  // One byte at a time.
  const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
  assertEquals(await readAll(chunked(bytes, everyByte), boundary), expected);
});

Deno.test("MultipartReader: preamble, filename*, skipped parts, epilogue", async () => {
  const body = encoder.encode(
    "ignored preamble\r\n--B\r\n" +
      "Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''caf%C3%A9%20menu.txt\r\n" +
      "Content-Type: text/plain\r\n\r\nhello\r\n--B\r\n" +
      'Content-Disposition: form-data; name="skipped"\r\n\r\nnot read\r\n--B--\r\nepilogue',
  );
  const seen: string[] = [];
  for await (const part of new MultipartReader(ReadableStream.from([body]), "B")) {
    if (part.name === "f") seen.push(`${part.filename}:${await part.text(100)}`);
    else seen.push(part.name);
  }
  assertEquals(seen, ["café menu.txt:hello", "skipped"]);
});

Deno.test("MultipartReader refuses malformed bodies and oversized headers", async (t) => {
  const cases: [string, string, ErrorConstructor, RegExp][] = [
    ["no boundary at all", "just text", SyntaxError, /ends before the closing boundary/],
    [
      "no closing boundary",
      '--B\r\ncontent-disposition: form-data; name="x"\r\n\r\nabc',
      SyntaxError,
      /closing boundary/,
    ],
    ["header without colon", "--B\r\nnot a header\r\n\r\nx\r\n--B--", SyntaxError, /part header/],
    ["garbage after boundary", "--B junk\r\n\r\n--B--", SyntaxError, /trailing garbage/],
    [
      "header block too long",
      `--B\r\nx-long: ${"a".repeat(20_000)}\r\n\r\n--B--`,
      RangeError,
      /exceed the limit/,
    ],
  ];
  for (const [name, text, type, message] of cases) {
    await t.step(name, async () => {
      await assertRejects(
        () => readAll(ReadableStream.from([encoder.encode(text)]), "B"),
        type,
        undefined,
      ).then((err) => assertEquals(message.test((err as Error).message), true));
    });
  }
  await t.step("a field over its limit", async () => {
    const body = encoder.encode(
      '--B\r\ncontent-disposition: form-data; name="x"\r\n\r\n' + "a".repeat(50) + "\r\n--B--",
    );
    await assertRejects(async () => {
      for await (const part of new MultipartReader(ReadableStream.from([body]), "B")) {
        await part.text(10);
      }
    }, RangeError);
  });
});

Deno.test("multipartBoundary reads the boundary or refuses", () => {
  assertEquals(multipartBoundary("multipart/form-data; charset=utf-8; boundary=abc"), "abc");
  assertEquals(multipartBoundary('Multipart/Form-Data; boundary="a b"'), "a b");
  assertThrows(() => multipartBoundary("text/csv"), TypeError);
  assertThrows(() => multipartBoundary("multipart/form-data"), TypeError);
  assertThrows(
    () => multipartBoundary(`multipart/form-data; boundary=${"x".repeat(71)}`),
    TypeError,
  );
});
