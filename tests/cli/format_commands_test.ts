import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { cocoCommand, vocCommand, yoloCommand } from "../../src/cli/format_commands.ts";
import { UsageError } from "../../src/cli/upload_command.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;
const module = new URL("../../src/cli/format_commands.ts", import.meta.url).href;

async function run(command: string, args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { ${command} } from "${module}"; Deno.exit(await ${command}(Deno.args));`,
      "--",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test({
  name: "coco --dry-run prints the counts, then the dry run, and exits 1 for rejections",
  permissions: { read: true, write: true, run: true },
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const { code, stdout, stderr } = await run("cocoCommand", [
      `${fixtures}coco/instances.json`,
      "--images",
      `${fixtures}coco/images`,
      "--dry-run",
      "--journal",
      `${dir}/j.ndjson`,
    ]);
    assertEquals(code, 1, stderr);
    assertStringIncludes(stdout, "images      5 (1 without regions)");
    assertStringIncludes(stdout, "boxes       5");
    assertStringIncludes(stdout, "polygons    3");
    assertStringIncludes(stdout, "concepts    3: cat 3, 猫 ünïcode ✓ 3, golden retriever 2");
    assertStringIncludes(stdout, "would upload  5");
    assertStringIncludes(
      stderr,
      "rejected instances.json:annotation 14: iscrowd=1: RLE segmentation",
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "yolo --dry-run --json writes the counts as JSON on stderr; a broken file exits 3",
  permissions: { read: true, write: true, run: true },
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const yolo = await run("yoloCommand", [
      `${fixtures}yolo`,
      "--dry-run",
      "--json",
      "--clamp-boxes",
      "--journal",
      `${dir}/j.ndjson`,
    ]);
    const counts = JSON.parse(yolo.stderr.split("\n")[0]);
    assertEquals(
      [counts.type, counts.images, counts.boxes, counts.polygons, counts.clamped, counts.rejected],
      ["counts", 5, 5, 1, 1, 4],
    );
    const last = JSON.parse(yolo.stdout.trim().split("\n").at(-1)!);
    assertEquals([last.type, last.summary.uploaded], ["done", 5]);

    await Deno.writeTextFile(`${dir}/bad.json`, '{"images": [}');
    const coco = await run("cocoCommand", [`${dir}/bad.json`, "--dry-run"]);
    assertEquals(coco.code, 3);
    assertStringIncludes(coco.stderr, "upflow coco: bad.json: Syntax error on line 1");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "format commands refuse bad usage",
  permissions: { read: true },
  fn: async (t) => {
    const cases: [string, () => Promise<number>, string][] = [
      ["coco without a file", () => cocoCommand([]), "coco takes one FILE"],
      [
        "coco missing file",
        () => cocoCommand(["/nonexistent.json"]),
        "no file at /nonexistent.json",
      ],
      [
        "coco bad shapes",
        () => cocoCommand([`${fixtures}coco/instances.json`, "--shapes", "masks"]),
        '--shapes must be boxes, polygons or both: got "masks"',
      ],
      ["yolo on a file", () => yoloCommand([`${fixtures}yolo/data.yaml`]), "is not a folder"],
      [
        "voc bad id-from",
        () => vocCommand([`${fixtures}voc`, "--id-from", "x"]),
        "--id-from must be stem or path",
      ],
      [
        "unknown flag",
        () => vocCommand([`${fixtures}voc`, "--shapes", "boxes"]),
        "unknown option --shapes",
      ],
    ];
    for (const [name, fn, message] of cases) {
      await t.step(name, async () => {
        await assertRejects(fn, UsageError, message);
      });
    }
  },
});
