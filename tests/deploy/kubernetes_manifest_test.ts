/**
 * The Kubernetes Indexed Job cannot run here (no cluster, no registry), so its manifest is read
 * and checked: the Job's shape, the PAT from a Secret, and the container's command line, which
 * must be exactly one the CLI accepts, with the shard taken from the completion index. Each
 * index's command line is then run by the CLI itself as a dry run over a CSV: the N shards are
 * disjoint and cover every row.
 */
import { parseYaml } from "./_yaml.ts";
import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../../", import.meta.url);
const MANIFEST = new URL("deploy/kubernetes/upload-job.yaml", ROOT);

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("the Indexed Job's manifest has the shape the README describes", {
  permissions: { read: true },
}, async () => {
  const job = parseYaml(await Deno.readTextFile(MANIFEST)) as Any;
  assertEquals([job.apiVersion, job.kind], ["batch/v1", "Job"]);
  const spec = job.spec;
  assertEquals(spec.completionMode, "Indexed");
  assert(Number.isInteger(spec.completions) && spec.completions > 1);
  assert(spec.parallelism >= 1 && spec.parallelism <= spec.completions);
  assert(Number.isInteger(spec.backoffLimitPerIndex) && spec.backoffLimitPerIndex >= 1);
  assertEquals(spec.template.spec.restartPolicy, "Never");
  const [container] = spec.template.spec.containers;
  const env = new Map(container.env.map((e: Any) => [e.name, e]));
  assertEquals((env.get("CLARIFAI_PAT") as Any).valueFrom.secretKeyRef.key, "pat");
  assertEquals((env.get("CLARIFAI_PAT") as Any).value, undefined, "no PAT in the manifest");
  const args: string[] = container.args;
  const shard = args[args.indexOf("--shard") + 1];
  assertEquals(shard, `$(JOB_COMPLETION_INDEX)/${spec.completions}`);
  // --rps divides the app's quota (15 requests/s by default) among the pods running at once.
  const rps = Number(args[args.indexOf("--rps") + 1]);
  assert(rps * spec.parallelism <= 15, `${rps} × ${spec.parallelism} pods fits a 15/s quota`);
  const mounts = new Set(container.volumeMounts.map((m: Any) => m.mountPath));
  assert(args.every((a) => !a.startsWith("/") || [...mounts].some((m) => a.startsWith(m + "/"))));
});

Deno.test("each index's command line is one the CLI accepts, and the shards cover the CSV", {
  permissions: { read: true, write: true, run: true, env: true },
}, async () => {
  const job = parseYaml(await Deno.readTextFile(MANIFEST)) as Any;
  const n: number = job.spec.completions;
  const container = job.spec.template.spec.containers[0];
  const dir = await Deno.makeTempDir();
  try {
    const rows = Array.from(
      { length: 400 },
      (_, i) => `img${i},https://images.example.com/${i}.jpg`,
    );
    await Deno.mkdir(`${dir}/data`);
    await Deno.mkdir(`${dir}/work`);
    await Deno.writeTextFile(`${dir}/data/urls.csv`, ["inputid,input", ...rows].join("\n") + "\n");
    // What Kubernetes does to the container's args: $(VAR) from the container's environment
    // (JOB_COMPLETION_INDEX is set in every pod of an Indexed Job), volumes at their mounts.
    // Then the dry run, so nothing is sent anywhere.
    const runs = Array.from(
      { length: n },
      (_, k) =>
        (container.args as string[]).map((a) =>
          a.replaceAll("$(JOB_COMPLETION_INDEX)", String(k))
            .replace(/^\/data\//, `${dir}/data/`).replace(/^\/work\//, `${dir}/work/`)
        ).concat("--dry-run"),
    );
    for (const args of runs) assert(!args.some((a) => a.includes("$(")), args.join(" "));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("tests/deploy/_cli_runs.ts", ROOT).pathname],
      env: {
        UPFLOW_RUNS: JSON.stringify(runs),
        CLARIFAI_PAT: "not-a-real-pat",
        CLARIFAI_USER_ID: "u",
        CLARIFAI_APP_ID: "a",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const exits = [...text.matchAll(/^#exit (\d+)$/gm)].map((m) => Number(m[1]));
    assertEquals(exits, Array(n).fill(0), text.slice(-2000));
    const seen = new Map<string, number>();
    let shard = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith("#exit")) shard++;
      if (!line.startsWith("{")) continue;
      const event = JSON.parse(line);
      if (event.type === "batch") {
        for (const id of event.ids) {
          assert(!seen.has(id), `${id} in shards ${seen.get(id)} and ${shard}`);
          seen.set(id, shard);
        }
      }
    }
    assertEquals(seen.size, rows.length, "the shards cover every row");
    assert(new Set(seen.values()).size === n, "every shard has rows");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
