// The service's option mapping (server/request_options.ts): query parameters and JSON fields onto
// the core's options schema, problems worded with the parameters; include/exclude end to end.
import { assertEquals, assertThrows } from "@std/assert";
import { join } from "node:path";
import { ApiError } from "../../server/api_error.ts";
import { createApp } from "../../server/app.ts";
import { uploadRequestOptions } from "../../server/request_options.ts";
import { UploadService } from "../../server/upload_service.ts";
import { deadlineTest, ndjson } from "./_helpers.ts";

Deno.test("folder uploads take include and exclude: one pattern, several, or a JSON list", () => {
  const one = uploadRequestOptions({ include: "*.jpg", exclude: ["drafts/", "*.tmp"] }, "folder");
  assertEquals([one.include, one.exclude], [["*.jpg"], ["drafts/", "*.tmp"]]);
  const none = uploadRequestOptions({ recursive: "true" }, "folder");
  assertEquals([none.include, none.exclude], [undefined, undefined]);
});

Deno.test("include and exclude problems are worded with the parameters", async (t) => {
  const cases: [string, Record<string, unknown>, "csv" | "folder", string][] = [
    ["bad pattern", { include: ["[abc"] }, "folder", 'include: Invalid pattern "[abc": "[" is not'],
    ["not patterns", { exclude: [1] }, "folder", "exclude must be glob patterns"],
    ["not for a CSV", { include: "*.jpg" }, "csv", 'Unknown option "include" for this upload'],
  ];
  for (const [name, params, kind, message] of cases) {
    await t.step(name, () => {
      const error = assertThrows(() => uploadRequestOptions(params, kind), ApiError, message);
      assertEquals([error.status, error.code], [400, "bad_request"]);
    });
  }
});

Deno.test(deadlineTest(60_000, {
  name: "POST /v1/uploads {folder} uploads only what include and exclude keep",
  permissions: { read: true, write: true, env: true, sys: true, net: ["127.0.0.1"] },
  async fn() {
    const root = await Deno.makeTempDir();
    const dataDir = await Deno.makeTempDir();
    const service = await UploadService.open({ root, dataDir, token: "t0ken", log: () => {} });
    try {
      await Deno.mkdir(join(root, "texts", "drafts"), { recursive: true });
      for (const name of ["a.txt", "b.txt", "drafts/c.txt", "d.wav"]) {
        await Deno.writeTextFile(join(root, "texts", name), name);
      }
      const app = createApp(service);
      const post = (query: string) =>
        app.request(`/v1/uploads?dry_run=true&recursive=true${query}`, {
          method: "POST",
          headers: { authorization: "Bearer t0ken", "content-type": "application/json" },
          body: JSON.stringify({ folder: "texts" }),
        });
      const uploaded = async (query: string) => (await ndjson(await post(query))).at(-1)?.summary;
      assertEquals((await uploaded("")).uploaded, 4);
      assertEquals((await uploaded("&include=*.txt&exclude=drafts/")).uploaded, 2);
      assertEquals((await uploaded("&include=a.txt&include=*.wav")).uploaded, 2);
      const bad = await post("&include=[x");
      assertEquals(bad.status, 400);
      assertEquals(
        (await bad.json()).error.message,
        'include: Invalid pattern "[x": "[" is not closed',
      );
    } finally {
      await service.close();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
}));
