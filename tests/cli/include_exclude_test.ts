import { assertEquals, assertStringIncludes } from "@std/assert";
import { baseEnv, upflow, withTempDir } from "./_upflow.ts";

const PERMISSIONS = { read: true, write: true, run: true, env: true } as const;

Deno.test({
  name: "upflow folder --include/--exclude: rclone-style patterns on paths relative to the folder",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir(async (dir) => {
      const root = `${dir}/photos`;
      for (const d of ["cats", "dogs", "cats/drafts"]) {
        await Deno.mkdir(`${root}/${d}`, { recursive: true });
      }
      for (const f of ["cats/a.jpg", "cats/b.png", "dogs/c.jpg", "cats/drafts/d.jpg", "top.jpg"]) {
        await Deno.writeTextFile(`${root}/${f}`, "x");
      }
      const env = baseEnv(dir);
      const run = await upflow([
        "folder",
        root,
        "--recursive",
        "--dry-run",
        "--json",
        "--journal",
        `${dir}/j.ndjson`,
        "--include",
        "*.jpg",
        "--exclude",
        "drafts/",
        "--exclude",
        "/top.jpg",
      ], env);
      assertEquals(run.code, 0, run.stderr);
      const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const sent = events.filter((e) => e.type === "batch").flatMap((e) => e.ids).sort();
      assertEquals(sent, ["a", "c"]);
      const skipped = Object.fromEntries(
        events.filter((e) => e.type === "skipped").map((e) => [e.location, e.reason]),
      );
      assertEquals(skipped, {
        "cats/b.png": 'matches no include pattern ("*.jpg")',
        "cats/drafts": 'a folder excluded by pattern "drafts/"',
        "top.jpg": 'excluded by pattern "/top.jpg"',
      });
      // The summary says why each was skipped.
      const text = await upflow([
        "folder",
        root,
        "--recursive",
        "--dry-run",
        "--journal",
        `${dir}/j2.ndjson`,
        "--include",
        "*.jpg",
        "--exclude",
        "drafts/",
      ], env);
      assertStringIncludes(text.stdout, 'matches no include pattern ("*.jpg") (cats/b.png)');
      const bad = await upflow(["folder", root, "--include", "[abc", "--dry-run"], env);
      assertEquals(bad.code, 2);
      assertStringIncludes(bad.stderr, 'Invalid pattern "[abc": "[" is not closed');
    });
  },
});
