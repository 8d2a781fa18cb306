// The local API's dataset browser in a real browser (Debian's chromium through puppeteer-core):
// a COCO upload's known box is drawn at the right pixels over its image (read back from the
// DOM), polygons too; counts by status, datasets, paging of a large app, metadata, geo point,
// and video frame regions on a timeline. Screenshots go to the folder the test prints.
import { assert, assertAlmostEquals, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { startLocalApi } from "../../../../server/local/local_api.ts";
import { createClarifaiClient } from "../../../../src/clarifai/client.ts";
import { summaryOf } from "../../../../src/pipeline/progress_event.ts";
import { uploadCoco } from "../../../../src/upload/upload_formats.ts";
import { HAVE_CHROMIUM, launchBrowser, screenshot } from "../../pages/_browser.ts";

// The page's globals, for the functions that run inside the browser (no DOM types here).
// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
type El = any;

const MP4 = new Uint8Array([
  0,
  0,
  0,
  24,
  ...new TextEncoder().encode("ftypisom"),
  0,
  0,
  2,
  0,
  ...new Array(64).fill(0),
]);

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

async function rest(baseUrl: string, key: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${baseUrl}/v2/users/me/apps/zoo/${path}`, {
    method: "POST",
    headers: { authorization: `Key ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assertEquals(json.status.code, 10000, JSON.stringify(json.status));
}

const box = (top: number, left: number, bottom: number, right: number, concept: string) => ({
  region_info: {
    bounding_box: { top_row: top, left_col: left, bottom_row: bottom, right_col: right },
  },
  data: { concepts: [{ id: concept, name: concept, value: 1 }] },
});

Deno.test({
  name:
    "local API browser in chromium: boxes at the right pixels, polygons, counts, paging, geo, video timeline",
  ignore: !HAVE_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const work = await Deno.makeTempDir({ prefix: "upflow-browser-" });
    const api = await startLocalApi({ dataDir: join(work, "local") });
    const chromium = await launchBrowser();
    try {
      // A COCO dataset: cat_01.png (64 × 48) has box [32, 0, 32, 48] "cat" with the same polygon,
      // and box [0, 0, 16, 12] "golden retriever".
      const client = createClarifaiClient({
        base: api.baseUrl,
        pat: api.key,
        userId: "me",
        appId: "zoo",
      });
      const summary = await summaryOf(uploadCoco("tests/fixtures/coco/instances.json", {
        client,
        imagesDir: "tests/fixtures/coco/images",
        datasetId: "animals",
        createDataset: true,
        journal: join(work, "journal.ndjson"),
      }));
      assert(summary.uploaded >= 3, JSON.stringify(summary));
      const total = summary.uploaded + 52;
      // A text with metadata and a geo point, a video with regions on three frames, and enough
      // texts to need a second page.
      await rest(api.baseUrl, api.key, "inputs", {
        inputs: [
          {
            id: "note",
            data: {
              text: { raw: "A note about the zoo" },
              metadata: { keeper: "Ada", cage: 7 },
              geo: { geo_point: { latitude: 48.8566, longitude: 2.3522 } },
              concepts: [{ id: "memo", value: 1 }],
            },
          },
          { id: "clip", data: { video: { base64: base64(MP4) } } },
          ...Array.from(
            { length: 50 },
            (_, i) => ({
              id: `t${String(i).padStart(2, "0")}`,
              data: { text: { raw: `text ${i}` } },
            }),
          ),
        ],
      });
      await api.waitForProcessing();
      await rest(api.baseUrl, api.key, "annotations", {
        annotations: [{
          input_id: "clip",
          data: {
            frames: [0, 1000, 2500].map((time, i) => ({
              frame_info: { index: i, time },
              data: { regions: [box(0.1, 0.1 + i * 0.2, 0.5, 0.3 + i * 0.2, "runner")] },
            })),
          },
        }],
      });

      const page = await chromium.browser.newPage();
      await page.setViewport({ width: 1200, height: 900 });

      await t.step("GET / lists the apps", async () => {
        await page.goto(`${api.baseUrl}/`);
        const rows = await page.$$eval(
          "#apps tbody tr",
          (trs: El[]) => trs.map((tr: El) => tr.textContent),
        );
        assertEquals(rows.length, 1);
        assertStringIncludes(rows[0], "zoo");
        await page.click("#apps a");
        await page.waitForSelector("#inputs");
      });

      await t.step("the app page: counts by status, datasets, a page of inputs", async () => {
        assertEquals(await page.$eval("#total", (e: El) => e.textContent), String(total));
        assertStringIncludes(
          await page.$eval("#status-counts", (e: El) => e.textContent),
          `all ${total}`,
        );
        assertStringIncludes(
          await page.$eval("#status-counts", (e: El) => e.textContent),
          `processed ${total}`,
        );
        assertStringIncludes(
          await page.$eval("#datasets", (e: El) => e.textContent),
          `animals (${summary.uploaded})`,
        );
        assertEquals((await page.$$("#inputs .card")).length, 48);
        await screenshot(page, "local-app");
      });

      await t.step("a known box is drawn at the right pixels over its image", async () => {
        await page.goto(`${api.baseUrl}/browse/me/zoo?dataset=animals`);
        const card = '.card[data-input-id="cat_01"]';
        await page.waitForFunction(
          (sel: string) =>
            document.querySelector(`${sel} img`)?.complete &&
            document.querySelector(`${sel} img`).naturalWidth > 0,
          {},
          card,
        );
        const geometry = await page.$eval(card, (el: El) => {
          const img = el.querySelector("img");
          const r = img.getBoundingClientRect();
          const rect = (concepts: string) => {
            const shape = el.querySelector(`rect.box[data-concepts="${concepts}"]`);
            const b = shape.getBoundingClientRect();
            return { x: b.x - r.x, y: b.y - r.y, width: b.width, height: b.height };
          };
          const poly = el.querySelector("polygon.polygon").getBoundingClientRect();
          return {
            natural: [img.naturalWidth, img.naturalHeight],
            shown: { width: r.width, height: r.height },
            cat: rect("cat"),
            dog: rect("golden retriever"),
            polygon: { x: poly.x - r.x, y: poly.y - r.y, width: poly.width, height: poly.height },
          };
        });
        assertEquals(geometry.natural, [64, 48]);
        const sx = geometry.shown.width / 64;
        const sy = geometry.shown.height / 48;
        // COCO bbox [32, 0, 32, 48] in image pixels, scaled to the pixels shown.
        assertAlmostEquals(geometry.cat.x, 32 * sx, 1);
        assertAlmostEquals(geometry.cat.y, 0, 1);
        assertAlmostEquals(geometry.cat.width, 32 * sx, 1);
        assertAlmostEquals(geometry.cat.height, 48 * sy, 1);
        // COCO bbox [0, 0, 16, 12].
        assertAlmostEquals(geometry.dog.x, 0, 1);
        assertAlmostEquals(geometry.dog.width, 16 * sx, 1);
        assertAlmostEquals(geometry.dog.height, 12 * sy, 1);
        // The polygon [[32, 0, 64, 0, 64, 48, 32, 48]] covers the same place as the cat box.
        assertAlmostEquals(geometry.polygon.x, 32 * sx, 1);
        assertAlmostEquals(geometry.polygon.width, 32 * sx, 1);
        assertAlmostEquals(geometry.polygon.height, 48 * sy, 1);
      });

      await t.step("paging through a large app shows every input once", async () => {
        await page.goto(`${api.baseUrl}/browse/me/zoo`);
        const first = await page.$$eval(
          "#inputs .card",
          (cs: El[]) => cs.map((c: El) => c.dataset.inputId),
        );
        assertEquals(await page.$("#prev"), null);
        await Promise.all([page.waitForNavigation(), page.click("#next")]);
        const second = await page.$$eval(
          "#inputs .card",
          (cs: El[]) => cs.map((c: El) => c.dataset.inputId),
        );
        assertEquals(second.length, total - 48);
        assertEquals(await page.$("#next"), null);
        assertEquals(new Set([...first, ...second]).size, total);
        await Promise.all([page.waitForNavigation(), page.click("#prev")]);
        assertEquals(
          await page.$$eval("#inputs .card", (cs: El[]) => cs.map((c: El) => c.dataset.inputId)),
          first,
        );
      });

      await t.step("an input in full: regions, concepts, datasets", async () => {
        await page.goto(`${api.baseUrl}/browse/me/zoo/inputs/cat_01`);
        const regions = await page.$$eval(
          "#regions tbody tr",
          (trs: El[]) => trs.map((tr: El) => tr.children[0].textContent),
        );
        assertEquals(regions.sort(), ["cat", "cat", "golden retriever"]);
        assertEquals((await page.$$("#input-media rect.box")).length, 2);
        assertEquals((await page.$$("#input-media polygon.polygon")).length, 1);
        await screenshot(page, "local-input");
      });

      await t.step("metadata and the geo point", async () => {
        await page.goto(`${api.baseUrl}/browse/me/zoo/inputs/note`);
        assertEquals(JSON.parse(await page.$eval("#metadata", (e: El) => e.textContent)), {
          keeper: "Ada",
          cage: 7,
        });
        assertStringIncludes(
          await page.$eval("#geo-text", (e: El) => e.textContent),
          "latitude 48.8566",
        );
        const dot = await page.$eval(
          "#geo circle",
          (c: El) => [Number(c.getAttribute("cx")), Number(c.getAttribute("cy"))],
        );
        assertAlmostEquals(dot[0], 182.3522, 0.001);
        assertAlmostEquals(dot[1], 41.1434, 0.001);
        assertStringIncludes(
          await page.$eval(".text-snippet", (e: El) => e.textContent),
          "A note about the zoo",
        );
      });

      await t.step("video frame regions on a timeline", async () => {
        await page.goto(`${api.baseUrl}/browse/me/zoo/inputs/clip`);
        const marks = await page.$$eval(
          "#timeline rect.frame-mark",
          (rs: El[]) => rs.map((r: El) => Number(r.dataset.time)),
        );
        assertEquals(marks, [0, 1000, 2500]);
        const xs = await page.$$eval(
          "#timeline rect.frame-mark",
          (rs: El[]) => rs.map((r: El) => Number(r.getAttribute("x")) + 2),
        );
        assertAlmostEquals(xs[1], 10 + 980 * 0.4, 0.01);
        assertEquals((await page.$$(".frame rect.box")).length, 3);
        const boxes = await page.$$eval(
          ".frame rect.box",
          (rs: El[]) => rs.map((r: El) => Number(r.getAttribute("x"))),
        );
        assertEquals(boxes.map((x) => Math.round(x * 10) / 10), [0.1, 0.3, 0.5]);
        await screenshot(page, "local-video");
      });

      await t.step("a missing app or input is a 404 page", async () => {
        assertEquals((await fetch(`${api.baseUrl}/browse/me/nope`)).status, 404);
        const res = await fetch(`${api.baseUrl}/browse/me/zoo/inputs/nope`);
        assertEquals(res.status, 404);
        assertStringIncludes(await res.text(), "No input nope");
      });
    } finally {
      await chromium.close();
      await api.close();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
