// GET /openapi.json stays true: every /v1 route of the app is in the document (and nothing
// else is), and real answers of each route, successes and errors alike, match the document:
// status listed, content type listed, the JSON body or every NDJSON line valid against its
// schema (checked with the small checker in _json_schema.ts).
import { assertEquals } from "@std/assert";
import { join } from "node:path";
import { createApp } from "../../../server/app.ts";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { AUTH, csvText, testServer } from "../_helpers.ts";
import { checkSchema, type Json } from "./_json_schema.ts";

const METHODS = ["get", "post", "put", "patch", "delete"];

/** The document's operation for a concrete path, with the template it matched. */
function operationOf(doc: Json, method: string, path: string): Json {
  for (const [template, item] of Object.entries<Json>(doc.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (pattern.test(path) && item[method.toLowerCase()]) return item[method.toLowerCase()];
  }
  return undefined;
}

/** Checks one answer against the document; returns what does not match. */
async function check(doc: Json, method: string, url: string, res: Response): Promise<string[]> {
  const path = new URL(url).pathname;
  const where = `${method} ${path} → ${res.status}`;
  const operation = operationOf(doc, method, path);
  if (!operation) return [`${where}: no operation in openapi.ts`];
  const response = operation.responses[String(res.status)];
  if (!response) {
    await res.body?.cancel();
    return [`${where}: status not listed in openapi.ts`];
  }
  const type = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  const media = response.content?.[type];
  if (!media) {
    await res.body?.cancel();
    return [`${where}: content type ${type} not listed in openapi.ts`];
  }
  for (const name of Object.keys(response.headers ?? {})) {
    if (!res.headers.has(name)) return [`${where}: header ${name} missing`];
  }
  const text = await res.text();
  const values = type === "application/x-ndjson"
    ? text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
    : [JSON.parse(text)];
  return values.flatMap((value, i) =>
    checkSchema(media.schema, value, doc, type === "application/x-ndjson" ? `line ${i + 1}` : "$")
      .map((e) => `${where}: ${e}`)
  );
}

Deno.test({
  name: "openapi.json: every /v1 route is described, and real answers match the description",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const work = await Deno.makeTempDir({ prefix: "upflow-openapi-" });
    const api = await startLocalApi({ dataDir: join(work, "local") });
    const s = await testServer({
      target: { env: null, base: api.baseUrl, pat: api.key, userId: "me", appId: "docs" },
    });
    const errors: string[] = [];
    const seen = new Set<string>();
    let doc: Json;
    const call = async (method: string, path: string, init: RequestInit = {}) => {
      const url = `${s.url}${path}`;
      const res = await fetch(url, { method, ...init });
      const operation = doc && operationOf(doc, method, new URL(url).pathname);
      if (operation) seen.add(`${operation.operationId} ${res.status}`);
      const clone = res.clone();
      errors.push(...await check(doc, method, url, res));
      return clone;
    };
    const firstLine = async (res: Response) => {
      const text = await res.text();
      return JSON.parse(text.slice(0, text.indexOf("\n")));
    };
    try {
      await t.step("the document is served without a token", async () => {
        const res = await fetch(`${s.url}/openapi.json`);
        assertEquals(res.status, 200);
        doc = await res.json();
        assertEquals(doc.openapi, "3.1.0");
      });

      await t.step("every /v1 route of the app is in the document, and only those", () => {
        const routes = new Set(
          createApp(s.server.service).routes
            .filter((r) => r.path.startsWith("/v1") && METHODS.includes(r.method.toLowerCase()))
            .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
        );
        const described = new Set(
          Object.entries<Json>(doc.paths).flatMap(([path, item]) =>
            Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m} ${path}`)
          ),
        );
        assertEquals([...described].sort(), [...routes].sort());
      });

      await t.step("real answers of every route match the document", async () => {
        await Deno.mkdir(join(s.root, "images/cat"), { recursive: true });
        await Deno.copyFile("samples/images/cat/cat_01.png", join(s.root, "images/cat/cat_01.png"));
        await Deno.writeTextFile(join(s.root, "images/notes.txt"), "skipped by input_type");
        const csv = { ...AUTH, "content-type": "text/csv" };
        // Starting jobs: a CSV body with a rejected row, waiting for processing; files; a folder.
        const a = await firstLine(
          await call("POST", "/v1/uploads?wait=true", {
            headers: csv,
            body: csvText(3) + "bad id!,text,x\n",
          }),
        );
        const form = new FormData();
        form.append(
          "file",
          new File([await Deno.readFile("samples/images/dog/dog_01.png")], "dog_01.png"),
        );
        form.append("labels[dog_01.png]", "dog");
        await call("POST", "/v1/uploads", { method: "POST", headers: AUTH, body: form });
        await call("POST", "/v1/uploads?input_type=image", {
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({ folder: "images", recursive: true, labels: true }),
        });
        await call("POST", "/v1/uploads?dry_run=true", { headers: csv, body: csvText(2, "d") });
        // The same IDs again: duplicates, then a retry of them with new IDs.
        const dup = await firstLine(
          await call("POST", "/v1/uploads", { headers: csv, body: csvText(3) }),
        );
        await call("GET", `/v1/uploads/${dup.id}/failures`, { headers: AUTH });
        await call("POST", `/v1/uploads/${dup.id}/retry?new_ids_for_duplicates=true`, {
          headers: AUTH,
        });
        // Reading jobs.
        const page1 = await (await call("GET", "/v1/uploads?limit=2", { headers: AUTH })).json();
        await call("GET", `/v1/uploads?limit=2&page_token=${page1.nextPageToken}`, {
          headers: AUTH,
        });
        await call("GET", "/v1/uploads?state=completed", { headers: AUTH });
        await call("GET", `/v1/uploads/${a.id}`, { headers: AUTH });
        await call("GET", `/v1/uploads/${a.id}/events`, { headers: AUTH });
        await call("GET", `/v1/uploads/${a.id}/failures`, { headers: AUTH });
        // Cancelling a running job (slowed down by latency), and one that has ended.
        api.setFaults("latency-ms=1500");
        const slow = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: csv,
          body: csvText(2, "s"),
        });
        const reader = slow.body!.pipeThrough(new TextDecoderStream()).getReader();
        const running = JSON.parse((await reader.read()).value!.split("\n")[0]);
        await call("DELETE", `/v1/uploads/${running.id}`, { headers: AUTH });
        await reader.cancel();
        api.setFaults({});
        await call("DELETE", `/v1/uploads/${a.id}`, { headers: AUTH });
        // Errors.
        await call("GET", "/v1/uploads");
        await call("GET", "/v1/uploads?limit=0", { headers: AUTH });
        await call("GET", "/v1/uploads?page_token=nope", { headers: AUTH });
        await call("GET", "/v1/uploads/0123456789abcdef01234567", { headers: AUTH });
        await call("GET", "/v1/uploads/0123456789abcdef01234567/events", { headers: AUTH });
        await call("GET", "/v1/uploads/0123456789abcdef01234567/failures", { headers: AUTH });
        await call("POST", "/v1/uploads/0123456789abcdef01234567/retry", { headers: AUTH });
        await call("DELETE", "/v1/uploads/0123456789abcdef01234567", { headers: AUTH });
        await call("POST", "/v1/uploads", {
          headers: { ...AUTH, "content-type": "image/png" },
          body: "x",
        });
        await call("POST", "/v1/uploads?batch_size=none", { headers: csv, body: csvText(1) });
        await call("POST", "/v1/uploads", {
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({ folder: "../etc" }),
        });
        assertEquals(errors, []);
      });

      await t.step("the check refuses an answer the document does not describe", async () => {
        const wrong = structuredClone(doc);
        delete wrong.components.schemas.JobRecord.properties.bytes;
        wrong.paths["/v1/uploads/{id}"].get.responses["404"] = undefined;
        const id = (await (await fetch(`${s.url}/v1/uploads?limit=1`, { headers: AUTH })).json())
          .jobs[0].id;
        const url = `${s.url}/v1/uploads/${id}`;
        const found = await check(wrong, "GET", url, await fetch(url, { headers: AUTH }));
        assertEquals(found, [
          `GET /v1/uploads/${id} → 200: $: property bytes is not in the schema`,
        ]);
        const missing = `${s.url}/v1/uploads/0123456789abcdef01234567`;
        assertEquals(await check(wrong, "GET", missing, await fetch(missing, { headers: AUTH })), [
          "GET /v1/uploads/0123456789abcdef01234567 → 404: status not listed in openapi.ts",
        ]);
      });

      await t.step("every operation was called", () => {
        const operations = Object.values<Json>(doc.paths).flatMap((item) =>
          Object.entries<Json>(item).filter(([m]) => METHODS.includes(m)).map(([, op]) =>
            op.operationId
          )
        );
        const called = new Set([...seen].map((s) => s.split(" ")[0]));
        assertEquals(operations.filter((op) => !called.has(op)), []);
        assertEquals([...seen].sort(), [
          "cancelUpload 200",
          "cancelUpload 404",
          "cancelUpload 409",
          "followUpload 200",
          "followUpload 404",
          "getUpload 200",
          "getUpload 404",
          "listUploadFailures 200",
          "listUploadFailures 404",
          "listUploads 200",
          "listUploads 400",
          "listUploads 401",
          "retryUpload 200",
          "retryUpload 404",
          "startUpload 200",
          "startUpload 400",
          "startUpload 415",
        ]);
      });
    } finally {
      await s.close();
      await api.close();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
