/**
 * Runs the official `clarifai-nodejs` SDK (0.4.0) against a Clarifai-compatible API, for the
 * end-to-end benchmark: the same data and the same batch size as upflow's CLI.
 *
 * - `folder`: `Dataset.uploadFromFolder({ folderPath, inputType: "image", labels: true })`.
 * - `csv`: `Dataset.uploadFromCSV({ csvPath, inputType: "image", csvType: "url" })`.
 * - `videos`: the SDK's folder upload takes images and text only, so each video becomes
 *   `Input.getInputFromFile({ videoFile })` (the SDK's own file reader) and the list goes through
 *   `Input.bulkUpload`, the same call `uploadFromFolder` ends in.
 *
 * The SDK is pointed at the API with `authConfig.base` = `http://127.0.0.1:PORT`: its auth
 * helper strips the `http://` and opens an insecure grpc-js channel (h2c) to `127.0.0.1:PORT`.
 *
 * ```sh
 * CLARIFAI_PAT=K deno run -A bench/e2e/sdk_runner.ts folder /tmp/data/small \
 *   --base http://127.0.0.1:8710 --user u --app a --dataset demo --batch-size 32
 * ```
 *
 * Prints one JSON line: `{ "mode", "inputs", "ms" }`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { App, Dataset, Input } from "npm:clarifai-nodejs@0.4.0";

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      base: { type: "string" },
      user: { type: "string", default: "u" },
      app: { type: "string", default: "a" },
      dataset: { type: "string", default: "demo" },
      "batch-size": { type: "string", default: "32" },
    },
  });
  const [mode, path] = positionals;
  const pat = Deno.env.get("CLARIFAI_PAT") ?? "";
  if (!values.base || !path || !["folder", "csv", "videos"].includes(mode)) {
    console.error("usage: sdk_runner.ts folder|csv|videos PATH --base URL [--batch-size N]");
    Deno.exit(2);
  }
  const authConfig = { userId: values.user, appId: values.app, pat, base: values.base };
  const batchSize = Number(values["batch-size"]);
  const started = performance.now();
  const app = new App({ authConfig });
  await app.createDataset({ datasetId: values.dataset });
  const dataset = new Dataset({ authConfig, datasetId: values.dataset });
  let inputs = 0;
  if (mode === "folder") {
    await dataset.uploadFromFolder({
      folderPath: path,
      inputType: "image",
      labels: true,
      batchSize,
    });
  } else if (mode === "csv") {
    await dataset.uploadFromCSV({
      csvPath: path,
      inputType: "image",
      csvType: "url",
      labels: true,
      batchSize,
    });
  } else {
    const label = basename(path);
    const protos = [];
    for (const entry of [...Deno.readDirSync(path)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      if (!entry.isFile || !entry.name.endsWith(".mp4")) continue;
      protos.push(Input.getInputFromFile({
        inputId: entry.name.replace(/\.mp4$/, ""),
        videoFile: join(path, entry.name),
        datasetId: values.dataset,
        labels: [label],
      }));
    }
    inputs = protos.length;
    await new Input({ authConfig }).bulkUpload({ inputs: protos, batchSize });
  }
  console.log(JSON.stringify({ mode, inputs, ms: Math.round(performance.now() - started) }));
  Deno.exit(0);
}
