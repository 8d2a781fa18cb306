/**
 * A CSV whose data line is one huge field (20 MB in the default tests, 1 GB in the soak),
 * written to a temporary folder at run time: the CLI must refuse the record with a reason (or
 * stop with a clear error), within a deadline, without crashing, and say so in its summary.
 *
 * @module
 */
import { join } from "node:path";
import { baseEnv, cliArgs, ndjsonEvents } from "./_harness.ts";

/** What a big-line run did. */
export interface BigLineResult {
  /** Size of the field in MiB. */
  mb: number;
  /** Exit code (`null` when killed). */
  code: number | null;
  /** Rejections printed, `location: reason`. */
  rejections: string[];
  /** Inputs the summary counts as would-be-uploaded. */
  uploaded: number;
  /** Records in the file (2). */
  records: number;
  /** Whether a summary was printed. */
  summary: boolean;
  /** The last lines of standard error. */
  stderrTail: string;
  /** Peak resident memory of the CLI, MiB. */
  peakRssMb: number;
  /** Wall time, seconds. */
  seconds: number;
  /** Whether the run passed: a summary, exit 1, the big record rejected, nothing else lost. */
  ok: boolean;
}

/**
 * Writes the big-line CSV (the big record, then one small valid record) and runs
 * `upflow csv FILE --dry-run --json` on it.
 *
 * @param mb Size of the huge field in MiB.
 * @param timeoutMs Deadline.
 * @returns What happened.
 */
export async function bigLineCsv(mb: number, timeoutMs = 600_000): Promise<BigLineResult> {
  const dir = await Deno.makeTempDir({ prefix: "upflow-bigline-" });
  const path = join(dir, "big.csv");
  const started = performance.now();
  try {
    const file = await Deno.open(path, { write: true, create: true });
    const enc = new TextEncoder();
    await file.write(enc.encode('inputid,input,concepts\nbig,"'));
    const block = enc.encode("abcdefghijklmnop".repeat(65536)); // 1 MiB
    for (let i = 0; i < mb; i++) {
      let w = 0;
      while (w < block.length) w += await file.write(block.subarray(w));
    }
    await file.write(enc.encode('",huge\nsmall,"a small record",ok\n'));
    file.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(["csv", path, "--dry-run", "--json", "--journal", join(dir, "j.ndjson")]),
      cwd: dir,
      clearEnv: true,
      env: baseEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let peakKb = 0;
    let done = false;
    const poll = (async () => {
      while (!done) {
        try {
          const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
          const m = status.match(/VmHWM:\s+(\d+)/);
          if (m) peakKb = Math.max(peakKb, Number(m[1]));
        } catch { /* gone */ }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const out = await child.output();
    clearTimeout(timer);
    done = true;
    await poll;
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    const events = ndjsonEvents(stdout);
    const summary = events.findLast((e) => e.type === "done")?.summary;
    const rejections = events.filter((e) => e.type === "rejected").map((e) =>
      `${e.location}: ${String(e.reason).slice(0, 200)}`
    );
    const uploaded = summary?.uploaded ?? 0;
    const code = out.signal ? null : out.code;
    return {
      mb,
      code,
      rejections,
      uploaded,
      records: 2,
      summary: summary !== undefined,
      stderrTail: stderr.slice(-600),
      peakRssMb: Math.round(peakKb / 1024),
      seconds: Math.round((performance.now() - started) / 100) / 10,
      ok: code === 1 && summary !== undefined && uploaded === 1 &&
        rejections.some((r) => r.startsWith(`${"big.csv"}:2`)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
