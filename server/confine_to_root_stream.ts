/**
 * {@linkcode ConfineToRootStream}: the service's last guard on file paths inside a source
 * (a folder walk following symlinks, a CSV of file paths): every file draft must resolve inside
 * the root, or it becomes a rejection.
 *
 * @module
 */
import type { DraftOrRejection } from "../src/inputs/input_draft.ts";
import { isInsideRoot } from "./root_path.ts";

/**
 * A `TransformStream` over drafts that resolves each file draft's path with `Deno.realPath`
 * (following symlinks) and passes it on with the real path when it is inside `root`; a draft
 * whose file resolves outside the root (or not at all) becomes a rejection with its location,
 * without naming where the link points. Other drafts, rejections and skips pass unchanged.
 *
 * @example A symlink out of the root is rejected
 * ```ts
 * import { ConfineToRootStream } from "./confine_to_root_stream.ts";
 * import type { DraftOrRejection } from "../src/inputs/input_draft.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * const outside = await Deno.makeTempFile({ suffix: ".txt" });
 * await Deno.symlink(outside, `${root}/link.txt`);
 * const items: DraftOrRejection[] = [{
 *   type: "draft",
 *   draft: { id: "l", kind: "text", content: { type: "file", path: `${root}/link.txt` }, location: "link.txt", concepts: [] },
 * }];
 * const out = await Array.fromAsync(ReadableStream.from(items).pipeThrough(new ConfineToRootStream(root)));
 * assertEquals(out[0].type, "rejected");
 * await Deno.remove(root, { recursive: true });
 * await Deno.remove(outside);
 * ```
 */
export class ConfineToRootStream extends TransformStream<DraftOrRejection, DraftOrRejection> {
  /**
   * Creates the stream.
   *
   * @param roots The root's real path, or several: a file inside any of them passes.
   * @throws {TypeError} When a root is not an absolute path.
   */
  constructor(roots: string | readonly string[]) {
    const all = typeof roots === "string" ? [roots] : [...roots];
    for (const root of all) {
      if (typeof root !== "string" || !root.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(root)) {
        throw new TypeError(
          `Cannot create ConfineToRootStream: roots must be absolute paths: current value is ${
            JSON.stringify(root)
          }`,
        );
      }
    }
    super({
      async transform(item, controller) {
        if (item.type !== "draft" || item.draft.content.type !== "file") {
          controller.enqueue(item);
          return;
        }
        const { draft } = item;
        const content = item.draft.content;
        let real: string | undefined;
        try {
          real = await Deno.realPath(content.path);
        } catch {
          real = undefined;
        }
        if (real === undefined || !all.some((root) => isInsideRoot(root, real))) {
          controller.enqueue({
            type: "rejected",
            rejection: {
              location: draft.location,
              id: draft.id,
              reason: real === undefined
                ? "the file cannot be resolved (missing or a broken link)"
                : "the file is outside the server's root (a symlink or path escaping it)",
            },
          });
          return;
        }
        controller.enqueue({
          type: "draft",
          draft: { ...draft, content: { ...content, path: real } },
        });
      },
    });
  }
}
