/**
 * Shared bits of the local API tests: small content fixtures and a Connect client factory.
 */
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { V2 } from "../../../src/gen/clarifai/api/service_pb.ts";

/** The key the tests start the API with. */
export const KEY = "test-key";
/** The user and app every test writes to. */
export const UA = { userId: "me", appId: "demo" } as const;
/** Call options carrying the key. */
export const AUTH = { headers: { authorization: `Key ${KEY}` } } as const;

/** A small JPEG-looking payload of `size` bytes (magic bytes, then filler). */
export function jpeg(size = 64, fill = 0): Uint8Array {
  const bytes = new Uint8Array(size).fill(fill);
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return bytes;
}

/** A small PNG-looking payload. */
export function png(size = 64): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  return bytes;
}

/** A small MP4-looking payload. */
export function mp4(size = 64): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(new TextEncoder().encode("\0\0\0\x18ftypisom"), 0);
  return bytes;
}

/**
 * A Connect (JSON over HTTP/1.1) client for the V2 service.
 *
 * @param baseUrl The API's base URL.
 * @param transport Another transport to use instead.
 * @returns The client.
 */
export function v2Client(baseUrl: string, transport?: Transport): Client<typeof V2> {
  return createClient(V2, transport ?? createConnectTransport({ baseUrl }));
}
