/**
 * {@linkcode imageSize}: an image's width and height read from its file header (PNG, JPEG,
 * GIF, BMP, WEBP), without decoding the image. Annotation formats that give box coordinates in
 * pixels but no (or a zero) image size need it to normalize them.
 *
 * @module
 */
import type { ImageSize } from "../inputs/regions.ts";

/** How many bytes of a JPEG are walked looking for the frame header before giving up. */
const MAX_JPEG_SCAN = 16 * 1024 * 1024;

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return out.subarray(0, filled);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/**
 * Reads an image's size in pixels from its header: PNG (`IHDR`), JPEG (the first `SOFn` frame
 * header; EXIF orientation is not applied, as annotation tools give stored sizes), GIF (logical
 * screen), BMP (`BITMAPINFOHEADER` or the old core header) and WEBP (`VP8 `, `VP8L`, `VP8X`).
 * Reads a few bytes (JPEG: walks segment headers, seeking past their bodies).
 *
 * @param path The image file.
 * @returns The size, or `undefined` when the format is not one of these or the header is
 * truncated or corrupt.
 * @throws {Deno.errors.NotFound} When the file does not exist (and other file errors).
 *
 * @example A tiny PNG
 * ```ts
 * import { imageSize } from "./image_size.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const png = Uint8Array.from(atob(
 *   "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAGElEQVR4nGNgYGAQYGBQYADTAgIMCgIMAARkAJH7NdfQAAAAAElFTkSuQmCC",
 * ), (c) => c.charCodeAt(0));
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await Deno.writeFile(path, png);
 * assertEquals(await imageSize(path), { width: 3, height: 2 });
 * await Deno.remove(path);
 * ```
 */
export async function imageSize(path: string): Promise<ImageSize | undefined> {
  using file = await Deno.open(path, { read: true });
  const head = await readAt(file, 0, 32);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const positive = (width: number, height: number) =>
    width > 0 && height > 0 ? { width, height } : undefined;
  // PNG: signature, then the IHDR chunk: width and height as big-endian uint32.
  if (head.length >= 24 && head[0] === 0x89 && ascii(head, 1, 4) === "PNG") {
    if (ascii(head, 12, 16) !== "IHDR") return undefined;
    return positive(view.getUint32(16), view.getUint32(20));
  }
  // GIF: "GIF87a"/"GIF89a", then the logical screen width and height, little-endian uint16.
  if (head.length >= 10 && ascii(head, 0, 4) === "GIF8") {
    return positive(view.getUint16(6, true), view.getUint16(8, true));
  }
  // BMP: "BM", the DIB header size at 14, then its width and height (negative: top-down).
  if (head.length >= 26 && head[0] === 0x42 && head[1] === 0x4d) {
    const dib = view.getUint32(14, true);
    if (dib === 12) return positive(view.getUint16(18, true), view.getUint16(20, true));
    return positive(Math.abs(view.getInt32(18, true)), Math.abs(view.getInt32(22, true)));
  }
  // WEBP: RIFF container with the first chunk VP8 (lossy), VP8L (lossless) or VP8X (extended).
  if (head.length >= 30 && ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") {
    const chunk = ascii(head, 12, 16);
    if (chunk === "VP8 ") {
      return positive(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
    }
    if (chunk === "VP8L") {
      const bits = view.getUint32(21, true);
      return positive((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    if (chunk === "VP8X") {
      const width = 1 + (head[24] | (head[25] << 8) | (head[26] << 16));
      const height = 1 + (head[27] | (head[28] << 8) | (head[29] << 16));
      return positive(width, height);
    }
    return undefined;
  }
  // JPEG: SOI, then segments (marker, big-endian length) until a start-of-frame marker.
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) {
    let offset = 2;
    while (offset < MAX_JPEG_SCAN) {
      const segment = await readAt(file, offset, 9);
      if (segment.length < 4 || segment[0] !== 0xff) return undefined;
      const marker = segment[1];
      if (marker === 0xff) {
        offset++; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        offset += 2; // markers without a length
        continue;
      }
      const length = (segment[2] << 8) | segment[3];
      const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
        marker !== 0xcc;
      if (isFrame) {
        if (segment.length < 9) return undefined;
        return positive((segment[7] << 8) | segment[8], (segment[5] << 8) | segment[6]);
      }
      if (marker === 0xd9 || marker === 0xda || length < 2) return undefined;
      offset += 2 + length;
    }
  }
  return undefined;
}
