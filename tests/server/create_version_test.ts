// The upload service's `create_version`: the job's `done` line carries the dataset version's
// metrics; without `dataset` the request is refused with the parameters' own names.
import { assertEquals, assertStringIncludes } from "@std/assert";
import { AUTH, csvText, ndjson, testServer, withDeadline } from "./_helpers.ts";
import { openApiDocument } from "../../server/pages/openapi.ts";
import { checkSchema } from "./pages/_json_schema.ts";

const CSV = { ...AUTH, "content-type": "text/csv" };

Deno.test({
  name: "service: create_version puts the version's metrics in the done line",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  async fn() {
    const t = await testServer();
    try {
      await withDeadline(60_000, "create_version upload", async (signal) => {
        const res = await fetch(
          `${t.url}/v1/uploads?dataset=notes&create_dataset=true&create_version=true`,
          { method: "POST", headers: CSV, body: csvText(6), signal },
        );
        assertEquals(res.status, 200);
        const seen = await ndjson(res);
        // Every line, the version's included, matches the service's OpenAPI description.
        const doc = openApiDocument();
        const line = doc.components.schemas.EventLine;
        assertEquals(seen.flatMap((l, i) => checkSchema(line, l, doc, `line ${i + 1}`)), []);
        const done = seen.at(-1);
        assertEquals(done.type, "done");
        assertEquals(done.summary.uploaded, 6);
        assertEquals(done.summary.version.status, "ready");
        assertEquals(done.summary.version.metrics.inputsByKind, { text: 6 });
        assertEquals(
          done.summary.version.metrics.concepts.map((c: { id: string; inputs: number }) => [
            c.id,
            c.inputs,
          ]),
          [["even", 3], ["odd", 3]],
        );
      });
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "service: create_version without dataset is a bad request",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  async fn() {
    const t = await testServer();
    try {
      const res = await fetch(`${t.url}/v1/uploads?create_version=true`, {
        method: "POST",
        headers: CSV,
        body: csvText(1),
      });
      assertEquals(res.status, 400);
      assertStringIncludes(await res.text(), "create_version needs dataset");
    } finally {
      await t.close();
    }
  },
});
