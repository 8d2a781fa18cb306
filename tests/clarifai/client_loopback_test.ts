import { assert, assertEquals, assertRejects } from "@std/assert";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type ClarifaiClient, createClarifaiClient } from "../../src/clarifai/client.ts";
import { RetryPolicy, withRetry } from "../../src/clarifai/retry_policy.ts";

const PAT = "loopback-pat-secret";
const NET: Omit<Deno.TestDefinition, "name" | "fn"> = { permissions: { net: ["127.0.0.1"] } };

interface Seen {
  authorization: string | null;
  contentType: string | null;
  timeout: string | null;
  userId?: string;
  appId?: string;
  ids: string[];
  bytes: number[];
}

/** A V2 PostInputs/GetInput implementation that records what it received. */
function routes(seen: Seen[]) {
  return (router: ConnectRouter) =>
    router.service(V2, {
      postInputs(req, ctx) {
        seen.push({
          authorization: ctx.requestHeader.get("authorization"),
          contentType: ctx.requestHeader.get("content-type"),
          timeout: ctx.requestHeader.get("grpc-timeout"),
          userId: req.userAppId?.userId,
          appId: req.userAppId?.appId,
          ids: req.inputs.map((input) => input.id),
          bytes: req.inputs.map((input) => input.data?.image?.base64.length ?? 0),
        });
        return {
          status: { code: StatusCode.SUCCESS, description: "Ok" },
          inputs: req.inputs.map((input) => ({
            id: input.id,
            status: { code: StatusCode.INPUT_PENDING },
          })),
          inputsAddJob: { id: req.inputsAddJobId },
        };
      },
      async getInput(req, ctx) {
        if (req.inputId === "slow") {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5000);
            ctx.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        return { status: { code: StatusCode.SUCCESS }, input: { id: req.inputId } };
      },
    });
}

type Listener = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Answers the first `n` requests with HTTP 429 and a Retry-After, then passes through. */
function throttleFirst(n: number, next: Listener): Listener {
  let left = n;
  return (req, res) => {
    if (left > 0) {
      left--;
      req.resume();
      (res as http.ServerResponse).writeHead(429, { "retry-after": "2" });
      res.end();
      return;
    }
    next(req, res);
  };
}

async function startHttp2(listener: Listener) {
  const server = http2.createServer(listener as Parameters<typeof http2.createServer>[0]);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    async close() {
      for (const session of sessions) session.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function startHttp1(listener: Listener) {
  const server = http.createServer(listener as http.RequestListener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function postTwoImages(client: ClarifaiClient) {
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
  return await client.postInputs({
    userAppId: client.userAppId,
    inputsAddJobId: "job-1",
    inputs: [
      { id: "small", data: { image: { base64: new Uint8Array([0xff, 0xd8, 0xff, 0xe0]) } } },
      { id: "big", data: { image: { base64: big } } },
    ],
  });
}

function checkAnswer(response: Awaited<ReturnType<typeof postTwoImages>>, seen: Seen[]) {
  assertEquals(response.status?.code, StatusCode.SUCCESS);
  assertEquals(response.inputs.map((i) => [i.id, i.status?.code]), [
    ["small", StatusCode.INPUT_PENDING],
    ["big", StatusCode.INPUT_PENDING],
  ]);
  assertEquals(response.inputsAddJob?.id, "job-1");
  assertEquals(seen.length, 1);
  assertEquals(seen[0].authorization, `Key ${PAT}`);
  assertEquals(seen[0].userId, "me");
  assertEquals(seen[0].appId, "photos");
  assertEquals(seen[0].ids, ["small", "big"]);
  assertEquals(seen[0].bytes, [4, 3 * 1024 * 1024]);
}

const noSleep = () => {
  const waits: number[] = [];
  const policy = new RetryPolicy({
    random: () => 0,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  return { policy, waits };
};

Deno.test("gRPC over cleartext HTTP/2 reaches a node:http2 server", NET, async (t) => {
  const seen: Seen[] = [];
  const server = await startHttp2(connectNodeAdapter({ routes: routes(seen) }));
  const client = createClarifaiClient({
    base: `http://127.0.0.1:${server.port}`,
    transport: "grpc",
    pat: PAT,
    userId: "me",
    appId: "photos",
    timeoutMs: 10_000,
  });
  try {
    await t.step("PostInputs round trip", async () => {
      checkAnswer(await postTwoImages(client), seen);
      assertEquals(seen[0].contentType, "application/grpc+proto");
      assert(seen[0].timeout !== null, "grpc-timeout sent");
    });
    await t.step("the deadline cuts a slow call", async () => {
      const error = await assertRejects(
        () => client.getInput({ inputId: "slow" }, { timeoutMs: 100 }),
        ConnectError,
      );
      assertEquals(error.code, Code.DeadlineExceeded);
    });
    await t.step("the client reconnects after close()", async () => {
      client.close();
      const response = await client.getInput({ inputId: "again" });
      assertEquals(response.input?.id, "again");
    });
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("gRPC: HTTP 429 with Retry-After is retried after the hinted wait", NET, async () => {
  const seen: Seen[] = [];
  const server = await startHttp2(throttleFirst(1, connectNodeAdapter({ routes: routes(seen) })));
  const client = createClarifaiClient({
    base: `127.0.0.1:${server.port}`,
    pat: PAT,
    userId: "me",
    appId: "photos",
    callRetry: false, // retried below, by withRetry
  });
  try {
    const { policy, waits } = noSleep();
    const errors: unknown[] = [];
    const response = await withRetry(() => postTwoImages(client), policy, {
      onRetry: (info) => errors.push(info.error),
    });
    checkAnswer(response, seen);
    assertEquals(waits, [2000]);
    assert(errors[0] instanceof ConnectError);
    assertEquals(errors[0].code, Code.Unavailable);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("gRPC-web over fetch reaches a node:http server", NET, async (t) => {
  const seen: Seen[] = [];
  const server = await startHttp1(connectNodeAdapter({ routes: routes(seen) }));
  const client = createClarifaiClient({
    base: `http://127.0.0.1:${server.port}`,
    transport: "grpc-web",
    pat: PAT,
    userId: "me",
    appId: "photos",
  });
  try {
    await t.step("PostInputs round trip", async () => {
      checkAnswer(await postTwoImages(client), seen);
      assertEquals(seen[0].contentType, "application/grpc-web+proto");
    });
    await t.step("the deadline cuts a slow call", async () => {
      const error = await assertRejects(
        () => client.getInput({ inputId: "slow" }, { timeoutMs: 100 }),
        ConnectError,
      );
      assertEquals(error.code, Code.DeadlineExceeded);
    });
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("gRPC-web: HTTP 429 with Retry-After is retried", NET, async () => {
  const seen: Seen[] = [];
  const server = await startHttp1(throttleFirst(1, connectNodeAdapter({ routes: routes(seen) })));
  const client = createClarifaiClient({
    base: `http://127.0.0.1:${server.port}`,
    transport: "grpc-web",
    pat: PAT,
    userId: "me",
    appId: "photos",
    callRetry: false, // retried below, by withRetry
  });
  try {
    const { policy, waits } = noSleep();
    checkAnswer(await withRetry(() => postTwoImages(client), policy), seen);
    assertEquals(waits, [2000]);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("a refused connection is a retryable error", NET, async (t) => {
  // Find a free port, then close it so nothing listens there.
  const probe = await startHttp1(() => {});
  const port = probe.port;
  await probe.close();
  for (const transport of ["grpc", "grpc-web"] as const) {
    await t.step(transport, async () => {
      // The client's own retries off: withRetry below is what is checked.
      const client = createClarifaiClient({
        base: `http://127.0.0.1:${port}`,
        transport,
        callRetry: false,
      });
      const { policy, waits } = noSleep();
      try {
        const error = await assertRejects(
          () => withRetry(() => client.getInputCount({}), policy),
          ConnectError,
        );
        assertEquals(waits.length, policy.maxAttempts - 1, `retried (${error.code})`);
      } finally {
        client.close();
      }
    });
  }
});
