/**
 * Paths confined to the service's root: {@linkcode resolveUnderRoot} turns a path a request
 * names into a real path inside the root, or refuses it.
 *
 * @module
 */
import { isAbsolute, join, sep as SEPARATOR } from "node:path";
import { ApiError } from "./api_error.ts";

/**
 * Whether `path` is `root` or inside it (both real, absolute paths).
 *
 * @param root The real root.
 * @param path A real path.
 * @returns `true` when `path` is inside `root`.
 *
 * @example Usage
 * ```ts
 * import { isInsideRoot } from "./root_path.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isInsideRoot("/data", "/data/a/b.csv"), true);
 * assertEquals(isInsideRoot("/data", "/data2/b.csv"), false);
 * ```
 */
export function isInsideRoot(root: string, path: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(SEPARATOR) ? root : root + SEPARATOR;
  return path.startsWith(prefix);
}

/**
 * Resolves a relative path a request names against the service's root, refusing (400
 * `path_outside_root`) anything that could leave it: absolute paths (`/etc`, `C:\x`, `\\host`),
 * `..` segments (also percent-encoded, `%2e%2e`, or with `\`), NUL bytes; then the path's real
 * path (symlinks followed) must still be inside the root. A path that does not exist is a 404
 * `path_not_found`.
 *
 * @param root The root's real path (from `Deno.realPath`).
 * @param relative The path from the request.
 * @returns The real path inside the root.
 * @throws {ApiError} 400 when the path is refused, 404 when it does not exist.
 *
 * @example Refuse a traversal
 * ```ts
 * import { resolveUnderRoot } from "./root_path.ts";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.csv`, "inputid,input\n");
 * assertEquals(await resolveUnderRoot(root, "a.csv"), `${root}/a.csv`);
 * await assertRejects(() => resolveUnderRoot(root, "../etc/passwd"));
 * await assertRejects(() => resolveUnderRoot(root, "%2e%2e/etc/passwd"));
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function resolveUnderRoot(root: string, relative: string): Promise<string> {
  const refuse = (why: string) =>
    new ApiError(400, "path_outside_root", `Path refused: ${why}; name a path under the root`);
  if (typeof relative !== "string" || relative.trim() === "") {
    throw new ApiError(400, "bad_request", "The path must be a non-empty string");
  }
  let decoded = relative;
  try {
    for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(decoded); i++) {
      decoded = decodeURIComponent(decoded);
    }
  } catch {
    throw refuse("it holds a malformed percent-encoding");
  }
  for (const candidate of [relative, decoded]) {
    if (candidate.includes("\0")) throw refuse("it holds a NUL byte");
    if (isAbsolute(candidate) || /^[A-Za-z]:/.test(candidate) || /^[/\\]/.test(candidate)) {
      throw refuse("absolute paths are not allowed");
    }
    if (candidate.split(/[/\\]+/).some((segment) => segment === "..")) {
      throw refuse('".." is not allowed');
    }
  }
  let real: string;
  try {
    real = await Deno.realPath(join(root, relative));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ApiError(
        404,
        "path_not_found",
        `No such file or folder under the root: ${relative}`,
      );
    }
    if (err instanceof Deno.errors.FilesystemLoop) throw refuse("it is a symlink loop");
    throw new ApiError(400, "bad_path", `Cannot resolve ${relative}: ${(err as Error).name}`);
  }
  if (!isInsideRoot(root, real)) throw refuse("it resolves (through a symlink) outside the root");
  return real;
}
