/**
 * A real S3 server for tests: s3rver (test-only, from npm) on 127.0.0.1, its data in a temporary
 * folder, with buckets the test makes and a signed PUT for test objects.
 *
 * @module
 */
// Test-only: s3rver is never in the import map.
// deno-lint-ignore no-import-prefix
import S3rver from "npm:s3rver@3.7.1";
import nodeCrypto from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Client, type S3ClientOptions } from "../../../src/sources/s3/s3_client.ts";
import { signV4 } from "../../../src/sources/s3/sig_v4.ts";
import { Secret } from "../../../src/clarifai/secret.ts";

/** s3rver's built-in credentials. */
export const S3RVER_KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** A running s3rver. */
export interface TestS3 {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** A client with s3rver's credentials. */
  client(options?: Partial<S3ClientOptions>): S3Client;
  /** Makes a bucket. */
  createBucket(name: string): Promise<void>;
  /** Puts an object. */
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  /** Deletes an object. */
  remove(bucket: string, key: string): Promise<void>;
  /** Stops the server and removes its data. */
  close(): Promise<void>;
}

const CREDENTIALS = {
  accessKeyId: S3RVER_KEYS.accessKeyId,
  secretAccessKey: new Secret(S3RVER_KEYS.secretAccessKey),
  region: "us-east-1",
};

/**
 * s3rver makes its ListObjectsV2 continuation tokens with the DES cipher, which Deno's
 * `node:crypto` does not have (nor Node's OpenSSL 3 without its legacy provider), so paging
 * fails with "Unknown cipher". The token only needs to come back as it went: for "des" alone,
 * this test server gets a pass-through cipher; every other algorithm is untouched.
 */
function letS3rverPage(): void {
  const crypto = nodeCrypto as unknown as Record<string, unknown> & { __s3rverPatched?: boolean };
  if (crypto.__s3rverPatched) return;
  const passThrough = () => ({
    update: (data: string | Uint8Array, encoding?: string) =>
      typeof data === "string" ? Buffer.from(data, encoding as BufferEncoding) : Buffer.from(data),
    final: () => Buffer.alloc(0),
  });
  for (const name of ["createCipheriv", "createDecipheriv"]) {
    const original = crypto[name] as (...args: unknown[]) => unknown;
    crypto[name] = (algorithm: unknown, ...rest: unknown[]) =>
      algorithm === "des" ? passThrough() : original.call(nodeCrypto, algorithm, ...rest);
  }
  crypto.__s3rverPatched = true;
}

/** Starts s3rver on a free loopback port. */
export async function startS3rver(): Promise<TestS3> {
  letS3rverPage();
  const directory = await Deno.makeTempDir({ prefix: "upflow-s3rver-" });
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const send = async (method: string, path: string, body?: Uint8Array | string) => {
    const url = new URL(`${endpoint}${path}`);
    const headers = await signV4(
      { method, url, payloadHash: "UNSIGNED-PAYLOAD" },
      CREDENTIALS,
    );
    const response = await fetch(url, { method, headers, body: body as BodyInit | undefined });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  };
  const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");
  return {
    endpoint,
    client: (options = {}) => new S3Client({ endpoint, ...S3RVER_KEYS, ...options }),
    createBucket: (name) => send("PUT", `/${name}`),
    put: (bucket, key, body) => send("PUT", `/${bucket}/${encodeKey(key)}`, body),
    remove: (bucket, key) => send("DELETE", `/${bucket}/${encodeKey(key)}`),
    async close() {
      await server.close();
      await Deno.remove(directory, { recursive: true }).catch(() => {});
    },
  };
}
