import { coalesceMessages } from "../../../server/local/protocol_handler.ts";
import { assertEquals } from "@std/assert";

function envelope(bytes: number[]): number[] {
  const n = bytes.length;
  return [0, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255, ...bytes];
}

Deno.test("coalesceMessages yields each envelope whole, however the body is cut", async () => {
  const messages = [[1, 2, 3], [], Array.from({ length: 300 }, (_, i) => i & 255), [7]];
  const body = new Uint8Array(messages.flatMap(envelope));
  for (let seed = 1; seed <= 50; seed++) {
    // Cut the body at pseudo-random places (1 to 12 bytes a chunk).
    const chunks: Uint8Array[] = [];
    let at = 0, x = seed;
    while (at < body.length) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const size = 1 + (x % 12);
      chunks.push(body.subarray(at, Math.min(body.length, at + size)));
      at += size;
    }
    const out = await Array.fromAsync(coalesceMessages(ReadableStream.from(chunks), 1 << 20));
    assertEquals(out.map((c) => [...c]), messages.map(envelope));
  }
});

Deno.test("coalesceMessages passes an envelope over the limit through as it came", async () => {
  const body = new Uint8Array(envelope(Array.from({ length: 40 }, () => 5)));
  const chunks = [body.subarray(0, 3), body.subarray(3, 20), body.subarray(20)];
  const out = await Array.fromAsync(coalesceMessages(ReadableStream.from(chunks), 10));
  assertEquals(out.reduce((n, c) => n + c.length, 0), body.length);
  assertEquals([...out[0]], [...body.subarray(0, 5)]);
});

Deno.test("coalesceMessages hands on a body cut short", async () => {
  const body = new Uint8Array(envelope([1, 2, 3, 4]));
  const out = await Array.fromAsync(
    coalesceMessages(ReadableStream.from([body.subarray(0, 7)]), 99),
  );
  assertEquals(out.map((c) => [...c]), [[...body.subarray(0, 7)]]);
});
