/**
 * Reading small files, the largest cost of upflow's client on small images (a CPU profile of
 * `upflow folder` on 30 KB images puts ~38% of its time in open/stat/read ops): the load stage's
 * `readWholeFile` (open, fstat, 4 MiB reads and one more read to find the end, close, after the
 * load stage's own `Deno.stat`) against `Deno.readFile` (one op: the whole file read in Rust).
 * 2,000 files of 30 KB written once below to a temporary folder.
 *
 * Run: `deno bench -A bench/read_file_bench.ts`
 */
import { join } from "node:path";
import { readWholeFile } from "../src/pipeline/read_whole_file.ts";

const COUNT = 2_000;
const DIR = Deno.makeTempDirSync({ prefix: "upflow-read-bench-" });
const PATHS: string[] = [];
const content = new Uint8Array(30_000);
for (let i = 0; i < 30_000; i += 65536) crypto.getRandomValues(content.subarray(i, i + 65536));
for (let i = 0; i < COUNT; i++) {
  const path = join(DIR, `img-${i}.png`);
  Deno.writeFileSync(path, content);
  PATHS.push(path);
}
globalThis.addEventListener("unload", () => Deno.removeSync(DIR, { recursive: true }));

async function readAll(read: (path: string) => Promise<Uint8Array>, parallel = 4) {
  let next = 0;
  let bytes = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < PATHS.length) {
      const read1 = await read(PATHS[next++]);
      bytes += read1.length;
    }
  }));
  if (bytes !== COUNT * content.length) throw new Error(`read ${bytes} bytes`);
}

Deno.bench({
  name: "Deno.stat + readWholeFile (the load stage today), 4 at once",
  group: "read",
  baseline: true,
  async fn() {
    await readAll(async (path) => {
      await Deno.stat(path);
      return await readWholeFile(path);
    });
  },
});

Deno.bench({
  name: "Deno.stat + Deno.readFile, 4 at once",
  group: "read",
  async fn() {
    await readAll(async (path) => {
      await Deno.stat(path);
      return await Deno.readFile(path);
    });
  },
});

Deno.bench({
  name: "Deno.readFile alone, 4 at once",
  group: "read",
  async fn() {
    await readAll((path) => Deno.readFile(path));
  },
});
