// The service's web page in a real browser (Debian's chromium through puppeteer-core): sign in
// with the token, upload a folder through the drop zone (labels from folder names), watch the
// job to its end, see failures as they happen with their location and reason, retry them, and
// cancel a running job; screenshots go to the folder the test prints.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { testServer, TOKEN } from "../_helpers.ts";
import { dropPaths, HAVE_CHROMIUM, launchBrowser, type Page, screenshot } from "./_browser.ts";

// The page's globals, for the functions that run inside the browser (this program has no DOM
// types).
// deno-lint-ignore no-explicit-any
declare const document: any, localStorage: any, sessionStorage: any;
// deno-lint-ignore no-explicit-any
type El = any;

const USER_APP = { userId: "me", appId: "pets" };

async function folderOf(root: string, name: string, files: Record<string, string[]>) {
  const dir = join(root, name);
  for (const [label, names] of Object.entries(files)) {
    await Deno.mkdir(join(dir, label), { recursive: true });
    for (const file of names) {
      await Deno.copyFile(`samples/images/${label}/${file}`, join(dir, label, file));
    }
  }
  return dir;
}

/** Waits until the job row of `id` (or the newest row when `id` is "") is in `state`. */
async function rowInState(page: Page, state: string, id = ""): Promise<string> {
  const handle = await page.waitForFunction(
    (id: string, state: string) => {
      const row = id
        ? document.querySelector(`tr.job[data-job-id="${id}"]`)
        : document.querySelector("tr.job");
      return row && (row as El).dataset.state === state ? row.getAttribute("data-job-id") : null;
    },
    { timeout: 60_000 },
    id,
    state,
  );
  return await handle.jsonValue() as string;
}

function cells(page: Page, id: string): Promise<Record<string, string>> {
  return page.$$eval(
    `tr.job[data-job-id="${id}"] td`,
    (tds: El[]) =>
      Object.fromEntries(
        tds.map((td: El) => [td.getAttribute("data-col"), td.textContent?.trim() ?? ""]),
      ),
  );
}

async function conceptsOf(baseUrl: string, key: string, inputId: string): Promise<string[]> {
  const res = await fetch(
    `${baseUrl}/v2/users/${USER_APP.userId}/apps/${USER_APP.appId}/inputs/${inputId}`,
    { headers: { authorization: `Key ${key}` } },
  );
  const body = await res.json();
  return (body.input?.data?.concepts ?? []).map((c: { id: string }) => c.id).sort();
}

Deno.test({
  name: "service page in chromium: sign in, drop a folder, follow, failures, retry, cancel",
  ignore: !HAVE_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const work = await Deno.makeTempDir({ prefix: "upflow-page-" });
    const api = await startLocalApi({ dataDir: join(work, "local") });
    const s = await testServer({
      target: { env: null, base: api.baseUrl, pat: api.key, ...USER_APP },
    });
    const chromium = await launchBrowser();
    try {
      const page = await chromium.browser.newPage();
      await page.setViewport({ width: 1200, height: 900 });

      await t.step("the page asks for the token and refuses a wrong one", async () => {
        await page.goto(s.url);
        await page.waitForSelector("#login-form", { visible: true });
        assertEquals(await page.$eval("#app", (e) => (e as El).hidden), true);
        await page.type("#token", "wrong-token");
        await page.click("#login-form button");
        await page.waitForFunction(() =>
          document.querySelector("#login-error")?.textContent !== ""
        );
        assertStringIncludes(await page.$eval("#login-error", (e) => e.textContent!), "refused");
        await screenshot(page, "service-login");
        await page.type("#token", TOKEN);
        await page.click("#login-form button");
        await page.waitForSelector("#app", { visible: true });
      });

      let first = "";
      await t.step(
        "a folder dropped on the drop zone uploads with labels from folder names",
        async () => {
          const pets = await folderOf(work, "pets", {
            cat: ["cat_01.png", "cat_02.png"],
            dog: ["dog_01.png", "dog_02.png"],
          });
          await page.type("#dataset", "pets");
          await page.click("#create-dataset");
          // One input per request, two requests a second: slow enough to see the job move.
          await page.type("#batch-size", "1");
          await page.type("#rps", "2");
          // Every state the newest row shows, as it changes.
          await page.evaluate(() => {
            const w = globalThis as El;
            w.snapshots = [];
            new w.MutationObserver(() => {
              const row = document.querySelector("tr.job");
              if (!row) return;
              const cell = (name: string) => row.querySelector(`[data-col="${name}"]`);
              w.snapshots.push({
                state: row.dataset.state,
                fraction: Number(cell("progress").dataset.fraction),
                uploaded: cell("uploaded").textContent,
                rate: cell("rate").textContent,
                eta: cell("eta").textContent,
              });
            }).observe(document.querySelector("#jobs tbody"), {
              subtree: true,
              childList: true,
              characterData: true,
              attributes: true,
            });
          });
          await dropPaths(page, "#drop", [pets]);
          first = await rowInState(page, "completed");
          // Live progress was shown while the job ran: a bar part way, a rate and an ETA.
          const seen = await page.evaluate(() => (globalThis as El).snapshots);
          const moving = seen.filter((v: El) =>
            v.state === "running" && v.fraction > 0 && v.fraction < 1 && Number(v.rate) > 0 &&
            /\d+ s/.test(v.eta)
          );
          assert(moving.length > 0, `no live progress among ${JSON.stringify(seen)}`);
          assertMatch(moving[0].uploaded, /^[123] \/ 4$/);
          const row = await cells(page, first);
          assertEquals(row.source, "multipart upload");
          assertEquals(row.uploaded, "4 / 4");
          assertEquals(row.failed, "0");
          assertEquals(
            await page.$eval(
              `tr.job[data-job-id="${first}"] [data-col=progress]`,
              (e) => (e as El).dataset.fraction,
            ),
            "1.0000",
          );
          assertEquals(await conceptsOf(api.baseUrl, api.key, "cat_01"), ["cat"]);
          assertEquals(await conceptsOf(api.baseUrl, api.key, "dog_02"), ["dog"]);
          const dataset = await fetch(
            `${api.baseUrl}/v2/users/me/apps/pets/datasets/pets/inputs`,
            { headers: { authorization: `Key ${api.key}` } },
          );
          assertEquals((await dataset.json()).dataset_inputs.length, 4);
        },
      );

      let failedJob = "";
      let failedCount = 0;
      await t.step("failures show as they happen, with location and reason", async () => {
        // The local API allows one request a second, and each input gets one attempt: the
        // inputs beyond the first request's token fail as throttled.
        await page.$eval("#dataset", (e: El) => e.value = "");
        await page.$eval("#rps", (e: El) => e.value = "");
        await page.type("#retries", "1");
        await page.click("#create-dataset");
        api.setFaults("rps=1");
        const birds = await folderOf(work, "birds", { bird: ["bird_01.png", "bird_02.png"] });
        await dropPaths(page, "#drop", [birds]);
        failedJob = await page.waitForFunction(
          (first: string) => {
            const row = document.querySelector("tr.job");
            const id = row?.getAttribute("data-job-id");
            return id && id !== first && (row as El).dataset.state !== "running" ? id : null;
          },
          { timeout: 60_000 },
          first,
        ).then((h) => h.jsonValue() as Promise<string>);
        api.setFaults({});
        const row = await cells(page, failedJob);
        failedCount = Number(row.failed);
        assert(failedCount >= 1, `no input failed: ${JSON.stringify(row)}`);
        await page.waitForFunction(
          (id: string, n: number) =>
            document.querySelector("#detail")?.dataset.jobId === id &&
            document.querySelectorAll("#failures tbody tr").length === n,
          {},
          failedJob,
          failedCount,
        );
        const failures = await page.$$eval(
          "#failures tbody tr",
          (trs: El[]) => trs.map((tr: El) => Array.from(tr.children, (td: El) => td.textContent)),
        );
        for (const f of failures) assertMatch(f[0]!, /^bird_0[12]$/);
        for (const f of failures) {
          assertMatch(f[1]!, /bird_0[12]\.png$/);
          assertEquals(f[2], "upload");
          assertStringIncludes(f[4]!, "CONN_THROTTLED");
        }
        assertEquals(await page.$eval("#retry", (b) => (b as El).disabled), false);
        await screenshot(page, "service-failures");
      });

      await t.step("retry re-sends the failures in a new job that completes", async () => {
        await page.click("#retry");
        const retried = await page.waitForFunction(
          (failed: string) => {
            const row = document.querySelector("tr.job");
            const id = row?.getAttribute("data-job-id");
            return id && id !== failed ? id : null;
          },
          { timeout: 30_000 },
          failedJob,
        ).then((h) => h.jsonValue() as Promise<string>);
        await rowInState(page, "completed", retried);
        assertEquals((await cells(page, retried)).uploaded, `${failedCount} / ${failedCount}`);
        assertStringIncludes(await page.$eval("#detail-source", (e) => e.textContent!), failedJob);
        assertEquals(await conceptsOf(api.baseUrl, api.key, "bird_02"), ["bird"]);
        await screenshot(page, "service-jobs");
      });

      await t.step("a job started elsewhere shows up on the page by itself", async () => {
        const res = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/csv" },
          body: "inputid,input,concepts\nnote1,hello,greeting\n",
        });
        const id = res.headers.get("upflow-job-id")!;
        await res.body?.cancel();
        await rowInState(page, "completed", id);
        assertEquals((await cells(page, id)).source, "csv body");

        // The same row again: found on the server, shown as present, not uploaded.
        const again = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/csv" },
          body: "inputid,input,concepts\nnote1,hello,greeting\n",
        });
        const againId = again.headers.get("upflow-job-id")!;
        await again.body?.cancel();
        await rowInState(page, "completed", againId);
        assertMatch((await cells(page, againId)).uploaded, /^0 \+ 1 present( \/ 1)?$/);
        await page.click(`tr.job[data-job-id="${againId}"]`);
        await page.waitForFunction(
          (id: string) => document.querySelector("#detail")?.dataset.jobId === id,
          { timeout: 10_000 },
          againId,
        );
        assertEquals(await page.$eval("[data-count=present] b", (e) => (e as El).textContent), "1");
      });

      await t.step("cancel stops a running job", async () => {
        api.setFaults("latency-ms=1500");
        const slow = await folderOf(work, "slow", { cat: ["cat_03.png", "cat_04.png"] });
        await dropPaths(page, "#drop", [slow]);
        const running = await rowInState(page, "running");
        await page.waitForFunction(
          (id: string) => document.querySelector("#detail")?.dataset.jobId === id,
          {},
          running,
        );
        await page.click("#cancel");
        await rowInState(page, "cancelled", running);
        api.setFaults({});
      });

      await t.step("the token is never in the URL, cookies or storage", async () => {
        assertEquals(new URL(page.url()).search, "");
        const stored = await page.evaluate(() =>
          [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)].join("|")
        );
        assertEquals(stored.includes(TOKEN), false);
        assertEquals(stored, "|{}|{}");
      });
    } finally {
      await chromium.close();
      await s.close();
      await api.close();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
