import { assertEquals, assertThrows } from "@std/assert";
import { globToRegExp, PathFilter } from "../../src/sources/path_filter.ts";
import { countFolder, folderSource } from "../../src/sources/folder_source.ts";

Deno.test("globToRegExp matches as rclone does", async (t) => {
  const cases: [string, string, boolean][] = [
    ["*.jpg", "a.jpg", true],
    ["*.jpg", "cats/a.jpg", true],
    ["*.jpg", "a.jpeg", false],
    ["*.jpg", "a.jpg.txt", false],
    ["a.jpg", "cats/a.jpg", true],
    ["a.jpg", "cats/xa.jpg", false],
    ["/a.jpg", "cats/a.jpg", false],
    ["/a.jpg", "a.jpg", true],
    ["cats/*.jpg", "cats/a.jpg", true],
    ["cats/*.jpg", "pets/cats/a.jpg", true],
    ["cats/*.jpg", "bigcats/a.jpg", false],
    ["cats/*.jpg", "cats/kittens/a.jpg", false],
    ["cats/**", "cats/kittens/a.jpg", true],
    ["/cats/**", "pets/cats/a.jpg", false],
    ["cats/", "cats/kittens/a.jpg", true],
    ["?.png", "a.png", true],
    ["?.png", "ab.png", false],
    ["?.png", "x/b.png", true],
    ["*.{jpg,png}", "a.png", true],
    ["*.{jpg,png}", "a.gif", false],
    ["{cats,dogs}/*", "dogs/a.jpg", true],
    ["[a-c]*.jpg", "b1.jpg", true],
    ["[a-c]*.jpg", "d1.jpg", false],
    ["[!a-c]*.jpg", "d1.jpg", true],
    ["[!a-c]*.jpg", "b1.jpg", false],
    ["[[:digit:]]*.jpg", "1.jpg", true],
    ["[[:digit:]]*.jpg", "x.jpg", false],
    ["\\*.jpg", "*.jpg", true],
    ["\\*.jpg", "a.jpg", false],
    ["a+b (1).jpg", "a+b (1).jpg", true],
    ["**/x/*.txt", "a/b/x/c.txt", true],
  ];
  for (const [pattern, path, expected] of cases) {
    await t.step(`${pattern} ${expected ? "matches" : "does not match"} ${path}`, () => {
      assertEquals(globToRegExp(pattern).test(path), expected);
    });
  }
});

Deno.test("globToRegExp refuses broken patterns with the pattern in the message", () => {
  assertThrows(() => globToRegExp(""), SyntaxError, "empty");
  assertThrows(() => globToRegExp("[abc"), SyntaxError, '"[abc"');
  assertThrows(() => globToRegExp("{a,b"), SyntaxError, '"{" is not closed');
  assertThrows(() => globToRegExp("a\\"), SyntaxError, "ends with");
  assertThrows(() => globToRegExp("[[:nope:]]"), SyntaxError, "nope");
});

Deno.test("PathFilter: exclusions win, includes narrow, folders are pruned only when whole", () => {
  const filter = new PathFilter({ include: ["*.jpg", "*.png"], exclude: ["*_draft.*", "tmp/**"] });
  assertEquals(filter.check("a.jpg"), { keep: true });
  assertEquals(filter.check("cats/a_draft.jpg").keep, false);
  assertEquals(filter.check("notes.txt"), {
    keep: false,
    reason: 'matches no include pattern ("*.jpg", "*.png")',
  });
  assertEquals(filter.prunes("tmp"), 'excluded by pattern "tmp/**"');
  assertEquals(filter.prunes("a/tmp"), 'excluded by pattern "tmp/**"');
  assertEquals(filter.prunes("cats"), undefined);
  // "dir/*" leaves out the files of dir, not its subfolders: never a reason to prune.
  assertEquals(new PathFilter({ exclude: ["cats/*"] }).prunes("cats"), undefined);
  assertEquals(new PathFilter().empty, true);
  assertThrows(() => new PathFilter({ include: "*.jpg" as unknown as string[] }), TypeError);
});

Deno.test({
  name: "folderSource and countFolder apply include and exclude patterns",
  permissions: { read: true, write: true },
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      for (const dir of ["cats", "dogs", "cats/drafts"]) await Deno.mkdir(`${root}/${dir}`);
      for (const file of ["cats/a.jpg", "cats/b.png", "dogs/c.jpg", "cats/drafts/d.jpg", "e.txt"]) {
        await Deno.writeTextFile(`${root}/${file}`, "x");
      }
      const options = { recursive: true, include: ["*.jpg"], exclude: ["drafts/"] };
      const items = await Array.fromAsync(folderSource(root, options));
      assertEquals(
        items.map((i) =>
          i.type === "draft"
            ? `draft ${i.draft.location}`
            : i.type === "skipped"
            ? `skipped ${i.skip.location}: ${i.skip.reason}`
            : `rejected ${i.rejection.location}`
        ),
        [
          "draft cats/a.jpg",
          'skipped cats/b.png: matches no include pattern ("*.jpg")',
          'skipped cats/drafts: a folder excluded by pattern "drafts/"',
          "draft dogs/c.jpg",
          'skipped e.txt: matches no include pattern ("*.jpg")',
        ],
      );
      assertEquals(await countFolder(root, options), { files: 2, bytes: 2 });
      assertThrows(() => folderSource(root, { include: ["[x"] }), SyntaxError, "folderSource");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
