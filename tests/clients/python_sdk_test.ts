/**
 * The official Clarifai Python SDK (the client Clarifai's "Upload Data to Dataset via API" page
 * documents) runs that page's examples against the local API started here on 127.0.0.1, and what
 * the local API holds is compared with what the SDK sent: folder with labels; CSV raw / url /
 * file_path with metadata and geo points; image + boxes and polygon; video + frame boxes; text +
 * concepts read back with `list_annotations`; batch upload with `get_upload_status=True`; the
 * failure log and `retry_duplicates`; duplicate IDs.
 *
 * The SDK is installed offline, once, into a venv under /tmp by the install script beside the
 * repository (`../shared/clients/python/install.sh`, or the path in UPFLOW_PYTHON_SDK_INSTALL).
 * Without python3 or that script the test is skipped, and says so.
 */
import { assert, assertEquals } from "@std/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { Annotation, Input } from "../../src/gen/clarifai/api/resources_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type LocalApi, startLocalApi } from "../../server/local/local_api.ts";
import { v2Client } from "../server/local/_helpers.ts";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));
const INSTALL = Deno.env.get("UPFLOW_PYTHON_SDK_INSTALL") ??
  join(ROOT, "..", "shared", "clients", "python", "install.sh");
const VENV = "/tmp/upflow-clarifai-py";
const SCRIPT = fromFileUrl(new URL("./python/upload_page_examples.py", import.meta.url));
const KEY = "py-key";
const USER = "local";

function hasPython(): boolean {
  try {
    return new Deno.Command("python3", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const skipReason = !hasPython()
  ? "python3 is not installed"
  : !existsSync(INSTALL)
  ? `the SDK install script is not at ${INSTALL} (set UPFLOW_PYTHON_SDK_INSTALL)`
  : undefined;
if (skipReason) {
  console.log(`tests/clients: SKIPPED the official Python SDK checks: ${skipReason}`);
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  return {
    ok: out.success,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Runs one scenario of the page's examples in its own app; returns what it printed last. */
async function scenario(api: LocalApi, name: string, work: string) {
  const result = await run(join(VENV, "bin", "python"), [SCRIPT, name, join(work, name)], {
    CLARIFAI_API_BASE: api.baseUrl,
    CLARIFAI_PAT: KEY,
    CLARIFAI_USER_ID: USER,
    CLARIFAI_APP_ID: `py-${name}`,
    PYTHONUNBUFFERED: "1",
  });
  if (!result.ok) throw new Error(`${name} failed:\n${result.stderr.slice(-3000)}`);
  const lines = result.stdout.trim().split("\n");
  return { sent: JSON.parse(lines.at(-1)!), stdout: result.stdout };
}

const f32 = (x: number) => Math.fround(x);
const AUTH = { headers: { authorization: `Key ${KEY}` } };

Deno.test({
  name: "the official Python SDK runs the upload page's examples against the local API",
  ignore: skipReason !== undefined,
  permissions: "inherit",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const installed = await run("bash", [INSTALL, VENV]);
    assert(installed.ok, `the SDK install failed:\n${installed.stderr.slice(-2000)}`);
    const work = await Deno.makeTempDir({ prefix: "upflow-py-sdk-" });
    await using api = await startLocalApi({
      dataDir: join(work, "data"),
      key: KEY,
      versionStepMs: 20,
    });
    const client = v2Client(api.baseUrl);
    const ua = (name: string) => ({ userId: USER, appId: `py-${name}` });
    const names = ["folder", "csv", "annotations", "video", "text", "batch", "retry", "duplicates"];
    // The scenarios use separate apps and wait on the server most of the time: run them together.
    const results = new Map(
      await Promise.all(names.map(async (n) => [n, await scenario(api, n, work)] as const)),
    );
    const datasetInputs = async (name: string, datasetId: string): Promise<Input[]> => {
      const r = await client.listDatasetInputs(
        { userAppId: ua(name), datasetId, perPage: 1000 },
        AUTH,
      );
      assertEquals(r.status?.code, StatusCode.SUCCESS, `dataset ${datasetId}`);
      return r.datasetInputs.map((d) => d.input!);
    };
    const annotations = async (name: string, inputIds: string[]): Promise<Annotation[]> => {
      const r = await client.listAnnotations(
        { userAppId: ua(name), inputIds, perPage: 1000 },
        AUTH,
      );
      return r.annotations;
    };
    const concepts = (i: Input) => i.data?.concepts.map((c) => c.id) ?? [];

    try {
      await t.step("folder with labels", async () => {
        const { sent } = results.get("folder")!;
        const held = await datasetInputs("folder", "folder");
        const byId = new Map(held.map((i) => [i.id, i]));
        assertEquals([...byId.keys()].sort(), sent.inputs.map((i: { id: string }) => i.id).sort());
        for (const s of sent.inputs) {
          assertEquals(concepts(byId.get(s.id)!), s.concepts);
          assertEquals(byId.get(s.id)!.status?.code, StatusCode.INPUT_SUCCESS);
        }
        const levels = await annotations("folder", [...byId.keys()]);
        assertEquals(levels.length, sent.inputs.length, "one input-level annotation each");
        assert(levels.every((a) => a.inputLevel));
      });

      await t.step("CSV url / file_path / raw with metadata and geo points", async () => {
        const { sent } = results.get("csv")!;
        for (const s of sent.inputs) {
          const held = (await datasetInputs("csv", s.dataset)).find((i) => i.id === s.id);
          assert(held, `${s.id} in ${s.dataset}`);
          const data = held.data!;
          if (s.text !== null) assertEquals(data.text?.raw, s.text);
          if (s.url !== null) assertEquals(data.image?.url, s.url);
          if (s.kind === "image" && s.url === null) {
            assert(data.image?.url.includes("/local/blobs/"));
          }
          assertEquals(concepts(held), s.concepts);
          assertEquals(data.metadata, s.metadata);
          assertEquals(
            [data.geo?.geoPoint?.longitude, data.geo?.geoPoint?.latitude],
            [f32(s.geo[0]), f32(s.geo[1])],
          );
        }
      });

      await t.step("image + bounding boxes and a polygon", async () => {
        const { sent } = results.get("annotations")!;
        const held = await annotations("annotations", [sent.input]);
        const regions = held.filter((a) => !a.inputLevel).flatMap((a) => a.data?.regions ?? []);
        const boxes = regions.filter((r) => r.regionInfo?.boundingBox).map((r) => {
          const b = r.regionInfo!.boundingBox!;
          return [r.data!.concepts[0].id, [b.leftCol, b.topRow, b.rightCol, b.bottomRow]];
        });
        assertEquals(
          boxes,
          sent.boxes.map(([l, b]: [string, number[]]) => [l, b.map(f32)]),
        );
        const polygon = regions.find((r) => r.regionInfo?.polygon)!;
        assertEquals(polygon.data?.concepts[0].id, sent.polygon.label);
        assertEquals(
          polygon.regionInfo!.polygon!.points.map((p) => [p.col, p.row]),
          sent.polygon.points.map((p: number[]) => p.map(f32)),
        );
      });

      await t.step("video + frame boxes", async () => {
        const { sent } = results.get("video")!;
        const input = await client.getInput({ userAppId: ua("video"), inputId: sent.input }, AUTH);
        assert(input.input?.data?.video, "a video input");
        const [held] = (await annotations("video", [sent.input])).filter((a) => !a.inputLevel);
        const frames = held.data!.frames.map((f) => {
          const b = f.data!.regions[0].regionInfo!.boundingBox!;
          assertEquals(f.data!.regions[0].data?.concepts[0].id, sent.label);
          return [f.frameInfo!.time, [b.leftCol, b.topRow, b.rightCol, b.bottomRow]];
        });
        assertEquals(frames, sent.frames.map(([t, b]: [number, number[]]) => [t, b.map(f32)]));
      });

      await t.step("text + concepts, read back with list_annotations", async () => {
        const { sent } = results.get("text")!;
        for (const s of sent.inputs) {
          const held = await client.getInput({ userAppId: ua("text"), inputId: s.id }, AUTH);
          assertEquals(held.input?.data?.text?.raw, s.text);
          assertEquals(concepts(held.input!), s.concepts);
        }
        assertEquals(
          sent.listed,
          sent.inputs.map((s: { id: string; concepts: string[] }) => ({
            input_id: s.id,
            concepts: s.concepts,
          })),
          "the SDK's list_annotations returns the concepts",
        );
      });

      await t.step("batch upload with get_upload_status=True", async () => {
        const { sent, stdout } = results.get("batch")!;
        const held = await datasetInputs("batch", "batch");
        const byId = new Map(held.map((i) => [i.id, i]));
        for (const s of sent.inputs) assertEquals(concepts(byId.get(s.id)!), s.concepts);
        assertEquals(byId.size, sent.inputs.length);
        assert(stdout.includes("Dataset Metrics Comparison"), "the SDK displayed the status");
        assertEquals(sent.versions.length, 2, "one version before the upload, one after");
        const after = await client.getDatasetVersion(
          { userAppId: ua("batch"), datasetId: "batch", datasetVersionId: sent.versions[0] },
          AUTH,
        );
        assertEquals(after.datasetVersion?.status?.code, StatusCode.DATASET_VERSION_READY);
        assertEquals(after.datasetVersion?.metrics["/"]?.inputsCount, 10n);
        assertEquals(after.datasetVersion?.metrics["/"]?.positiveInputTagsCount, 10n);
      });

      await t.step("the failure log and retry_duplicates", async () => {
        const { sent } = results.get("retry")!;
        assert(sent.log_mentions_duplicates, "the log lists the duplicates");
        const held = await datasetInputs("retry", "retry");
        const ids = held.map((i) => i.id);
        // The SDK names each input "<dataset id>-<item id>".
        for (let n = 0; n < 6; n++) assert(ids.includes(`retry-dup-${n}`), `retry-dup-${n}`);
        const fresh = ids.filter((id) => !id.startsWith("retry-dup-"));
        assertEquals(fresh.length, 4, "the 4 duplicates re-sent under new IDs");
        assert(fresh.every((id) => /^[0-9a-f]{32}$/.test(id)));
      });

      await t.step("duplicate IDs", async () => {
        const { sent } = results.get("duplicates")!;
        assertEquals(sent.status, StatusCode.FAILURE);
        assertEquals(sent.inputs, [{
          id: "same-id",
          code: StatusCode.INPUT_DUPLICATE,
          details: "Input has a duplicate ID.",
        }]);
        const held = await client.getInput(
          { userAppId: ua("duplicates"), inputId: "same-id" },
          AUTH,
        );
        assertEquals(held.input?.data?.text?.raw, "first", "the first one stays");
      });
    } finally {
      await api.close();
      await Deno.remove(work, { recursive: true });
    }
  },
});
