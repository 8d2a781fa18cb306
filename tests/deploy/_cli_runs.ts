/**
 * Runs the CLI's `main` once per command line in `UPFLOW_RUNS` (a JSON array of argument lists),
 * in one process, printing `#exit N` after each run's output.
 */
import { main } from "../../src/cli/main.ts";

const runs = JSON.parse(Deno.env.get("UPFLOW_RUNS") ?? "[]") as string[][];
for (const args of runs) {
  const code = await main(args);
  Deno.stdout.writeSync(new TextEncoder().encode(`#exit ${code}\n`));
}
