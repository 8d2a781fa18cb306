/**
 * Data for the end-to-end benchmark, generated locally (no downloads): small PNG images (a real
 * 1×1 PNG whose ancillary `rnDm` chunk carries random bytes, so every file is unique and a PNG
 * decoder would still accept it), large MP4-looking videos (`ftyp isom` box, then an `mdat` box of
 * random bytes), and a CSV of URL inputs in Clarifai's format.
 *
 * Pools are written once; a set of N files is a folder of hard links to the first N files of its
 * pool, so the 10k, 20k and 100k sets cost the disk of the largest one only.
 *
 * ```sh
 * deno run -A bench/e2e/generate_data.ts /tmp/upflow-data --small 1000 --large 2 --large-mb 50
 * ```
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { join } from "node:path";

/** A seeded xorshift128 generator filling buffers with pseudo-random 32-bit words quickly. */
export class FastRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * Creates a generator.
   *
   * @param seed Any integer.
   */
  constructor(seed: number) {
    this.#a = seed | 0 || 1;
    this.#b = 0x9e3779b9;
    this.#c = 0x243f6a88;
    this.#d = 0xb7e15162;
    for (let i = 0; i < 16; i++) this.#next();
  }

  #next(): number {
    let t = this.#d;
    const s = this.#a;
    this.#d = this.#c;
    this.#c = this.#b;
    this.#b = s;
    t ^= t << 11;
    t ^= t >>> 8;
    this.#a = t ^ s ^ (s >>> 19);
    return this.#a;
  }

  /**
   * Fills `bytes` (from `start`) with pseudo-random bytes.
   *
   * @param bytes The buffer.
   * @param start The first byte to fill.
   */
  fill(bytes: Uint8Array, start = 0): void {
    const words = Math.floor((bytes.length - start) / 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, words * 4);
    for (let i = 0; i < words; i++) view.setUint32(i * 4, this.#next());
    for (let i = start + words * 4; i < bytes.length; i++) bytes[i] = this.#next() & 0xff;
  }
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const PNG_SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// 1×1 RGB, 8 bits: IHDR and a zlib stream of one filter byte and one pixel.
const IHDR = chunk("IHDR", new Uint8Array([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
const IDAT = chunk(
  "IDAT",
  new Uint8Array([0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00]),
);
const IEND = chunk("IEND", new Uint8Array(0));

/**
 * Builds a valid PNG of exactly `size` bytes: a 1×1 image with a private ancillary chunk of
 * random bytes (decoders skip it).
 *
 * @param size The file size (at least 100 bytes).
 * @param random The generator.
 * @returns The file's bytes.
 */
export function paddedPng(size: number, random: FastRandom): Uint8Array {
  const fixed = PNG_SIGNATURE.length + IHDR.length + IDAT.length + IEND.length + 12;
  const padding = new Uint8Array(Math.max(0, size - fixed));
  random.fill(padding);
  const parts = [PNG_SIGNATURE, IHDR, chunk("rnDm", padding), IDAT, IEND];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Writes an MP4-looking header (`ftyp` box, `mdat` box header) over the first 40 bytes of
 * `bytes` and marks it with `index` so every file hashes differently.
 *
 * @param bytes The file's bytes (the rest is left as is: random payload).
 * @param index A number written into the payload.
 */
export function stampMp4(bytes: Uint8Array, index: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  };
  view.setUint32(0, 24);
  ascii(4, "ftypisom");
  view.setUint32(12, 0x200);
  ascii(16, "isomiso2");
  view.setUint32(24, bytes.length - 24);
  ascii(28, "mdat");
  view.setFloat64(32, index);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `count` small PNG images of about `size` bytes into `dir` (skipped when already there),
 * named `img-000001.png`, ….
 *
 * @param dir The pool folder.
 * @param count How many images.
 * @param size Bytes per image.
 * @returns The total bytes written.
 */
export async function writeSmallPool(dir: string, count: number, size: number): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  const random = new FastRandom(7);
  let total = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, smallName(i));
    const png = paddedPng(size, random);
    total += png.length;
    pending.push(Deno.writeFile(path, png));
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return total;
}

/**
 * Writes `count` MP4-looking videos of `bytes` bytes each into `dir` (one random payload, its
 * first 64 KiB re-randomised per file so that no two files hash alike).
 *
 * @param dir The pool folder.
 * @param count How many videos.
 * @param bytes Bytes per video.
 * @returns The total bytes written.
 */
export async function writeLargePool(dir: string, count: number, bytes: number): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  const random = new FastRandom(11);
  const buffer = new Uint8Array(bytes);
  random.fill(buffer);
  for (let i = 0; i < count; i++) {
    random.fill(buffer.subarray(0, Math.min(bytes, 65536)));
    stampMp4(buffer, i);
    await Deno.writeFile(join(dir, largeName(i)), buffer);
  }
  return count * bytes;
}

/** The file name of small image `i`. */
export function smallName(i: number): string {
  return `img-${String(i).padStart(6, "0")}.png`;
}

/** The file name of large video `i`. */
export function largeName(i: number): string {
  return `video-${String(i).padStart(4, "0")}.mp4`;
}

/**
 * Makes `dir` a folder of hard links to the first `count` files of `pool` (named by `name`).
 *
 * @param pool The pool folder.
 * @param dir The set's folder (created).
 * @param count How many files.
 * @param name The file name of index `i`.
 */
export async function linkSet(
  pool: string,
  dir: string,
  count: number,
  name: (i: number) => string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const to = join(dir, name(i));
    if (!(await exists(to))) await Deno.link(join(pool, name(i)), to);
  }
}

/**
 * Writes a CSV of `rows` image URL inputs: `inputid,input,concepts` (one concept per row, one of
 * ten).
 *
 * @param path The CSV file.
 * @param rows How many rows.
 * @returns The file's size in bytes.
 */
export async function writeUrlCsv(path: string, rows: number): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const labels = ["cat", "dog", "bird", "fish", "horse", "cow", "sheep", "fox", "owl", "bee"];
  let size = 0;
  let lines: string[] = ["inputid,input,concepts"];
  const flush = async () => {
    const bytes = encoder.encode(lines.join("\n") + "\n");
    size += bytes.length;
    let at = 0;
    while (at < bytes.length) at += await file.write(bytes.subarray(at));
    lines = [];
  };
  for (let i = 0; i < rows; i++) {
    const id = `row-${String(i).padStart(7, "0")}`;
    lines.push(`${id},https://images.example.com/${labels[i % 10]}/${id}.jpg,${labels[i % 10]}`);
    if (lines.length >= 10_000) await flush();
  }
  await flush();
  file.close();
  return size;
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      small: { type: "string", default: "1000" },
      "small-kb": { type: "string", default: "30" },
      large: { type: "string", default: "2" },
      "large-mb": { type: "string", default: "50" },
      rows: { type: "string", default: "1000" },
    },
  });
  const root = positionals[0] ?? await Deno.makeTempDir({ prefix: "upflow-data-" });
  const t0 = performance.now();
  await writeSmallPool(
    join(root, "small"),
    Number(values.small),
    Number(values["small-kb"]) * 1000,
  );
  const t1 = performance.now();
  await writeLargePool(
    join(root, "large"),
    Number(values.large),
    Number(values["large-mb"]) * 1_000_000,
  );
  const t2 = performance.now();
  await writeUrlCsv(join(root, "urls.csv"), Number(values.rows));
  const t3 = performance.now();
  console.log(
    `${root}: small ${(t1 - t0).toFixed(0)} ms, large ${(t2 - t1).toFixed(0)} ms, csv ${
      (t3 - t2).toFixed(0)
    } ms`,
  );
}
