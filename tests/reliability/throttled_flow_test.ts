/**
 * The whole CLI flow (`folder … --create-dataset --wait`) as a child process against a local API
 * that throttles from its first request on: every call upflow makes (dataset lookup and
 * creation, PostInputs, the processing wait's polls and listings) waits the faults out, and
 * every image is uploaded, joins the dataset and is processed exactly once.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "@std/assert";
import { FaultInjector, parseFaults } from "../../server/local/faults.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { pngBytes } from "../sources/_png.ts";
import {
  clientFor,
  cliEnv,
  listAllInputs,
  ndjsonEvents,
  runCli,
  startApi,
  summaryOfOutput,
} from "./_harness.ts";

const IMAGES = 40;

/** Whether the first `n` calls to an API with these faults are throttled. */
function throttlesFirst(faults: string, n: number): boolean {
  const injector = new FaultInjector(parseFaults(faults));
  return Array.from({ length: n }, () => injector.takeThrottle()).every(Boolean);
}

/**
 * The first seed from `from` on that throttles the first two calls: the dataset lookup and the
 * dataset creation are both refused on first sight.
 */
function seedThrottlingFirst(faults: string, from: number): number {
  for (let seed = from;; seed++) if (throttlesFirst(`${faults},seed=${seed}`, 2)) return seed;
}

const FLOWS = [
  { name: "throttle=0.3", faults: "throttle=0.3" },
  {
    name: "the issue's mix",
    faults: "throttle=0.1,unavailable=0.05,drop-after-commit=0.05",
    seed: 913,
  },
];

Deno.test({
  name: "the CLI flow with --create-dataset --wait survives throttling from the first request",
  permissions: { read: true, write: true, run: true, env: true, net: true },
  async fn(t) {
    for (const flow of FLOWS) {
      await t.step(flow.name, async () => {
        const seed = flow.seed ?? seedThrottlingFirst(flow.faults, 1);
        const faults = `${flow.faults},seed=${seed}`;
        const dir = await Deno.makeTempDir({ prefix: "upflow-throttled-" });
        const api = await startApi({ faults });
        const client = clientFor(api, "throttled");
        try {
          const images = join(dir, "images");
          await Deno.mkdir(images);
          for (let i = 0; i < IMAGES; i++) {
            await Deno.writeFile(join(images, `img${i}.png`), pngBytes(8 + (i % 5), 8, i));
          }
          const result = await runCli([
            "folder",
            images,
            "--dataset",
            "ds",
            "--create-dataset",
            "--wait",
            "--json",
            "--batch-size",
            "8",
            // Upload requests keep --retries (a batch that gives up is journaled for `retry`);
            // enough attempts here that none does, so the counts below are exact.
            "--retries",
            "12",
            "--journal",
            join(dir, "journal.ndjson"),
          ], { env: cliEnv(api, "throttled"), cwd: dir, timeoutMs: 120_000 });
          const summary = summaryOfOutput(result.stdout);
          const about = `exit ${result.code}\n${result.stderr.slice(0, 2000)}\n${
            JSON.stringify(summary)
          }`;
          assertEquals(result.code, 0, about);
          assertEquals(summary?.fatal, undefined, about);
          assertEquals([summary?.uploaded, summary?.failed, summary?.rejected], [IMAGES, 0, 0]);
          const processing = ndjsonEvents(result.stdout).findLast((e) => e.type === "processing");
          assertEquals(processing?.pending, 0, about);

          const counts = api.api.faultCounts();
          assert(counts.throttled > 0, `throttled ${counts.throttled}`);
          // The seed was chosen so that the first calls (GetDataset, PostDatasets) were throttled.
          if (flow.seed === undefined) assert(throttlesFirst(faults, 2));

          // Exactly once: every image once in the app, once in the dataset, processed.
          const held = await listAllInputs(client);
          assertEquals(held.size, IMAGES);
          for (const input of held.values()) {
            assertEquals(input.listed, 1, `${input.id} listed once`);
            assertEquals(input.status, StatusCode[StatusCode.INPUT_SUCCESS], input.id);
          }
          const inDataset = await client.listDatasetInputs({
            userAppId: client.userAppId,
            datasetId: "ds",
            page: 1,
            perPage: 1000,
          });
          assertEquals(inDataset.status?.code, StatusCode.SUCCESS);
          assertEquals(
            new Set(inDataset.datasetInputs.map((d) => d.input?.id)).size,
            IMAGES,
            "every image joined the dataset",
          );
        } finally {
          client.close();
          await api.close();
          await Deno.remove(dir, { recursive: true });
        }
      });
    }
  },
});
