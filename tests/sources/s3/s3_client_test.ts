import { assert, assertEquals, assertRejects } from "@std/assert";
import { startS3rver } from "./_s3rver.ts";
import { S3Client, S3Error, s3OptionsFromEnv } from "../../../src/sources/s3/s3_client.ts";
import { RetryPolicy } from "../../../src/clarifai/retry_policy.ts";

Deno.test("S3Client against s3rver", async (t) => {
  const s3 = await startS3rver();
  try {
    await s3.createBucket("pets");
    const client = s3.client();
    await t.step("lists page by page, with and without a delimiter", async () => {
      for (let i = 0; i < 7; i++) await s3.put("pets", `cats/${i}.jpg`, `cat ${i}`);
      await s3.put("pets", "cats/big/a b+c.png", "x");
      await s3.put("pets", "dogs/1.jpg", "dog");
      const all = await Array.fromAsync(client.listObjects("pets", "", { pageSize: 3 }));
      assertEquals(all.length, 9);
      assertEquals(all.map((i) => i.type === "object" ? i.key : ""), [
        "cats/0.jpg",
        "cats/1.jpg",
        "cats/2.jpg",
        "cats/3.jpg",
        "cats/4.jpg",
        "cats/5.jpg",
        "cats/6.jpg",
        "cats/big/a b+c.png",
        "dogs/1.jpg",
      ]);
      const first = all[0];
      assert(first.type === "object" && first.size === 5 && /^"[0-9a-f]+"$/.test(first.etag));
      const top = await Array.fromAsync(client.listObjects("pets", "cats/", { delimiter: "/" }));
      assertEquals(top.filter((i) => i.type === "prefix"), [{
        type: "prefix",
        prefix: "cats/big/",
      }]);
      assertEquals(top.filter((i) => i.type === "object").length, 7);
    });
    await t.step("reads an object, a range, and refuses a changed one", async () => {
      const [item] = await Array.fromAsync(client.listObjects("pets", "dogs/"));
      assert(item.type === "object");
      const bytes = await client.getObject("pets", "dogs/1.jpg", { ifMatch: item.etag });
      assertEquals(new TextDecoder().decode(bytes), "dog");
      const head = await client.getObject("pets", "cats/big/a b+c.png", { range: [0, 0] });
      assertEquals(new TextDecoder().decode(head), "x");
      await s3.put("pets", "dogs/1.jpg", "another dog");
      const error = await assertRejects(
        () => client.getObject("pets", "dogs/1.jpg", { ifMatch: item.etag }),
        S3Error,
        "Cannot read s3://pets/dogs/1.jpg: the object changed since it was listed",
      );
      assertEquals(error.status, 412);
    });
    await t.step("a missing object or bucket is a clear error, not retried", async () => {
      let calls = 0;
      const counting = s3.client({
        fetch: (input, init) => (calls++, fetch(input, init)),
      });
      await assertRejects(
        () => counting.getObject("pets", "nope.jpg"),
        S3Error,
        "Cannot read s3://pets/nope.jpg: no such object",
      );
      assertEquals(calls, 1);
      await assertRejects(
        () => Array.fromAsync(counting.listObjects("nobucket", "")),
        S3Error,
        "no such bucket",
      );
    });
    await t.step("wrong keys: a signature error naming the variables, never the key", async () => {
      // s3rver does not check SigV4 signatures (sig_v4_test.ts checks them against AWS's
      // examples): the answer S3 gives to a wrong key stands in.
      const wrong = s3.client({
        secretAccessKey: "wrong-secret-value",
        fetch: () =>
          Promise.resolve(
            new Response(
              "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>",
              { status: 403 },
            ),
          ),
      });
      const error = await assertRejects(
        () => wrong.getObject("pets", "dogs/1.jpg"),
        S3Error,
        "SignatureDoesNotMatch: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION",
      );
      assertEquals(error.message.includes("wrong-secret-value"), false);
    });
    await t.step("a presigned URL reads the object with no other credential", async () => {
      const url = await client.presignGet("pets", "cats/big/a b+c.png", 60);
      const response = await fetch(url);
      assertEquals(await response.text(), "x");
      assertEquals(new URL(url).searchParams.get("X-Amz-Expires"), "60");
      assertEquals(new URL(url).searchParams.get("X-Amz-Credential")?.startsWith("S3RVER/"), true);
    });
    await t.step("503 SlowDown and dropped connections are retried", async () => {
      const faults = ["slowdown", "drop", "slowdown"];
      const waits: number[] = [];
      const flaky = s3.client({
        retry: new RetryPolicy({ sleep: (ms) => (waits.push(ms), Promise.resolve()) }),
        fetch: (input, init) => {
          const fault = faults.shift();
          if (fault === "slowdown") {
            return Promise.resolve(
              new Response(
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
                { status: 503, headers: { "retry-after": "1" } },
              ),
            );
          }
          if (fault === "drop") return Promise.reject(new TypeError("connection reset"));
          return fetch(input, init);
        },
      });
      const bytes = await flaky.getObject("pets", "cats/0.jpg");
      assertEquals(new TextDecoder().decode(bytes), "cat 0");
      assertEquals(waits.length, 3);
      assertEquals(waits[0], 1000); // Retry-After honoured
    });
    await t.step("retries run out into an error that says how many attempts", async () => {
      const down = s3.client({
        retry: new RetryPolicy({ maxAttempts: 2, sleep: () => Promise.resolve() }),
        fetch: () =>
          Promise.resolve(
            new Response("<Error><Code>SlowDown</Code><Message>slow</Message></Error>", {
              status: 503,
            }),
          ),
      });
      await assertRejects(
        () => down.getObject("pets", "cats/0.jpg"),
        S3Error,
        "HTTP 503 SlowDown: slow (after 2 attempts)",
      );
    });
  } finally {
    await s3.close();
  }
});

Deno.test("s3OptionsFromEnv reads the AWS variables and keeps the keys secret", () => {
  const env = new Map([
    ["AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"],
    ["AWS_SECRET_ACCESS_KEY", "very-secret"],
    ["AWS_SESSION_TOKEN", "session-secret"],
    ["AWS_DEFAULT_REGION", "eu-west-1"],
    ["AWS_ENDPOINT_URL", "https://minio.example:9000"],
    ["AWS_S3_FORCE_PATH_STYLE", "true"],
  ]);
  const options = s3OptionsFromEnv(env);
  assertEquals(options.region, "eu-west-1");
  assertEquals(options.pathStyle, true);
  const client = new S3Client(options);
  assertEquals(client.objectUrl("b", "k").href, "https://minio.example:9000/b/k");
  for (const shown of [JSON.stringify(options), Deno.inspect(options), Deno.inspect(client)]) {
    assertEquals(shown.includes("very-secret"), false);
    assertEquals(shown.includes("session-secret"), false);
  }
});
