import { assertEquals, assertThrows } from "@std/assert";
import { parseExpiry, refuseS3Flags, s3SettingsFrom } from "../../src/cli/s3_flags.ts";
import { main } from "../../src/cli/main.ts";

Deno.test("parseExpiry takes seconds or s/m/h/d, from 1 s to 7 days", async (t) => {
  for (
    const [text, seconds] of [["1", 1], ["45s", 45], ["30m", 1800], ["12h", 43_200], [
      "7d",
      604_800,
    ]] as const
  ) {
    await t.step(text, () => assertEquals(parseExpiry(text), seconds));
  }
  for (const text of ["0", "8d", "604801", "1.5h", "h", "-3", "soon"]) {
    await t.step(`refuses ${text}`, () => {
      assertThrows(
        () => parseExpiry(text),
        RangeError,
        "--url-expiry must be a duration from 1s to 7d",
      );
    });
  }
});

Deno.test("s3SettingsFrom: flags win over the environment; bad values are refused", () => {
  const env = new Map([
    ["AWS_ENDPOINT_URL", "http://10.0.0.1:9000"],
    ["AWS_ACCESS_KEY_ID", "AKID"],
    ["AWS_SECRET_ACCESS_KEY", "shh"],
  ]);
  assertEquals(s3SettingsFrom({}, env).client.endpoint, "http://10.0.0.1:9000");
  assertEquals(s3SettingsFrom({}, env).via, "bytes");
  const flagged = s3SettingsFrom(
    { "s3-endpoint": "https://minio.example", "s3-path-style": true },
    env,
  );
  assertEquals(flagged.client.objectUrl("b", "k").href, "https://minio.example/b/k");
  assertThrows(
    () => s3SettingsFrom({ via: "carrier-pigeon" }, env),
    RangeError,
    "--via must be bytes or url",
  );
  assertThrows(
    () => s3SettingsFrom({ "s3-endpoint": "ftp://x" }, env),
    RangeError,
    "endpoint must be an http(s) URL",
  );
  assertThrows(
    () => s3SettingsFrom({}, new Map([["AWS_ACCESS_KEY_ID", "AKID"]])),
    RangeError,
    "give both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  );
  assertThrows(
    () => refuseS3Flags({ via: "url" }),
    RangeError,
    "--via works only with s3:// sources",
  );
});

Deno.test("the CLI refuses S3 flags on a folder on disk, and a bad bucket address", async () => {
  assertEquals(await main(["folder", "samples/images", "--via", "url", "--dry-run"]), 2);
  assertEquals(await main(["folder", "s3://x", "--dry-run"]), 2);
});
