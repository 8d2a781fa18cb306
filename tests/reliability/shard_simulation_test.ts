/**
 * Shards on one machine: four CLI processes (`--shard K/4`) upload one CSV to one local API with
 * every fault on; one of them is killed (SIGKILL) mid-run and started again with no journal, as
 * a rescheduled pod of a Kubernetes Indexed Job would be. Afterwards the app holds every input
 * exactly once, and the restarted shard found on the server what its first life had sent.
 */
import { startLocalApi } from "../../server/local/local_api.ts";
import { createClarifaiClient } from "../../src/clarifai/client.ts";
import { assert, assertEquals } from "@std/assert";

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const ROWS = 1200;
const SHARDS = 4;
const KILLED = 2;

interface Life {
  code: number;
  summary?: Record<string, number>;
  batches: number;
}

function spawnShard(
  k: number,
  csv: string,
  journal: string,
  base: string,
  killAfterBatches?: number,
): Promise<Life> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "csv",
      csv,
      "--input-type",
      "text",
      "--no-labels",
      "--shard",
      `${k}/${SHARDS}`,
      "--journal",
      journal,
      "--base",
      base,
      "--rps",
      "0",
      "--retries",
      "30",
      "--batch-size",
      "16",
      "--json",
    ],
    env: { CLARIFAI_PAT: "sim-key", CLARIFAI_USER_ID: "u", CLARIFAI_APP_ID: "a", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  return (async () => {
    let batches = 0;
    let summary: Record<string, number> | undefined;
    let pending = "";
    let killed = false;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let event;
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        if (event.type === "batch") batches++;
        if (event.type === "done") summary = event.summary;
        if (!killed && killAfterBatches !== undefined && batches >= killAfterBatches) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    }
    const { code } = await child.status;
    return { code, summary, batches };
  })();
}

Deno.test({
  name: "four shards with every fault on, one killed and restarted without its journal",
  permissions: { run: true, net: true, read: true, write: true, env: true },
  async fn() {
    const api = await startLocalApi({
      port: 0,
      dataDir: ":memory:",
      key: "sim-key",
      faults:
        "throttle=0.1,unavailable=0.1,drop-after-commit=0.1,latency-ms=3,fail-input=0.05,retry-after=0,seed=21",
    });
    const dir = await Deno.makeTempDir();
    const client = createClarifaiClient({
      base: api.baseUrl,
      pat: "sim-key",
      userId: "u",
      appId: "a",
      timeoutMs: 10_000,
    });
    try {
      const csv = `${dir}/notes.csv`;
      const rows = Array.from({ length: ROWS }, (_, i) => `n${i},note number ${i}`);
      await Deno.writeTextFile(csv, ["inputid,input", ...rows].join("\n") + "\n");
      const journal = (k: number) => `${dir}/shard-${k}/journal.ndjson`;

      const lives = await Promise.all(
        Array.from(
          { length: SHARDS },
          (_, k) => spawnShard(k, csv, journal(k), api.baseUrl, k === KILLED ? 3 : undefined),
        ),
      );
      const killed = lives[KILLED];
      assertEquals(killed.code, 137, "the shard was killed");
      assert(killed.batches >= 3);
      // Rescheduled on another node: its journal is gone.
      await Deno.remove(`${dir}/shard-${KILLED}`, { recursive: true });
      const again = await spawnShard(KILLED, csv, journal(KILLED), api.baseUrl);

      const finals = lives.map((life, k) => (k === KILLED ? again : life));
      for (const [k, life] of finals.entries()) {
        // fail-input is on, but the shards do not --wait: no run judges processing, so the
        // restarted shard counts the inputs its first life stored as present, whatever their
        // processing status, as its first life counted them uploaded.
        assertEquals(life.code, 0, `shard ${k}: ${JSON.stringify(life.summary)}`);
        assertEquals(life.summary?.failed, 0);
        assertEquals(life.summary?.rejected, 0);
      }
      assert((again.summary?.present ?? 0) > 0, "the restarted shard found its inputs present");
      const total = finals.reduce(
        (sum, l) => sum + (l.summary?.uploaded ?? 0) + (l.summary?.present ?? 0),
        0,
      );
      assertEquals(total, ROWS, "the shards are disjoint and cover every row");

      api.setFaults({});
      const held = new Map<string, number>();
      for (let page = 1;; page++) {
        const r = await client.listInputs({ userAppId: client.userAppId, page, perPage: 1000 });
        for (const input of r.inputs) held.set(input.id, (held.get(input.id) ?? 0) + 1);
        if (r.inputs.length < 1000) break;
      }
      assertEquals(held.size, ROWS, "every input, nothing else");
      for (let i = 0; i < ROWS; i++) assertEquals(held.get(`n${i}`), 1, `n${i} held once`);
    } finally {
      client.close();
      await api.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
