// A service in a process of its own, for memory measurements: prints its URL on the first line
// of standard output, serves until standard input closes, then prints its RSS at start and its
// peak RSS (sampled every 10 ms) as JSON. Args: ROOT DATA TOKEN.
import { join } from "node:path";
import { startServer } from "../../server/start_server.ts";

if (import.meta.main) await serve(Deno.args);

async function serve([root, data, token]: string[]): Promise<void> {
  const server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    root,
    dataDir: data,
    token,
    log: () => {},
    target: { env: null, localDataDir: join(data, "local") },
  });
  const startRss = Deno.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => peakRss = Math.max(peakRss, Deno.memoryUsage().rss), 10);
  console.log(server.url);
  for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
  clearInterval(sampler);
  await server.shutdown();
  console.log(JSON.stringify({ startRss, peakRss }));
}
