/**
 * Measures how fast the local API ingests inputs: starts `server/local/main.ts` as a separate
 * process on a temporary data folder, posts N small JPEG-looking images (unique content, ~30 KB
 * each) in batches of 128 through a Connect gRPC client (HTTP/2), waits until all are processed,
 * and reports inputs per second and the server's peak RSS (Linux `VmHWM`).
 *
 * ```sh
 * deno run -A server/local/ingest_benchmark.ts --inputs 10000 --size 30000 --concurrency 4
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      inputs: { type: "string", default: "10000" },
      size: { type: "string", default: "30000" },
      batch: { type: "string", default: "128" },
      concurrency: { type: "string", default: "4" },
      port: { type: "string", default: "8719" },
      transport: { type: "string", default: "grpc" },
    },
  });
  const total = Number(values.inputs), size = Number(values.size), batch = Number(values.batch);
  const concurrency = Number(values.concurrency), port = Number(values.port);
  const dataDir = await Deno.makeTempDir({ prefix: "upflow-bench-" });
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./main.ts", import.meta.url).pathname,
      "--port",
      String(port),
      "--data",
      dataDir,
      "--key",
      "bench",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  while (!banner.includes("listening")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited");
    banner += value;
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const transport = values.transport === "connect"
    ? createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true })
    : createGrpcTransport({ baseUrl });
  const client = createClient(V2, transport);
  const headers = { authorization: "Key bench" };
  const userAppId = { userId: "bench", appId: "bench" };
  const peakRss = async () => {
    const status = await Deno.readTextFile(`/proc/${server.pid}/status`);
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  };
  const image = (n: number) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 4) {
      new DataView(bytes.buffer).setUint32(i & ~3, n * 2654435761 + i);
    }
    bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
    return bytes;
  };
  let next = 0, accepted = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const first = next;
      next = Math.min(total, next + batch);
      const inputs = [];
      for (let n = first; n < next; n++) {
        inputs.push({ id: `bench-${n}`, data: { image: { base64: image(n) } } });
      }
      const res = await client.postInputs({ userAppId, inputs }, { headers });
      if (res.status?.code !== StatusCode.SUCCESS) throw new Error(res.status?.details);
      accepted += inputs.length;
    }
  }));
  const postedMs = performance.now() - started;
  for (;;) {
    const count = await client.getInputCount({ userAppId }, { headers });
    if ((count.counts?.processed ?? 0) + (count.counts?.errors ?? 0) >= total) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const processedMs = performance.now() - started;
  const rss = await peakRss();
  server.kill("SIGTERM");
  await reader.cancel();
  await server.status;
  let dbBytes = 0;
  for await (const entry of Deno.readDir(dataDir)) {
    dbBytes += (await Deno.stat(`${dataDir}/${entry.name}`)).size;
  }
  await Deno.remove(dataDir, { recursive: true });
  console.log(JSON.stringify(
    {
      inputs: accepted,
      bytesPerInput: size,
      batch,
      concurrency,
      acceptedPerSecond: Math.round(accepted / (postedMs / 1000)),
      processedPerSecond: Math.round(accepted / (processedMs / 1000)),
      acceptSeconds: +(postedMs / 1000).toFixed(2),
      processSeconds: +(processedMs / 1000).toFixed(2),
      serverPeakRssMiB: Math.round(rss),
      databaseMiB: Math.round(dbBytes / 1024 / 1024),
    },
    null,
    2,
  ));
}
