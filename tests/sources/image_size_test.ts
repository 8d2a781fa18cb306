import { assertEquals, assertRejects } from "@std/assert";
import { imageSize } from "../../src/sources/image_size.ts";
import { pngBytes } from "./_png.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

function bytes(...parts: (number[] | string | Uint8Array)[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string"
      ? new TextEncoder().encode(p)
      : p instanceof Uint8Array
      ? p
      : Uint8Array.from(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
const le16 = (n: number) => [n & 255, n >> 8];
const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];

Deno.test({
  name: "imageSize reads PNG, JPEG, GIF, BMP and WEBP headers",
  permissions: { read: true, write: true },
  fn: async (t) => {
    await t.step("real fixture files", async () => {
      assertEquals(await imageSize(`${fixtures}coco/images/cat_01.png`), { width: 64, height: 48 });
      assertEquals(await imageSize(`${fixtures}coco/images/sub/dog 02.jpg`), {
        width: 40,
        height: 30,
      });
      assertEquals(await imageSize(`${fixtures}yolo/images/02.jpg`), { width: 50, height: 20 });
      assertEquals(await imageSize(`${fixtures}voc/JPEGImages/03.jpg`), { width: 30, height: 40 });
    });
    const dir = await Deno.makeTempDir();
    const cases: [string, Uint8Array, { width: number; height: number } | undefined][] = [
      ["PNG", pngBytes(300, 7), { width: 300, height: 7 }],
      ["GIF", bytes("GIF89a", le16(320), le16(200), [0, 0, 0]), { width: 320, height: 200 }],
      [
        "BMP info header, top-down",
        bytes("BM", le32(0), le32(0), le32(54), le32(40), le32(17), le32(-9), [0, 0]),
        { width: 17, height: 9 },
      ],
      [
        "BMP core header",
        bytes("BM", le32(0), le32(0), le32(26), le32(12), le16(5), le16(6), le16(1), le16(24)),
        { width: 5, height: 6 },
      ],
      [
        "WEBP lossy",
        bytes(
          "RIFF",
          le32(0),
          "WEBPVP8 ",
          le32(0),
          [0, 0, 0, 0x9d, 0x01, 0x2a],
          le16(400),
          le16(300),
        ),
        { width: 400, height: 300 },
      ],
      [
        "WEBP lossless",
        bytes(
          "RIFF",
          le32(0),
          "WEBPVP8L",
          le32(0),
          [0x2f],
          le32((99 & 0x3fff) | ((49 & 0x3fff) << 14)),
          new Uint8Array(16),
        ),
        { width: 100, height: 50 },
      ],
      [
        "WEBP extended",
        bytes("RIFF", le32(0), "WEBPVP8X", le32(10), [0, 0, 0, 0], [0xff, 0x0f, 0], [0x37, 0, 0]),
        { width: 4096, height: 56 },
      ],
      [
        "JPEG with an APP segment before the frame header",
        bytes([0xff, 0xd8, 0xff, 0xe1], [0x10, 0x02], new Uint8Array(0x1000), [
          0xff,
          0xc2,
          0,
          11,
          8,
          0,
          77,
          0,
          66,
        ]),
        { width: 66, height: 77 },
      ],
      ["JPEG ending before a frame", bytes([0xff, 0xd8, 0xff, 0xd9]), undefined],
      ["truncated PNG", pngBytes(3, 3).subarray(0, 20), undefined],
      [
        "PNG of zero width",
        (() => {
          const png = pngBytes(1, 1);
          png.set([0, 0, 0, 0], 16);
          return png;
        })(),
        undefined,
      ],
      ["TIFF (not read)", bytes("II*\0", le32(8), new Uint8Array(30)), undefined],
      ["text", bytes("hello world, this is not an image at all"), undefined],
      ["empty", new Uint8Array(), undefined],
    ];
    for (const [name, content, expected] of cases) {
      await t.step(name, async () => {
        const path = `${dir}/image`;
        await Deno.writeFile(path, content);
        assertEquals(await imageSize(path), expected);
      });
    }
    await t.step("a missing file is NotFound", async () => {
      await assertRejects(() => imageSize(`${dir}/missing.png`), Deno.errors.NotFound);
    });
    await Deno.remove(dir, { recursive: true });
  },
});
