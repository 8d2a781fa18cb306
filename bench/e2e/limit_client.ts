/**
 * The transport limit's client: reads a folder's files, encodes them into `PostInputsRequest`s
 * (batches of `--batch-size` images, one video per request, as upflow batches them) BEFORE the
 * clock starts, then sends the pre-encoded requests as gRPC over h2c (`node:http2`, the layer
 * Connect's gRPC transport uses) with `--concurrency` requests in flight, and reports the time.
 *
 * ```sh
 * deno run -A bench/e2e/limit_client.ts /tmp/data/small --base http://127.0.0.1:8790 \
 *   --batch-size 32 --concurrency 4
 * ```
 *
 * Prints one JSON line: `{ "requests", "inputs", "requestBytes", "contentBytes", "ms" }`.
 *
 * @module
 */
import { connect } from "node:http2";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { PostInputsRequestSchema } from "../../src/gen/clarifai/api/service_pb.ts";
import type { InputSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { grpcFrame } from "./discard_server.ts";

/**
 * Sends pre-framed gRPC requests to `/clarifai.api.V2/PostInputs` with `concurrency` in flight.
 *
 * @param base The server, `http://127.0.0.1:PORT`.
 * @param frames The framed requests.
 * @param concurrency Requests in flight.
 * @returns The milliseconds it took.
 */
export async function sendFrames(
  base: string,
  frames: Uint8Array[],
  concurrency: number,
): Promise<number> {
  const session = connect(base);
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  const started = performance.now();
  let next = 0;
  const one = (frame: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/clarifai.api.V2/PostInputs",
        "content-type": "application/grpc",
        te: "trailers",
        authorization: "Key bench",
      });
      stream.on("data", () => {});
      stream.on("trailers", (trailers) => {
        if (trailers["grpc-status"] !== undefined && trailers["grpc-status"] !== "0") {
          reject(new Error(`grpc-status ${trailers["grpc-status"]}`));
        }
      });
      stream.on("end", () => resolve());
      stream.on("error", reject);
      stream.end(frame);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < frames.length) await one(frames[next++]);
    }),
  );
  const ms = performance.now() - started;
  session.close();
  return ms;
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      base: { type: "string" },
      "batch-size": { type: "string", default: "32" },
      concurrency: { type: "string", default: "4" },
    },
  });
  const dir = positionals[0];
  const batchSize = Number(values["batch-size"]);
  const csv = dir.endsWith(".csv");
  const names = csv
    ? []
    : [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  const frames: Uint8Array[] = [];
  let batch: MessageInitShape<typeof InputSchema>[] = [];
  let contentBytes = 0;
  const flush = () => {
    if (batch.length === 0) return;
    const request = create(PostInputsRequestSchema, {
      userAppId: { userId: "u", appId: "a" },
      inputs: batch,
    });
    frames.push(grpcFrame(toBinary(PostInputsRequestSchema, request)));
    batch = [];
  };
  let rows = 0;
  if (csv) {
    // The benchmark's CSV: inputid,input,concepts, no quoting.
    const lines = Deno.readTextFileSync(dir).split("\n");
    contentBytes = 0;
    for (const line of lines.slice(1)) {
      if (line === "") continue;
      const [id, url, concept] = line.split(",");
      rows++;
      batch.push({
        id,
        data: { image: { url }, concepts: [{ id: concept, value: 1 }] },
        datasetIds: ["demo"],
      });
      if (batch.length >= batchSize) flush();
    }
  }
  for (const name of names) {
    const bytes = Deno.readFileSync(join(dir, name));
    contentBytes += bytes.length;
    const stem = name.replace(/\.[^.]+$/, "");
    const video = name.endsWith(".mp4");
    batch.push({
      id: stem,
      data: {
        [video ? "video" : "image"]: { base64: bytes },
        concepts: [{ id: "label", value: 1 }],
      },
      datasetIds: ["demo"],
    });
    if (video || batch.length >= batchSize) flush();
  }
  flush();
  const ms = await sendFrames(values.base!, frames, Number(values.concurrency));
  const requestBytes = frames.reduce((n, f) => n + f.length, 0);
  console.log(JSON.stringify({
    requests: frames.length,
    inputs: csv ? rows : names.length,
    requestBytes,
    contentBytes,
    ms: Math.round(ms),
  }));
  Deno.exit(0);
}
