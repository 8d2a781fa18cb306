/**
 * The crash-and-resume scenario: the CLI is killed with SIGKILL at random moments (some right
 * after its journal grew, that is during journal writes), then the same command is run again
 * until it finishes; the app must hold every input exactly once and the journal must read back
 * cleanly (a torn last line is cut off on open: some kills tear one, and some runs get half a
 * line appended before they resume, to be sure the repair is exercised).
 *
 * @module
 */
import { join } from "node:path";
import { readJournal } from "../../src/journal/journal.ts";
import {
  baseEnv,
  cliArgs,
  clientFor,
  cliEnv,
  compare,
  listAllBoxes,
  listAllInputs,
  runCli,
  seeded,
  startApi,
  summaryOfOutput,
  writeSources,
} from "./_harness.ts";

/** What the crash scenario measured. */
export interface CrashReport {
  /** Runs (each killed at least once, then resumed to the end). */
  runs: number;
  /** Inputs over all runs. */
  inputs: number;
  /** SIGKILLs sent. */
  kills: number;
  /** Runs killed at least once (a kill planned after the run's end does not land). */
  runsKilled: number;
  /** Kills sent within milliseconds of the journal growing. */
  killedAfterJournalGrew: number;
  /** Kills that left a torn last line by themselves. */
  tornNatural: number;
  /** Torn lines appended on purpose before a resume. */
  tornForced: number;
  /** Resumes that found a torn line (`repaired`), read before the resume. */
  repaired: number;
  /** Inputs missing at the end. */
  lost: number;
  /** Inputs held twice (or extra inputs). */
  duplicated: number;
  /** Inputs with wrong data, or resumes that did not end in exit code 0. */
  unexplained: number;
  /** Journals with unparsable lines or a torn last line after the final run. */
  unreadableJournals: number;
  /** Resumes that did not exit 0, with the start of their standard error. */
  resumeFailures: string[];
  /** Per-run details. */
  details: string[];
  /** Wall time in seconds. */
  seconds: number;
}

/** Options of {@linkcode crashAndResume}. */
export interface CrashOptions {
  /** How many runs (default 20). */
  runs?: number;
  /** Inputs per run (default 300). */
  inputs?: number;
  /** Seed of the kill moments and faults (default 1). */
  seed?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** The faults of the crash runs: enough latency that a run lasts long enough to be killed. */
export const CRASH_FAULTS = "latency-ms=15,throttle=0.05,drop-after-commit=0.05";

function endsTorn(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a;
}

/**
 * Spawns the CLI and kills it with SIGKILL: either right after the journal grew for the
 * `growths`-th time, or after `delayMs`, whichever comes first. Resolves once it is gone.
 */
async function spawnAndKill(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  journal: string,
  plan: { growths: number; delayMs: number },
): Promise<{ killed: boolean; afterGrowth: boolean; exitCode: number | null }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(args),
    cwd,
    clearEnv: true,
    env: { ...baseEnv(), ...env },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const sizeOf = async () => {
    try {
      return (await Deno.stat(journal)).size;
    } catch {
      return 0;
    }
  };
  let last = await sizeOf();
  let growths = 0;
  let started = Number.POSITIVE_INFINITY;
  let afterGrowth = false;
  while (!exited) {
    const size = await sizeOf();
    if (size !== last) {
      last = size;
      growths++;
      // The clock of a timed kill starts with the run's first journal line.
      if (growths === 1) started = performance.now();
      if (growths >= plan.growths) {
        afterGrowth = true;
        break;
      }
    }
    if (performance.now() - started >= plan.delayMs) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  let killed = false;
  if (!exited) {
    try {
      child.kill("SIGKILL");
      killed = true;
    } catch { /* it ended on its own */ }
  }
  const s = await status;
  return {
    killed: killed && s.signal === "SIGKILL",
    afterGrowth,
    exitCode: s.signal ? null : s.code,
  };
}

/**
 * Runs the crash-and-resume scenario against a local API with mild faults.
 *
 * @param options Runs, inputs per run, seed.
 * @returns What it measured.
 */
export async function crashAndResume(options: CrashOptions = {}): Promise<CrashReport> {
  const runs = options.runs ?? 20;
  const n = options.inputs ?? 300;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const random = seeded(seed * 7919);
  const started = performance.now();
  const root = await Deno.makeTempDir({ prefix: "upflow-crash-" });
  const api = await startApi({
    key: "crash-key",
    faults: `${CRASH_FAULTS},seed=${seed}`,
  });
  const report: CrashReport = {
    runs,
    inputs: 0,
    kills: 0,
    runsKilled: 0,
    killedAfterJournalGrew: 0,
    tornNatural: 0,
    tornForced: 0,
    repaired: 0,
    lost: 0,
    duplicated: 0,
    unexplained: 0,
    unreadableJournals: 0,
    details: [],
    resumeFailures: [],
    seconds: 0,
  };
  try {
    for (let run = 0; run < runs; run++) {
      const dir = join(root, `run${run}`);
      await Deno.mkdir(dir);
      // Odd runs upload a COCO file with boxes, so a kill can fall between inputs and annotations.
      const coco = run % 2 === 1;
      const sources = await writeSources(dir, coco ? Math.ceil(n / 5) * 5 : n, {
        seed: seed * 100 + run,
        prefix: `k${run}`,
        textOnly: !coco,
      });
      const expected = coco
        ? new Map([...sources.expected].filter(([, e]) => e.source === "coco"))
        : sources.expected;
      report.inputs += expected.size;
      const journal = join(dir, "journal.ndjson");
      const appId = `crash${run}`;
      const env = cliEnv(api, appId);
      const args = [
        ...(coco ? ["coco", sources.cocoJson!] : ["csv", sources.textCsv]),
        "--journal",
        journal,
        "--batch-size",
        "8",
        "--rps",
        "0",
        "--concurrency",
        "2",
        "--retries",
        "10",
        "--json",
      ];
      const kills = 1 + (run % 3 === 0 ? 1 : 0);
      let runKills = 0;
      let torn = "";
      for (let k = 0; k < kills; k++) {
        // Half the kills land right after a journal write; the others at a random moment.
        const plan = random() < 0.5
          ? {
            growths: 2 + Math.floor(random() * Math.ceil(expected.size / 8) * 0.8),
            delayMs: 20_000,
          }
          : { growths: Number.POSITIVE_INFINITY, delayMs: Math.floor(random() * 500) };
        const killed = await spawnAndKill(args, env, dir, journal, plan);
        if (!killed.killed) continue;
        runKills++;
        report.kills++;
        if (killed.afterGrowth) report.killedAfterJournalGrew++;
        const bytes = await Deno.readFile(journal).catch(() => new Uint8Array());
        if (endsTorn(bytes)) {
          report.tornNatural++;
          torn = "natural";
          if ((await readJournal(journal)).repaired) report.repaired++;
        }
      }
      if (run % 3 === 2 && torn === "") {
        // Half a line, as a write cut off mid-way would leave it (whether or not a kill landed).
        await Deno.writeTextFile(
          journal,
          '{"t":"input","id":"k-torn","location":"x.csv:9","out',
          { append: true },
        );
        report.tornForced++;
        torn = "forced";
        if ((await readJournal(journal)).repaired) report.repaired++;
      }
      if (runKills > 0) report.runsKilled++;
      // Resume: the same command, until it finishes (a failure left by the faults would exit 1).
      let code: number | null = null;
      let resumes = 0;
      let summary;
      for (; resumes < 3 && code !== 0; resumes++) {
        const r = await runCli(args, { env, cwd: dir, timeoutMs: 120_000 });
        code = r.code;
        summary = summaryOfOutput(r.stdout);
        if (code !== 0) {
          log(`run ${run}: resume exit ${code}: ${r.stderr.slice(0, 1500)}`);
          report.resumeFailures.push(`run ${run}: exit ${code}: ${r.stderr.slice(0, 300)}`);
        }
      }
      const after = await readJournal(journal);
      const text = await Deno.readTextFile(journal).catch(() => "");
      const badTail = !text.endsWith("\n");
      if (after.badLines > 0 || after.repaired || badTail) report.unreadableJournals++;
      const client = clientFor(api, appId);
      api.api.setFaults({});
      const held = await listAllInputs(client);
      const boxes = await listAllBoxes(client);
      api.api.setFaults(`${CRASH_FAULTS},seed=${seed + run}`);
      client.close();
      const c = compare(expected, held, boxes, new Map());
      report.lost += c.lost.length;
      report.duplicated += c.duplicated.length;
      report.unexplained += c.unexplained.length + (code === 0 ? 0 : 1);
      const line = `run ${run} (${coco ? "coco" : "csv"}, ${expected.size} inputs): ${runKills} ` +
        `kills${torn ? `, torn line ${torn}` : ""}; ${resumes} resume(s), exit ${code}, ` +
        `resumed past ${summary?.alreadyUploaded ?? "?"} inputs; lost ${c.lost.length}, ` +
        `duplicated ${c.duplicated.length}, unexplained ${c.unexplained.length}` +
        (c.unexplained.length ? ` (${c.unexplained.slice(0, 3).join("; ")})` : "");
      report.details.push(line);
      log(line);
    }
  } finally {
    await api.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  report.seconds = Math.round((performance.now() - started) / 100) / 10;
  return report;
}
