/**
 * From a bucket against from disk: the same images (default 1 GiB) uploaded by the CLI with the
 * same flags from a folder and from an s3rver bucket of the same files, to the discard server of
 * bench/e2e (so the target is not what is measured), side by side in one run.
 *
 * ```sh
 * deno run -A --lock=dev.lock bench/s3/main.ts             # 1 GiB: 256 images of 4 MiB
 * deno run -A --lock=dev.lock bench/s3/main.ts --mib 256   # smaller
 * ```
 *
 * s3rver is a test server (Koa, objects in files): what the bucket case measures is upflow's S3
 * path plus s3rver on the same two cores, an upper bound of the cost a real store adds.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runMeasured, startServer } from "../e2e/run_tool.ts";
import { startS3rver } from "../../tests/sources/s3/_s3rver.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mib: { type: "string", default: "1024" },
    "file-mib": { type: "string", default: "4" },
  },
});
const fileMiB = Number(values["file-mib"]);
const files = Math.round(Number(values.mib) / fileMiB);
const root = new URL("../..", import.meta.url).pathname;
const main = `${root}src/cli/main.ts`;

const dir = await Deno.makeTempDir({ prefix: "upflow-s3-bench-" });
const s3 = await startS3rver();
const discard = await startServer(
  `${root}bench/e2e/discard_server.ts`,
  ["--port", "0"],
  /listening on (\d+)/,
);
try {
  // The data: class folders of "images" (a PNG signature, then bytes of their own).
  await s3.createBucket("bench");
  const size = fileMiB * 1024 * 1024;
  for (let i = 0; i < files; i++) {
    const bytes = new Uint8Array(size);
    crypto.getRandomValues(bytes.subarray(0, 65536));
    for (let at = 65536; at < size; at += 65536) bytes.copyWithin(at, 0, 65536);
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const key = `data/class${i % 4}/img_${i}.png`;
    await Deno.mkdir(`${dir}/data/class${i % 4}`, { recursive: true });
    await Deno.writeFile(`${dir}/${key}`, bytes);
    await s3.put("bench", key, bytes);
  }
  console.error(`${files} files of ${fileMiB} MiB in ${dir}/data and s3://bench/data`);

  const env = {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_ENDPOINT_URL: s3.endpoint,
    CLARIFAI_PAT: "",
  };
  // Compile the CLI once, so that neither measured run pays for it.
  await new Deno.Command(Deno.execPath(), { args: ["cache", main] }).output();
  const rows: string[] = [];
  // Each round: the upload to the discard server, then a dry run (read, load and batch only:
  // what the source alone costs), from disk and from the bucket side by side.
  const rounds = [1, 2].flatMap((round) =>
    [false, true].flatMap((dry) =>
      [["disk", `${dir}/data`], ["bucket", "s3://bench/data"]].map(([name, source]) =>
        [name, source, round, dry] as const
      )
    )
  );
  for (const [name, source, round, dry] of rounds) {
    const result = await runMeasured(Deno.execPath(), [
      "run",
      "-A",
      main,
      "folder",
      source,
      "--recursive",
      "--labels",
      "--base",
      discard.base,
      "--user",
      "u",
      "--app",
      "a",
      "--rps",
      "0",
      "--journal",
      `${dir}/${name}-${round}-${dry}.ndjson`,
      "--json",
      ...(dry ? ["--dry-run"] : []),
    ], { env, timeoutS: 900 });
    const done = result.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((e) =>
      e.type === "done"
    );
    if (result.code !== 0 || done?.summary.uploaded !== files) {
      throw new Error(`${name}: exit ${result.code}: ${result.stderrTail}`);
    }
    const seconds = result.wallMs / 1000;
    const mb = files * size / 1e6;
    rows.push(
      `| ${round} | ${dry ? "dry run" : "upload"} | ${name} | ${files} | ${seconds.toFixed(1)} | ${
        (files / seconds).toFixed(1)
      } | ${(mb / seconds).toFixed(1)} | ${result.peakRssMiB.toFixed(0)} |`,
    );
    console.error(rows.at(-1));
  }
  console.log(
    [
      `${files} images of ${fileMiB} MiB (${
        (files * fileMiB / 1024).toFixed(2)
      } GiB), CLI to the discard server, --rps 0, defaults otherwise`,
      "",
      "| round | run | source | objects | wall s | objects/s | MB/s | peak RSS MiB |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      `load average at the end: ${Deno.loadavg().map((n) => n.toFixed(1)).join(", ")}`,
    ].join("\n"),
  );
} finally {
  await discard.stop();
  await s3.close();
  await Deno.remove(dir, { recursive: true });
}
