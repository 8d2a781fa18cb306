/**
 * The fault soak: uploads generated inputs (text rows with concepts, metadata and geo points,
 * PNG images with concepts and metadata, PNG images with boxes from a COCO file) through the CLI
 * into a local API with every fault knob on, once per seed; then compares what the API holds
 * with the source, checks that every failure is in a journal with its reason (an input held
 * with its processing failed as `processing-failed`, whichever run stored it: a `retry` run finds
 * such an input present and its `--wait` judges it), runs `retry` on the journals, and compares
 * again. Optionally also runs the crash-and-resume scenario and the
 * 1 GB single-line CSV.
 *
 * ```sh
 * deno run -A tests/reliability/soak.ts --inputs 50000 --seeds 1,2,3
 * deno run -A tests/reliability/soak.ts --inputs 2000 --seeds 1 --no-wait   # the CI form
 * deno run -A tests/reliability/soak.ts --inputs 0 --crash-runs 20 --big-line
 * ```
 *
 * Exits 0 when nothing was lost, duplicated or left unexplained, 1 otherwise.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { readJournal } from "../../src/journal/journal.ts";
import {
  clientFor,
  cliEnv,
  type CliResult,
  compare,
  type Comparison,
  listAllBoxes,
  listAllInputs,
  runCli,
  startApi,
  summaryOfOutput,
  writeSources,
} from "./_harness.ts";
import { crashAndResume, type CrashReport } from "./_crash.ts";
import { bigLineCsv } from "./_big_line.ts";

/** Every fault knob of the local API; `seed=` is appended per seed. */
export const SOAK_FAULTS =
  "throttle=0.1,unavailable=0.05,drop-after-commit=0.05,latency-ms=20,fail-input=0.01,rps=15,retry-after=1";

/** What one seed's soak measured. */
export interface SeedReport {
  /** The seed. */
  seed: number;
  /** Inputs in the source. */
  inputs: number;
  /** Exit codes of the three first runs (text CSV, image CSV, COCO). */
  exitCodes: (number | null)[];
  /** Summed first-run counts. */
  first: { uploaded: number; failed: number; processingFailed: number; retries: number };
  /** Failures in the journals after the first runs, and how many lack a reason. */
  journalFailures: number;
  /** Journal failures without a reason. */
  failuresWithoutReason: number;
  /** `retry` rounds run, and what they uploaded. */
  retry: {
    rounds: number;
    uploaded: number;
    failed: number;
    exitCodes: (number | null)[];
    notRetried: number;
    notRetriedSample: string[];
  };
  /** Injected faults. */
  faults: Record<string, number>;
  /** The comparison after the retries. */
  result:
    & Omit<
      Comparison,
      | "lost"
      | "duplicated"
      | "unexplained"
      | "explainedMissing"
      | "incompleteJournaled"
      | "processingFailed"
    >
    & {
      processingFailed: number;
      incompleteJournaled: number;
      lost: number;
      duplicated: number;
      unexplained: number;
      missingButJournaled: number;
      samples: string[];
    };
  /** CLI runs that ended without a summary (an uncaught error), with the error. */
  crashes: string[];
  /** Wall time, seconds. */
  seconds: number;
}

function sumSummaries(results: CliResult[]) {
  const total = { uploaded: 0, failed: 0, processingFailed: 0, retries: 0 };
  for (const r of results) {
    const s = summaryOfOutput(r.stdout);
    if (!s) continue;
    total.uploaded += s.uploaded;
    total.failed += s.failed;
    total.processingFailed += s.processing?.failed ?? 0;
    total.retries += s.retries;
  }
  return total;
}

async function journalFailures(paths: string[]) {
  const failures = new Map<string, { outcome: string; reason?: string }>();
  let withoutReason = 0;
  let retryable = new Map<string, number>();
  for (const path of paths) {
    const state = await readJournal(path);
    let n = 0;
    for (const [key, f] of state.failures) {
      failures.set(key, { outcome: f.outcome, reason: f.reason });
      if (!f.reason) withoutReason++;
      if (f.outcome === "failed" && f.draft) n++;
    }
    retryable = retryable.set(path, n);
  }
  return { failures, withoutReason, retryable };
}

/**
 * Runs the soak for one seed.
 *
 * @param seed The seed of the faults and the source.
 * @param inputs How many inputs.
 * @param log Progress lines.
 * @returns What it measured.
 */
export async function soakSeed(
  seed: number,
  inputs: number,
  log: (line: string) => void = console.error,
  wait = true,
): Promise<SeedReport> {
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: `upflow-soak-${seed}-` });
  try {
    const sources = await writeSources(dir, inputs, { seed, prefix: `s${seed}` });
    log(`seed ${seed}: ${inputs} inputs written to ${dir}`);
    const api = await startApi({
      key: `soak-key-${seed}`,
      faults: `${wait ? SOAK_FAULTS : SOAK_FAULTS.replace(",fail-input=0.01", "")},seed=${seed}`,
      dataDir: join(dir, "api"),
    });
    const appId = `soak${seed}`;
    const env = cliEnv(api, appId);
    const journals = {
      text: join(dir, "text.ndjson"),
      image: join(dir, "image.ndjson"),
      coco: join(dir, "coco.ndjson"),
    };
    // Few attempts on the first pass, so that some batches give up and are journaled as
    // failed; the retries below are patient.
    const common = ["--json", ...(wait ? ["--wait"] : []), "--retries", "2"];
    const runs: [string, string[]][] = [
      ["text", ["csv", sources.textCsv, "--journal", journals.text, ...common]],
      [
        "image",
        [
          "csv",
          sources.imageCsv!,
          "--input-type",
          "image",
          "--csv-type",
          "file_path",
          "--journal",
          journals.image,
          ...common,
        ],
      ],
      ["coco", ["coco", sources.cocoJson!, "--journal", journals.coco, ...common]],
    ];
    const firstResults: CliResult[] = [];
    const crashes: string[] = [];
    for (const [name, args] of runs) {
      // A run that ends without a summary crashed: run the same command again (it resumes),
      // as a person would, at most twice.
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = await runCli(args, { env, cwd: dir, timeoutMs: 3_600_000 });
        const s = summaryOfOutput(r.stdout);
        log(
          `seed ${seed}: ${name}: exit ${r.code} in ${(r.ms / 1000).toFixed(1)} s: ` +
            `uploaded ${s?.uploaded} failed ${s?.failed} processing-failed ${
              s?.processing?.failed ?? 0
            } retries ${s?.retries}`,
        );
        firstResults.push(r);
        if (s?.fatal) log(`seed ${seed}: ${name}: fatal: ${s.fatal.code}: ${s.fatal.message}`);
        if (s) break;
        const error = r.stderr.split("\n").find((l) => /error/i.test(l)) ?? r.stderr.slice(0, 200);
        const at = r.stderr.split("\n").find((l) => /src\//.test(l))?.trim() ?? "";
        crashes.push(`${name}: ${error.trim()} ${at}`);
        log(`seed ${seed}: ${name}: crashed without a summary: ${error} ${at}`);
      }
    }
    const paths = Object.values(journals);
    const afterFirst = await journalFailures(paths);

    // Retry what failed, faults still on, until nothing retryable is left (at most 3 rounds).
    const retry = {
      rounds: 0,
      uploaded: 0,
      failed: 0,
      exitCodes: [] as (number | null)[],
      notRetried: 0,
      notRetriedSample: [] as string[],
    };
    for (let round = 0; round < 3; round++) {
      const { retryable } = await journalFailures(paths);
      const todo = paths.filter((p) => (retryable.get(p) ?? 0) > 0);
      if (todo.length === 0) break;
      retry.rounds++;
      retry.notRetried = 0;
      for (const path of todo) {
        // The retry waits for processing too: a retried input that fails processing is
        // journaled like any other.
        const r = await runCli([
          "retry",
          path,
          "--json",
          ...(wait ? ["--wait"] : []),
          "--retries",
          "12",
        ], {
          env,
          cwd: dir,
          timeoutMs: 3_600_000,
        });
        const s = summaryOfOutput(r.stdout);
        retry.exitCodes.push(r.code);
        // Failures `retry` refuses to re-send (duplicates without --new-ids-for-duplicates).
        const refused = r.stderr.split("\n").filter((l) => l.includes("not retried:"));
        retry.notRetried += refused.length;
        if (retry.notRetriedSample.length < 3) retry.notRetriedSample.push(...refused.slice(0, 3));
        retry.uploaded += s?.uploaded ?? 0;
        retry.failed += s?.failed ?? 0;
        log(
          `seed ${seed}: retry ${
            path.split("/").pop()
          }: exit ${r.code}: uploaded ${s?.uploaded} failed ${s?.failed}`,
        );
      }
    }

    const faults = { ...api.api.faultCounts() } as unknown as Record<string, number>;
    api.api.setFaults({});
    await api.api.waitForProcessing();
    const client = clientFor(api, appId);
    const held = await listAllInputs(client);
    const boxes = await listAllBoxes(client);
    client.close();
    await api.close();
    const final = await journalFailures(paths);
    const c = compare(sources.expected, held, boxes, final.failures);
    const report: SeedReport = {
      seed,
      inputs,
      exitCodes: firstResults.map((r) => r.code),
      first: sumSummaries(firstResults),
      journalFailures: afterFirst.failures.size,
      failuresWithoutReason: afterFirst.withoutReason,
      retry,
      crashes,
      faults,
      result: {
        expected: c.expected,
        exact: c.exact,
        processingFailed: c.processingFailed.length,
        incompleteJournaled: c.incompleteJournaled.length,
        lost: c.lost.length,
        duplicated: c.duplicated.length,
        unexplained: c.unexplained.length,
        missingButJournaled: c.explainedMissing.length,
        samples: [
          ...c.lost.slice(0, 5).map((id) => `lost ${id}`),
          ...c.duplicated.slice(0, 5).map((id) => `duplicated ${id}`),
          ...c.unexplained.slice(0, 5),
          ...c.explainedMissing.slice(0, 5).map((id) =>
            `missing ${id}: ${final.failures.get(id)?.reason}`
          ),
          ...c.incompleteJournaled.slice(0, 3).map((id) =>
            `without its boxes ${id}: ${final.failures.get(id)?.reason}`
          ),
        ],
      },
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    return report;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function fmtSeed(r: SeedReport): string {
  return `seed ${r.seed}: ${r.inputs} inputs, ${r.result.exact} exact, ` +
    `${r.result.processingFailed} failed processing (journaled), ` +
    `${r.result.incompleteJournaled} held without their boxes (journaled), ` +
    `lost ${r.result.lost}, duplicated ${r.result.duplicated}, unexplained ${r.result.unexplained}, ` +
    `missing but journaled ${r.result.missingButJournaled}; first pass: ${r.first.uploaded} uploaded, ` +
    `${r.first.failed} failed, ${r.first.retries} retries; journal failures ${r.journalFailures} ` +
    `(${r.failuresWithoutReason} without reason); retry: ${r.retry.rounds} rounds, ` +
    `${r.retry.uploaded} uploaded, ${r.retry.notRetried} not retried; crashes ${r.crashes.length}; faults ${
      JSON.stringify(r.faults)
    }; ${r.seconds} s`;
}

function fmtCrash(r: CrashReport): string {
  return `crash: ${r.runs} runs (${r.runsKilled} killed at least once), ${r.kills} SIGKILLs (${r.killedAfterJournalGrew} right after the ` +
    `journal grew), torn last lines ${r.tornNatural} natural + ${r.tornForced} forced, repaired ` +
    `${r.repaired}; ${r.inputs} inputs: lost ${r.lost}, duplicated ${r.duplicated}, unexplained ` +
    `${r.unexplained}; journals unreadable ${r.unreadableJournals}; ${r.seconds} s`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      inputs: { type: "string", default: "2000" },
      seeds: { type: "string", default: "1" },
      "crash-runs": { type: "string", default: "0" },
      "crash-inputs": { type: "string", default: "300" },
      "big-line": { type: "boolean", default: false },
      "big-line-mb": { type: "string", default: "1024" },
      // Without --wait (and without the fail-input fault, which only --wait observes).
      "no-wait": { type: "boolean", default: false },
      out: { type: "string" },
    },
    strict: true,
  });
  const inputs = Number(values.inputs);
  const seeds = values.seeds.split(",").filter(Boolean).map(Number);
  const reports: SeedReport[] = [];
  let bad = 0;
  if (inputs > 0) {
    for (const seed of seeds) {
      const r = await soakSeed(seed, inputs, console.error, !values["no-wait"]);
      console.log(fmtSeed(r));
      for (const s of [...r.result.samples, ...r.crashes, ...r.retry.notRetriedSample]) {
        console.log(`  ${s.slice(0, 400)}`);
      }
      reports.push(r);
      bad += r.result.lost + r.result.duplicated + r.result.unexplained +
        r.result.missingButJournaled + r.result.incompleteJournaled + r.failuresWithoutReason +
        r.crashes.length;
    }
  }
  let crash: CrashReport | undefined;
  const crashRuns = Number(values["crash-runs"]);
  if (crashRuns > 0) {
    crash = await crashAndResume({
      runs: crashRuns,
      inputs: Number(values["crash-inputs"]),
      seed: seeds[0] ?? 1,
      log: (l) => console.error(l),
    });
    console.log(fmtCrash(crash));
    bad += crash.lost + crash.duplicated + crash.unexplained + crash.unreadableJournals;
  }
  let bigLine;
  if (values["big-line"]) {
    bigLine = await bigLineCsv(Number(values["big-line-mb"]));
    console.log(`big line: ${JSON.stringify(bigLine)}`);
    if (!bigLine.ok) bad++;
  }
  if (values.out) {
    await Deno.writeTextFile(values.out, JSON.stringify({ reports, crash, bigLine }, null, 2));
  }
  console.log(bad === 0 ? "soak: OK" : `soak: ${bad} problems`);
  Deno.exit(bad === 0 ? 0 : 1);
}
