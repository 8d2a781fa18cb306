import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { yoloLayout, yoloSource } from "../../src/sources/yolo_source.ts";
import type { DraftOrRejection } from "../../src/inputs/input_draft.ts";
import { pngBytes } from "./_png.ts";

const root = new URL("../fixtures/yolo", import.meta.url).pathname;

function summary(items: DraftOrRejection[]): string[] {
  return items.map((item) =>
    item.type === "draft"
      ? `draft ${item.draft.id} @ ${item.draft.location}: ${
        JSON.stringify(item.draft.regions ?? [])
      }`
      : item.type === "rejected"
      ? `rejected ${item.rejection.location}: ${item.rejection.reason}`
      : `skipped ${item.skip.location}: ${item.skip.reason}`
  );
}

Deno.test({
  name: "yoloSource reads the fixture: data.yaml map names, boxes, polygons, bad lines",
  permissions: { read: true },
  fn: async () => {
    const items = await Array.fromAsync(yoloSource(root));
    const box = (left: number, top: number, right: number, bottom: number) =>
      JSON.stringify({ left, top, right, bottom });
    assertEquals(summary(items), [
      `draft 01 @ images/01.png: [{"concepts":["cat"],"box":${
        box(0, 0, 1, 1)
      }},{"concepts":["golden retriever"],"box":${box(0, 0, 0.5, 0.5)}}]`,
      `draft 02 @ images/02.jpg: [{"concepts":["猫 ünïcode ✓"],"polygon":[{"row":0.1,"col":0.1},{"row":0.1,"col":0.9},{"row":0.9,"col":0.5}]},{"concepts":["golden retriever"],"box":${
        box(0.75, 0, 1, 1)
      }}]`,
      "draft 03 @ images/03.png: []",
      "draft 04 @ images/04.png: []",
      "rejected labels/05.txt:1: class 7 is not in data.yaml (classes 0 to 2)",
      "rejected labels/05.txt:2: 3 values after the class: expected 4 (cx cy w h) for a box or an even count of at least 6 (x1 y1 x2 y2 x3 y3 …) for a polygon",
      "rejected labels/05.txt:3: box has zero width: left 0.5 and right 0.5 must differ, left < right",
      'rejected labels/05.txt:5: class "x" is not a class number (0, 1, …)',
      "rejected labels/05.txt:6: box right 1.05 is outside [0, 1]",
      `draft 05 @ images/05.png: [{"concepts":["cat"],"box":${
        box(0.3 - 0.1, 0.3 - 0.1, 0.3 + 0.1, 0.3 + 0.1)
      }}]`,
    ]);
    const clamped: string[] = [];
    const again = await Array.fromAsync(
      yoloSource(root, { clampBoxes: true, onClamped: (l) => clamped.push(l), datasetId: "d" }),
    );
    assertEquals(clamped, ["labels/05.txt:6"]);
    const last = again.at(-1);
    assert(last?.type === "draft");
    assertEquals(last.draft.datasetId, "d");
    assertEquals(last.draft.regions?.[1].box, { left: 0.85, top: 0.4, right: 1, bottom: 0.6 });
  },
});

async function dataset(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, content] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }
  return dir;
}

Deno.test({
  name: "yoloSource layouts: splits, classes.txt, nested folders, names given",
  permissions: { read: true, write: true },
  fn: async (t) => {
    await t.step("train/valid splits with classes.txt in a labels folder", async () => {
      const dir = await dataset({
        "train/images/a.png": pngBytes(4, 4),
        "train/images/notes.txt": "not an image",
        "train/labels/a.txt": "0 0.5 0.5 0.5 0.5\n",
        "train/labels/classes.txt": "person\ncar\n\n",
        "valid/images/sub/b.png": pngBytes(4, 4),
        "valid/labels/sub/b.txt": "1 0.5 0.5 1 1",
        "README.md": "# dataset",
      });
      const layout = await yoloLayout(dir);
      assertEquals(layout.namesFrom, "train/labels/classes.txt");
      const items = await Array.fromAsync(yoloSource(dir, { idFrom: "path" }));
      assertEquals(summary(items), [
        'draft a @ train/images/a.png: [{"concepts":["person"],"box":{"left":0.25,"top":0.25,"right":0.75,"bottom":0.75}}]',
        "skipped train/images/notes.txt: text file: inputTypes is image",
        'draft sub_b @ valid/images/sub/b.png: [{"concepts":["car"],"box":{"left":0,"top":0,"right":1,"bottom":1}}]',
      ]);
      await Deno.remove(dir, { recursive: true });
    });
    await t.step("names given in options win over files", async () => {
      const dir = await dataset({
        "images/a.png": pngBytes(2, 2),
        "labels/a.txt": "0 0.5 0.5 1 1\n",
        "classes.txt": "ignored\n",
      });
      const items = await Array.fromAsync(yoloSource(dir, { names: ["given"] }));
      assert(items[0].type === "draft");
      assertEquals(items[0].draft.regions?.[0].concepts, ["given"]);
      await Deno.remove(dir, { recursive: true });
    });
    await t.step("no names, no images folder, bad data.yaml", async () => {
      const noNames = await dataset({ "images/a.png": pngBytes(2, 2) });
      await assertRejects(
        () => Array.fromAsync(yoloSource(noNames)),
        Deno.errors.NotFound,
        "no class names (add data.yaml with names:, or classes.txt)",
      );
      const noImages = await dataset({ "data.yaml": "names: [a]" });
      await assertRejects(
        () => Array.fromAsync(yoloSource(noImages)),
        Deno.errors.NotFound,
        "no images folder",
      );
      const badYaml = await dataset({ "images/a.png": pngBytes(2, 2), "data.yaml": "names: [a\n" });
      await assertRejects(
        () => Array.fromAsync(yoloSource(badYaml)),
        SyntaxError,
        "data.yaml: Syntax error on line 1: names: [ is never closed with ]",
      );
      for (const dir of [noNames, noImages, badYaml]) await Deno.remove(dir, { recursive: true });
    });
    await t.step("options are checked", () => {
      assertThrows(
        () => yoloSource(root, { idFrom: "x" as "stem" }),
        RangeError,
        "Cannot create yoloSource: idFrom",
      );
      assertThrows(() => yoloSource(""), TypeError, "Cannot create yoloSource");
    });
  },
});
