// Figures for the service (not a test): the same CSV upload through the engine in-process, the
// CLI, and the service (CSV body and JSON path), dry run and real against the local API; then
// peak RSS of a service process running 20 concurrent jobs.
//
//   deno run -A tests/server/_service_vs_cli.ts [copies=1000]
import { join } from "node:path";
import { uploadCsv } from "../../src/upload/upload.ts";
import { summaryOf } from "../../src/pipeline/progress_event.ts";
import { localTarget } from "../../server/local_target.ts";

if (import.meta.main) await main();

async function main(): Promise<void> {
  const copies = Number(Deno.args[0] ?? 1000);
  const work = await Deno.realPath(await Deno.makeTempDir({ prefix: "upflow-figures-" }));
  const sample = await Deno.readTextFile("samples/reviews.csv");
  const [header, ...body] = sample.trimEnd().split("\n");
  // The rows of the sample, some spanning two lines; rewrite IDs so every copy is unique.
  const records = body.join("\n").split(/\n(?=review-\d{3},)/);
  function csvFile(prefix: string): string {
    const path = join(work, `${prefix}.csv`);
    let text = header + "\n";
    for (let c = 0; c < copies; c++) {
      for (const r of records) text += r.replace(/^review-(\d{3})/, `${prefix}-${c}-$1`) + "\n";
    }
    Deno.writeTextFileSync(path, text);
    return path;
  }
  const rows = copies * records.length;
  const bytes = (await Deno.stat(csvFile("probe"))).size;

  const token = "figures-token";
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      "tests/server/_serve_process.ts",
      work,
      join(work, "service"),
      token,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const url = (await out.read()).value!.trim();
  const auth = { authorization: `Bearer ${token}` };

  async function timed(fn: () => Promise<number>): Promise<[number, number]> {
    const t0 = performance.now();
    const uploaded = await fn();
    return [Math.round(performance.now() - t0), uploaded];
  }
  async function lastSummary(res: Response) {
    const text = await res.text();
    return JSON.parse(text.trimEnd().split("\n").at(-1)!).summary;
  }
  const results: Record<string, [number, number]> = {};
  for (const dry of [true, false]) {
    const mode = dry ? "dry" : "real";
    const q = `rps=0${dry ? "&dry_run=true" : ""}`;
    results[`engine in-process, ${mode}`] = await timed(async () =>
      (await summaryOf(uploadCsv(csvFile(`e${mode}`), {
        dryRun: dry,
        rps: 0,
        env: null,
        local: localTarget({ dataDir: join(work, "local-engine") }),
      }))).uploaded
    );
    results[`CLI process, ${mode}`] = await timed(async () => {
      const file = csvFile(`c${mode}`);
      const cli = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-check",
          "src/cli/main.ts",
          "csv",
          file,
          "--json",
          "--rps",
          "0",
          "--journal",
          join(work, `cli-${mode}.ndjson`),
          "--local-data",
          join(work, "local-cli"),
          ...(dry ? ["--dry-run"] : []),
        ],
        stdout: "piped",
        env: { CLARIFAI_PAT: "" },
      }).output();
      const text = new TextDecoder().decode(cli.stdout);
      return JSON.parse(text.trimEnd().split("\n").at(-1)!).summary.uploaded;
    });
    results[`service, CSV body, ${mode}`] = await timed(async () => {
      const file = csvFile(`b${mode}`);
      const res = await fetch(`${url}/v1/uploads?${q}`, {
        method: "POST",
        headers: { ...auth, "content-type": "text/csv" },
        body: (await Deno.open(file)).readable,
      });
      return (await lastSummary(res)).uploaded;
    });
    results[`service, JSON path, ${mode}`] = await timed(async () => {
      csvFile(`p${mode}`);
      const res = await fetch(`${url}/v1/uploads?${q}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ csv: `p${mode}.csv` }),
      });
      return (await lastSummary(res)).uploaded;
    });
  }
  // 20 concurrent real jobs of the same size.
  const [concurrentMs, concurrentUploaded] = await timed(async () => {
    const files = Array.from({ length: 20 }, (_, j) => csvFile(`k${j}`));
    const sums = await Promise.all(files.map(async (file) => {
      const res = await fetch(`${url}/v1/uploads?rps=0`, {
        method: "POST",
        headers: { ...auth, "content-type": "text/csv" },
        body: (await Deno.open(file)).readable,
      });
      return (await lastSummary(res)).uploaded as number;
    }));
    return sums.reduce((a, b) => a + b, 0);
  });
  await child.stdin.close();
  let report = "";
  for (let r = await out.read(); !r.done; r = await out.read()) report += r.value;
  await child.status;
  const { startRss, peakRss } = JSON.parse(report);
  console.log(`CSV: ${rows} rows, ${(bytes / 1e6).toFixed(2)} MB; times in ms (uploaded)`);
  for (const [name, [ms, uploaded]] of Object.entries(results)) {
    console.log(`  ${name.padEnd(32)} ${String(ms).padStart(7)} ms  (${uploaded})`);
  }
  console.log(
    `20 concurrent real jobs of ${rows} rows: ${concurrentMs} ms, ${concurrentUploaded} uploaded; ` +
      `service process RSS ${(startRss / 1e6).toFixed(0)} MB at start, peak ${
        (peakRss / 1e6).toFixed(0)
      } MB (whole run, local API in the same process)`,
  );
  await Deno.remove(work, { recursive: true });
}
