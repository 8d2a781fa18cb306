import { assertEquals, assertRejects } from "@std/assert";
import { readWholeFile } from "../../src/pipeline/read_whole_file.ts";

const MIB = 1024 * 1024;

Deno.test(
  "readWholeFile() reads files of every size exactly",
  { permissions: { read: true, write: true } },
  async (t) => {
    const dir = await Deno.makeTempDir();
    try {
      for (const size of [0, 1, 65_536, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 9 * MIB + 7]) {
        await t.step(`${size} bytes`, async () => {
          const bytes = new Uint8Array(size);
          for (let i = 0; i < size; i += 4093) bytes[i] = (i / 4093) & 0xff;
          const path = `${dir}/f${size}`;
          await Deno.writeFile(path, bytes);
          assertEquals(await readWholeFile(path), bytes);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "readWholeFile() fails cleanly: missing file, aborted reads",
  { permissions: { read: true, write: true } },
  async (t) => {
    const dir = await Deno.makeTempDir();
    try {
      await t.step("missing file", async () => {
        await assertRejects(() => readWholeFile(`${dir}/missing`), Deno.errors.NotFound);
      });
      await t.step("aborted before it starts", async () => {
        const abort = new AbortController();
        abort.abort(new Error("stop"));
        await assertRejects(
          () => readWholeFile(`${dir}/missing`, { signal: abort.signal }),
          Error,
          "stop",
        );
      });
      await t.step("aborted between chunks: rejects and closes the file", async () => {
        // Sanitizers fail the step if the file handle stays open.
        const path = `${dir}/big`;
        await Deno.writeFile(path, new Uint8Array(12 * MIB));
        const abort = new AbortController();
        const read = readWholeFile(path, { signal: abort.signal });
        abort.abort(new Error("cancelled"));
        await assertRejects(() => read, Error, "cancelled");
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
