import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import {
  clarifaiBaseUrl,
  type ClarifaiClientOptions,
  clarifaiOptionsFromEnv,
  createClarifaiClient,
} from "../../src/clarifai/client.ts";
import { Secret } from "../../src/clarifai/secret.ts";
import { RetryPolicy, withRetry } from "../../src/clarifai/retry_policy.ts";
import { FatalUploadError } from "../../src/clarifai/errors.ts";

const PAT = "pat-0123456789abcdef-SECRET";
const NONE = { permissions: "none" } as const;

function routerClient(impl: Partial<ServiceImpl<typeof V2>>, options: ClarifaiClientOptions = {}) {
  return createClarifaiClient({
    pat: PAT,
    userId: "me",
    appId: "photos",
    transport: (settings) =>
      createRouterTransport(({ service }) => service(V2, impl), { transport: settings }),
    ...options,
  });
}

const noSleep = new RetryPolicy({ sleep: () => Promise.resolve() });

Deno.test("the auth header and user_app_id arrive", NONE, async () => {
  let seen: { authorization: string | null; userId?: string; appId?: string } | undefined;
  const client = routerClient({
    postInputs(req, ctx) {
      seen = {
        authorization: ctx.requestHeader.get("authorization"),
        userId: req.userAppId?.userId,
        appId: req.userAppId?.appId,
      };
      return { status: { code: StatusCode.SUCCESS }, inputs: req.inputs };
    },
  });
  const response = await client.postInputs({
    userAppId: client.userAppId,
    inputs: [{ id: "cat-1", data: { text: { raw: "meow" } } }],
  });
  assertEquals(response.status?.code, StatusCode.SUCCESS);
  assertEquals(response.inputs[0].data?.text?.raw, "meow");
  assertEquals(seen, { authorization: `Key ${PAT}`, userId: "me", appId: "photos" });
  assertEquals(client.transportKind, "custom");
  client.close();
});

Deno.test("without a PAT no authorization header is sent", NONE, async () => {
  let authorization: string | null = "unset";
  const client = createClarifaiClient({
    base: "http://127.0.0.1:1",
    transport: (settings) =>
      createRouterTransport(({ service }) =>
        service(V2, {
          getInputCount(_req, ctx) {
            authorization = ctx.requestHeader.get("authorization");
            return { status: { code: StatusCode.SUCCESS } };
          },
        }), { transport: settings }),
  });
  await client.getInputCount({});
  assertEquals(authorization, null);
  assertEquals(client.userAppId, undefined);
});

Deno.test("the deadline applies to each call", NONE, async () => {
  let handlerSawAbort = false;
  const client = routerClient({
    async getInput(_req, ctx) {
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          handlerSawAbort = true;
          resolve();
        });
      });
      return {};
    },
  }, { timeoutMs: 50 });
  const started = performance.now();
  const error = await assertRejects(() => client.getInput({ inputId: "x" }), ConnectError);
  assertEquals(error.code, Code.DeadlineExceeded);
  const elapsed = performance.now() - started;
  assert(elapsed >= 40 && elapsed < 2000, `took ${elapsed} ms`);
  assert(handlerSawAbort);
});

Deno.test("a call retried through withRetry succeeds after Unavailable", NONE, async () => {
  let calls = 0;
  const client = routerClient({
    postInputs(req) {
      calls++;
      if (calls < 3) throw new ConnectError("try later", Code.Unavailable);
      return { status: { code: StatusCode.SUCCESS }, inputs: req.inputs };
    },
  }, { callRetry: false });
  const attempts: number[] = [];
  const response = await withRetry(
    () => client.postInputs({ userAppId: client.userAppId, inputs: [{ id: "a" }] }),
    noSleep,
    { onRetry: (info) => attempts.push(info.attempt) },
  );
  assertEquals(response.inputs[0].id, "a");
  assertEquals(calls, 3);
  assertEquals(attempts, [1, 2]);
});

Deno.test("fatal outcomes are not retried", NONE, async (t) => {
  await t.step("in-body CONN_KEY_INVALID", async () => {
    let calls = 0;
    const client = routerClient({
      postInputs() {
        calls++;
        return { status: { code: StatusCode.CONN_KEY_INVALID, description: "API key not found" } };
      },
    });
    const error = await assertRejects(
      () => withRetry(() => client.postInputs({ userAppId: client.userAppId }), noSleep),
      FatalUploadError,
    );
    assertEquals(calls, 1);
    assertEquals(error.statusCode, StatusCode.CONN_KEY_INVALID);
    assert(!error.message.includes(PAT));
  });
  await t.step("transport Unauthenticated", async () => {
    let calls = 0;
    const client = routerClient({
      postInputs() {
        calls++;
        throw new ConnectError("bad key", Code.Unauthenticated);
      },
    });
    const error = await assertRejects(
      () => withRetry(() => client.postInputs({ userAppId: client.userAppId }), noSleep),
      FatalUploadError,
    );
    assertEquals(calls, 1);
    assertEquals(error.connectCode, Code.Unauthenticated);
  });
});

Deno.test("the PAT never shows in printed options, clients or errors", NONE, async () => {
  const fromEnv = clarifaiOptionsFromEnv(
    new Map([
      ["CLARIFAI_PAT", PAT],
      ["CLARIFAI_USER_ID", "me"],
      ["CLARIFAI_APP_ID", "photos"],
      ["CLARIFAI_GRPC_BASE", "127.0.0.1:8710"],
    ]),
  );
  const direct = { pat: PAT, userId: "me", appId: "photos" };
  const clients = [
    createClarifaiClient(fromEnv),
    createClarifaiClient({ ...fromEnv, transport: "grpc-web" }),
    routerClient({}),
    createClarifaiClient(direct),
  ];
  const printed = [
    JSON.stringify(fromEnv),
    String(fromEnv.pat),
    `${fromEnv.pat}`,
    Deno.inspect(fromEnv, { showHidden: true, depth: 10 }),
    ...clients.flatMap((client) => [
      JSON.stringify(client),
      String(client),
      Deno.inspect(client, { showHidden: true, depth: 10, getters: true }),
    ]),
  ];
  for (const text of printed) assert(!text.includes(PAT), `PAT leaked in: ${text}`);
  assertEquals(JSON.parse(JSON.stringify(fromEnv)).pat, "[redacted]");
  for (const client of clients) client.close();

  // A failing call does not echo the credential either.
  const failing = createClarifaiClient({
    ...fromEnv,
    base: "http://127.0.0.1:9",
    transport: (settings) =>
      createRouterTransport(({ service }) =>
        service(V2, {
          postInputs(_req, ctx) {
            throw new ConnectError(
              `rejected ${ctx.requestHeader.get("x-none") ?? ""}`,
              Code.Internal,
            );
          },
        }), { transport: settings }),
  });
  const error = await assertRejects(() => failing.postInputs({}), ConnectError);
  assert(!Deno.inspect(error, { depth: 10 }).includes(PAT));
});

Deno.test("createClarifaiClient() validates its options", NONE, async (t) => {
  const cases: [string, ClarifaiClientOptions, ErrorConstructor | RangeErrorConstructor, string][] =
    [
      [
        "no base and no PAT",
        {},
        TypeError,
        "Cannot create Clarifai client: base is required when no PAT is given",
      ],
      [
        "a PAT without user and app",
        { pat: PAT },
        TypeError,
        "Cannot create Clarifai client: userId and appId are required with a PAT",
      ],
      [
        "a user without an app",
        { base: "http://127.0.0.1:1", userId: "me" },
        TypeError,
        "Cannot create Clarifai client: userId and appId must be given together: appId is missing",
      ],
      [
        "a blank PAT",
        { pat: "  ", userId: "me", appId: "a" },
        TypeError,
        "Cannot create Clarifai client: pat must not be blank",
      ],
      [
        "an unknown transport",
        { base: "http://127.0.0.1:1", transport: "rest" as "grpc" },
        TypeError,
        'Cannot create Clarifai client: transport must be "grpc" or "grpc-web": current value is "rest"',
      ],
      [
        "a negative timeout",
        { base: "http://127.0.0.1:1", timeoutMs: -5 },
        RangeError,
        "Cannot create Clarifai client: timeoutMs must be a non-negative number: current value is -5",
      ],
      [
        "a message limit of 0",
        { base: "http://127.0.0.1:1", maxMessageBytes: 0 },
        RangeError,
        "Cannot create Clarifai client: maxMessageBytes must be an integer from 1 to 4294967295: current value is 0",
      ],
      [
        "a base with another scheme",
        { base: "ftp://example.com" },
        TypeError,
        'Cannot create Clarifai client: base must be an http or https URL: current value is "ftp://example.com"',
      ],
      [
        "a base with credentials",
        { base: "https://user:pw@example.com" },
        TypeError,
        "Cannot create Clarifai client: base must not contain credentials",
      ],
    ];
  for (const [name, options, ErrorClass, message] of cases) {
    await t.step(name, () => {
      const error = assertThrows(() => createClarifaiClient(options), ErrorClass, message);
      assert(!error.message.includes(PAT));
    });
  }
});

Deno.test("bases are normalised and defaulted", NONE, async (t) => {
  const cases: [string, string][] = [
    ["api.clarifai.com", "https://api.clarifai.com"],
    ["api.clarifai.com:443", "https://api.clarifai.com"],
    ["https://api.clarifai.com/", "https://api.clarifai.com"],
    ["http://127.0.0.1:8710", "http://127.0.0.1:8710"],
    ["127.0.0.1:8710", "http://127.0.0.1:8710"],
    ["localhost:8710", "http://localhost:8710"],
    ["[::1]:8710", "http://[::1]:8710"],
    ["https://proxy.example.com/clarifai/", "https://proxy.example.com/clarifai"],
    ["  https://api.clarifai.com  ", "https://api.clarifai.com"],
  ];
  for (const [input, expected] of cases) {
    await t.step(input, () => assertEquals(clarifaiBaseUrl(input), expected));
  }
  await t.step("defaults with a PAT", () => {
    const grpc = createClarifaiClient({ pat: PAT, userId: "u", appId: "a" });
    assertEquals(grpc.base, "https://api.clarifai.com");
    assertEquals(grpc.transportKind, "grpc");
    const web = createClarifaiClient({ pat: PAT, userId: "u", appId: "a", transport: "grpc-web" });
    assertEquals(web.base, "https://api-grpc-web.clarifai.com");
    assertEquals(web.transportKind, "grpc-web");
    grpc.close();
    web.close();
  });
  await t.step("a Secret is accepted as the PAT", () => {
    const client = createClarifaiClient({ pat: new Secret(PAT), userId: "u", appId: "a" });
    assertEquals(client.userAppId?.userId, "u");
    client.close();
  });
});

Deno.test("clarifaiOptionsFromEnv() reads the SDKs' variable names", NONE, async (t) => {
  await t.step("everything set; the gRPC base wins over the API base", () => {
    const options = clarifaiOptionsFromEnv(
      new Map([
        ["CLARIFAI_PAT", PAT],
        ["CLARIFAI_USER_ID", "me"],
        ["CLARIFAI_APP_ID", "photos"],
        ["CLARIFAI_GRPC_BASE", "api.clarifai.com"],
        ["CLARIFAI_API_BASE", "https://other.example.com"],
      ]),
    );
    assert(options.pat instanceof Secret);
    assertEquals(options.pat.reveal(), PAT);
    assertEquals(options.userId, "me");
    assertEquals(options.appId, "photos");
    assertEquals(options.base, "https://api.clarifai.com");
  });
  await t.step("the API base when no gRPC base", () => {
    const options = clarifaiOptionsFromEnv(
      new Map([["CLARIFAI_API_BASE", "http://127.0.0.1:8710"]]),
    );
    assertEquals(options, { base: "http://127.0.0.1:8710" });
  });
  await t.step("empty variables are unset", () => {
    const options = clarifaiOptionsFromEnv(
      new Map([["CLARIFAI_PAT", ""], ["CLARIFAI_USER_ID", " "], ["CLARIFAI_GRPC_BASE", ""]]),
    );
    assertEquals(options, {});
  });
});

Deno.test("clarifaiOptionsFromEnv() reads Deno.env by default", {
  permissions: {
    env: [
      "CLARIFAI_PAT",
      "CLARIFAI_USER_ID",
      "CLARIFAI_APP_ID",
      "CLARIFAI_GRPC_BASE",
      "CLARIFAI_API_BASE",
    ],
  },
}, () => {
  const saved = Deno.env.get("CLARIFAI_USER_ID");
  Deno.env.set("CLARIFAI_USER_ID", "from-env");
  try {
    assertEquals(clarifaiOptionsFromEnv().userId, "from-env");
  } finally {
    if (saved === undefined) Deno.env.delete("CLARIFAI_USER_ID");
    else Deno.env.set("CLARIFAI_USER_ID", saved);
  }
});
