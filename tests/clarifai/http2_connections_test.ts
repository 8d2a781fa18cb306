import { assert, assertEquals } from "@std/assert";
import * as http2 from "node:http2";
import * as net from "node:net";
import {
  createHttp2Connections,
  freeWrittenFrames,
  MAX_QUEUED_BYTES,
} from "../../src/clarifai/http2_connections.ts";

/** A TCP server whose connections read nothing until `resume` is called (unless `reading`). */
async function stalledServer(reading = false) {
  const sockets: net.Socket[] = [];
  let received = 0;
  const server = net.createServer((socket) => {
    if (!reading) socket.pause();
    socket.on("data", (chunk) => received += chunk.length);
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`),
    received: () => received,
    resume: () => sockets.forEach((s) => s.resume()),
    async close() {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

Deno.test("room waits while a connection's socket holds more than the limit, until it drains", async () => {
  const server = await stalledServer();
  const connections = createHttp2Connections();
  const socket = connections.createConnection(server.url) as net.Socket;
  await new Promise((resolve) => socket.once("connect", resolve));
  assertEquals(connections.room(), undefined);
  // More than the kernel's buffers take: the rest queues in the socket.
  const total = 64 * 1024 * 1024;
  for (let i = 0; i < 64; i++) socket.write(new Uint8Array(1024 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert(socket.writableLength > MAX_QUEUED_BYTES, `${socket.writableLength} queued`);
  const wait = connections.room();
  assert(wait instanceof Promise, "a writer waits");
  let done = false;
  wait.then(() => done = true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assertEquals(done, false, "no room while the peer reads nothing");
  server.resume();
  await wait;
  assert(socket.writableLength <= MAX_QUEUED_BYTES);
  await new Promise<void>((resolve) => {
    const check = () => server.received() >= total ? resolve() : setTimeout(check, 10);
    check();
  });
  socket.destroy();
  await server.close();
});

Deno.test("room lets a writer go once the connection is gone", async () => {
  const server = await stalledServer();
  const connections = createHttp2Connections();
  const socket = connections.createConnection(server.url) as net.Socket;
  await new Promise((resolve) => socket.once("connect", resolve));
  for (let i = 0; i < 64; i++) socket.write(new Uint8Array(1024 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const wait = connections.room();
  assert(wait instanceof Promise);
  socket.destroy();
  await wait;
  assertEquals(connections.room(), undefined, "a closed connection is no longer counted");
  await server.close();
});

Deno.test("frames written to a connection are freed once written; views of shared buffers are not", async () => {
  const server = await stalledServer(true);
  const socket = net.connect(Number(server.url.port), "127.0.0.1");
  freeWrittenFrames(socket);
  const frame = new Uint8Array(16_393).fill(1);
  const shared = new Uint8Array(100_000);
  const view = shared.subarray(1000, 60_000);
  const small = new Uint8Array(100);
  await new Promise((resolve) => socket.write(frame, resolve));
  await new Promise((resolve) => socket.write(view, "binary", resolve));
  await new Promise((resolve) => socket.write(small, resolve));
  assertEquals(frame.buffer.detached, true);
  assertEquals(shared.buffer.detached, false);
  assertEquals(small.buffer.detached, false, "small frames are left to the collector");
  await new Promise<void>((resolve) => {
    const check = () =>
      server.received() >= 16_393 + 59_000 + 100 ? resolve() : setTimeout(check, 10);
    check();
  });
  socket.destroy();
  await server.close();
});

Deno.test("an HTTP/2 request of 20 MB over a connection opened here arrives whole", async () => {
  const body = new Uint8Array(20_000_000);
  for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
  const server = http2.createServer(async (req, res) => {
    const hash = await crypto.subtle.digest(
      "SHA-256",
      await new Response(req as unknown as ReadableStream).arrayBuffer(),
    );
    res.end(new Uint8Array(hash).toString());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const connections = createHttp2Connections();
  const session = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, {
    createConnection: connections.createConnection,
  });
  const stream = session.request({ ":method": "POST", ":path": "/" });
  for (let at = 0; at < body.length; at += 1024 * 1024) {
    await connections.room();
    await new Promise((resolve) => stream.write(body.subarray(at, at + 1024 * 1024), resolve));
  }
  stream.end();
  let text = "";
  for await (const chunk of stream) text += new TextDecoder().decode(chunk);
  const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", body)).toString();
  assertEquals(text, expected);
  assertEquals(body.buffer.detached, false, "the caller's buffer is never touched");
  session.close();
  await new Promise((resolve) => server.close(resolve));
});
