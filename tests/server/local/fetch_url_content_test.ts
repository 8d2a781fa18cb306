import { assertEquals } from "@std/assert";
import { checkUrlContent } from "../../../server/local/fetch_url_content.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

Deno.test("checkUrlContent fetches URLs as Clarifai would and says what failed", async (t) => {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    switch (path) {
      case "/cat.png":
        return new Response(PNG);
      case "/notes.txt":
        return new Response("hello");
      case "/latin1.txt":
        return new Response(new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
      case "/fake.jpg":
        return new Response("<html>not an image</html>");
      case "/empty.png":
        return new Response(new Uint8Array(0));
      case "/moved.png":
        return Response.redirect(new URL("/cat.png", request.url), 302);
      case "/huge.png": {
        let sent = 0;
        return new Response(
          new ReadableStream({
            pull(controller) {
              const chunk = new Uint8Array(1024 * 1024);
              if (sent === 0) chunk.set(PNG);
              controller.enqueue(chunk);
              if (++sent === 21) controller.close();
            },
          }),
        );
      }
      default:
        return new Response("no", { status: 404, statusText: "Not Found" });
    }
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const failed = (details: string) => ({ ok: false, code: StatusCode.INPUT_FAILED, details });
  try {
    const cases: [string, string, "image" | "text" | "video", unknown][] = [
      ["an image", "/cat.png", "image", { ok: true, bytes: PNG.length }],
      ["a redirect", "/moved.png", "image", { ok: true, bytes: PNG.length }],
      ["text", "/notes.txt", "text", { ok: true, bytes: 5 }],
      [
        "text that is not UTF-8",
        "/latin1.txt",
        "text",
        failed(`${base}/latin1.txt: text is not valid UTF-8`),
      ],
      [
        "not the kind it claims",
        "/fake.jpg",
        "image",
        failed(
          `${base}/fake.jpg: content is not a supported image format (JPEG, PNG, GIF, WEBP, BMP, TIFF)`,
        ),
      ],
      [
        "an image sent as a video",
        "/cat.png",
        "video",
        failed(`${base}/cat.png: content is a png image, not a video`),
      ],
      ["empty", "/empty.png", "image", failed(`${base}/empty.png is empty`)],
      [
        "missing",
        "/gone.png?X-Amz-Signature=abc",
        "image",
        failed(`could not fetch ${base}/gone.png: HTTP 404 Not Found`),
      ],
      [
        "too large",
        "/huge.png",
        "image",
        failed(`${base}/huge.png is larger than the 20 MB Clarifai takes for an image`),
      ],
    ];
    for (const [name, path, kind, expected] of cases) {
      await t.step(name, async () => {
        assertEquals(await checkUrlContent(`${base}${path}`, kind), expected);
      });
    }
    await t.step("nobody listening", async () => {
      const outcome = await checkUrlContent("http://127.0.0.1:9/a.png", "image");
      assertEquals(outcome.ok, false);
      assertEquals(
        outcome.ok === false &&
          outcome.details.startsWith("could not fetch http://127.0.0.1:9/a.png: "),
        true,
      );
    });
  } finally {
    await server.shutdown();
  }
});
