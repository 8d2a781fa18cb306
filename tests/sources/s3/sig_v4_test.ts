import { assertEquals, assertRejects } from "@std/assert";
import { EMPTY_SHA256, presignV4, signV4 } from "../../../src/sources/s3/sig_v4.ts";
import { Secret } from "../../../src/clarifai/secret.ts";

// The examples of the S3 documentation, "Signature Calculations for the Authorization Header"
// and "Query string authentication": examplebucket, 2013-05-24T00:00:00Z, us-east-1.
const CREDENTIALS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: new Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
  region: "us-east-1",
};
const NOW = new Date("2013-05-24T00:00:00Z");

function signatureOf(authorization: string): string {
  return authorization.split("Signature=")[1];
}

Deno.test("signV4 gives the documented signatures", async (t) => {
  await t.step("GET object with a Range header", async () => {
    const headers = await signV4(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
        headers: { Range: "bytes=0-9" },
      },
      CREDENTIALS,
      NOW,
    );
    assertEquals(
      signatureOf(headers.authorization),
      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    assertEquals(
      headers.authorization.split(", ")[1],
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date",
    );
    assertEquals(headers["x-amz-content-sha256"], EMPTY_SHA256);
  });
  await t.step("GET bucket (list objects): the query is sorted", async () => {
    const headers = await signV4(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2"),
      },
      CREDENTIALS,
      NOW,
    );
    assertEquals(
      signatureOf(headers.authorization),
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
  });
  await t.step("PUT object: the path is encoded, the payload hash signed", async () => {
    const headers = await signV4(
      {
        method: "PUT",
        url: new URL("https://examplebucket.s3.amazonaws.com/test$file.text"),
        headers: {
          Date: "Fri, 24 May 2013 00:00:00 GMT",
          "x-amz-storage-class": "REDUCED_REDUNDANCY",
        },
        payloadHash: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
      },
      CREDENTIALS,
      NOW,
    );
    assertEquals(
      signatureOf(headers.authorization),
      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
  });
  await t.step("a session token is sent and signed", async () => {
    const headers = await signV4(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      },
      { ...CREDENTIALS, sessionToken: new Secret("token/1+2") },
      NOW,
    );
    assertEquals(headers["x-amz-security-token"], "token/1+2");
    assertEquals(
      headers.authorization.split(", ")[1],
      "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
    );
  });
});

Deno.test("presignV4 gives the documented presigned URL", async () => {
  const url = await presignV4(
    "GET",
    new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
    CREDENTIALS,
    { expiresSeconds: 86400, now: NOW },
  );
  assertEquals(
    url.href,
    "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
      "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
      "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
  );
});

Deno.test("presignV4 refuses an expiry S3 would refuse", async () => {
  for (const expiresSeconds of [0, 604_801, 1.5]) {
    await assertRejects(
      () =>
        presignV4("GET", new URL("https://b.s3.amazonaws.com/k"), CREDENTIALS, { expiresSeconds }),
      RangeError,
      "expiresSeconds must be an integer from 1 to 604800",
    );
  }
});

Deno.test("the secret key never shows in what is signed or printed", async () => {
  const headers = await signV4(
    { method: "GET", url: new URL("https://examplebucket.s3.amazonaws.com/test.txt") },
    CREDENTIALS,
    NOW,
  );
  const url = await presignV4(
    "GET",
    new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
    CREDENTIALS,
    { expiresSeconds: 60, now: NOW },
  );
  const secret = CREDENTIALS.secretAccessKey.reveal();
  assertEquals(JSON.stringify(headers).includes(secret), false);
  assertEquals(url.href.includes(secret), false);
  assertEquals(Deno.inspect(CREDENTIALS).includes(secret), false);
});
