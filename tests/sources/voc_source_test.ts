import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { vocSource } from "../../src/sources/voc_source.ts";
import type { DraftOrRejection } from "../../src/inputs/input_draft.ts";

const root = new URL("../fixtures/voc", import.meta.url).pathname;

function summary(items: DraftOrRejection[]): string[] {
  return items.map((item) =>
    item.type === "draft"
      ? `draft ${item.draft.id} @ ${item.draft.location}: ${
        JSON.stringify(item.draft.regions ?? [])
      }`
      : item.type === "rejected"
      ? `rejected ${item.rejection.location}${
        item.rejection.id ? ` (${item.rejection.id})` : ""
      }: ${item.rejection.reason}`
      : `skipped ${item.skip.location}`
  );
}

Deno.test({
  name: "vocSource reads the fixture: sizes, parts, entities, CDATA, malformed XML",
  permissions: { read: true },
  fn: async () => {
    const items = await Array.fromAsync(vocSource(root));
    assertEquals(summary(items), [
      'draft 01 @ JPEGImages/01.jpg: [{"concepts":["person"],"box":{"left":0,"top":0,"right":1,"bottom":0.5}},' +
      `{"concepts":["golden retriever"],"box":{"left":0.25,"top":${
        12.5 / 24
      },"right":0.75,"bottom":1}}]`,
      'rejected Annotations/02.xml:8: object 2 ("cat"): box right 1.09375 is outside [0, 1]',
      // <size> of 0×0: the size comes from the PNG header (64×48)
      'draft 02 @ JPEGImages/02.png: [{"concepts":["猫 & ünïcode"],"box":{"left":0.25,"top":0.25,"right":0.75,"bottom":0.75}}]',
      "draft 03 @ JPEGImages/03.jpg: []",
      "rejected Annotations/04.xml (04): malformed XML: Syntax error on line 4: </annotation> closes <object> opened on line 2",
      'rejected Annotations/05.xml:3: object 1 ("cat"): no <bndbox> (only boxes are read)',
      'draft 05 @ JPEGImages/05.png: [{"concepts":["cat"],"box":{"left":0,"top":0,"right":1,"bottom":1}}]',
    ]);
  },
});

Deno.test({
  name: "vocSource: whole-image refusals, clamping, custom folders",
  permissions: { read: true, write: true },
  fn: async (t) => {
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(`${dir}/imgs`);
    await Deno.mkdir(`${dir}/xml`);
    const xml = (body: string) => `<annotation>${body}</annotation>`;
    const object = (name: string, box: string) =>
      `<object><name>${name}</name><bndbox>${box}</bndbox></object>`;
    const files: Record<string, string> = {
      a: xml(
        `<size><width>10</width><height>10</height></size>${
          object("cat", "<xmin>-2</xmin><ymin>0</ymin><xmax>5</xmax><ymax>10</ymax>")
        }`,
      ),
      b: `<root>${object("cat", "")}</root>`,
      c: xml(object("cat", "<xmin>0</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax>")),
      d: xml(
        `<size><width>10</width><height>10</height></size>${object("", "<xmin>0</xmin>")}${
          object("dog", "<xmin>a</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax>")
        }`,
      ),
    };
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/xml/${name}.xml`, text);
      await Deno.writeFile(`${dir}/imgs/${name}.jpg`, new Uint8Array([1, 2, 3]));
    }
    await t.step("refusals", async () => {
      const items = await Array.fromAsync(
        vocSource(dir, { imagesDir: `${dir}/imgs`, annotationsDir: `${dir}/xml` }),
      );
      assertEquals(summary(items), [
        'rejected xml/a.xml:1: object 1 ("cat"): box left -0.2 is outside [0, 1]',
        "draft a @ imgs/a.jpg: []",
        "rejected xml/b.xml (b): the root element is <root>, not <annotation>",
        "rejected xml/c.xml (c): no <size> with a positive <width> and <height>, and the image's size cannot be read from the file",
        "rejected xml/d.xml:1: object 1: no <name>",
        'rejected xml/d.xml:1: object 2 ("dog"): <xmin> is not a number: got "a"',
        "draft d @ imgs/d.jpg: []",
      ]);
    });
    await t.step("clamping", async () => {
      const clamped: string[] = [];
      const items = await Array.fromAsync(
        vocSource(dir, {
          imagesDir: `${dir}/imgs`,
          annotationsDir: `${dir}/xml`,
          clampBoxes: true,
          onClamped: (l) => clamped.push(l),
        }),
      );
      assertEquals(clamped, ["xml/a.xml:1"]);
      assertEquals(
        summary(items)[0],
        'draft a @ imgs/a.jpg: [{"concepts":["cat"],"box":{"left":0,"top":0,"right":0.5,"bottom":1}}]',
      );
    });
    await t.step("no images folder", async () => {
      await assertRejects(() => Array.fromAsync(vocSource(`${dir}/xml`)), Deno.errors.NotFound);
    });
    await t.step("options are checked", () => {
      assertThrows(
        () => vocSource(dir, { datasetId: "a b" }),
        RangeError,
        "Cannot create vocSource",
      );
    });
    await Deno.remove(dir, { recursive: true });
  },
});
