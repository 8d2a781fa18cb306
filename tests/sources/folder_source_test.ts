import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { dirname } from "node:path";
import { countFolder, folderSource } from "../../src/sources/folder_source.ts";
import type { FolderSourceOptions } from "../../src/sources/folder_source.ts";
import { UniqueIdsStream } from "../../src/inputs/unique_ids_stream.ts";
import type { DraftOrRejection } from "../../src/inputs/input_draft.ts";

const RW = { read: true, write: true } as const;

/**
 * Builds a fixture tree under a fresh temp dir, in a folder named `name` (so labels of root
 * files are predictable). Keys ending in "/" are folders; other values are file contents.
 */
async function makeTree(
  files: Record<string, string>,
  name = "photos",
): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const temp = await Deno.makeTempDir({ prefix: "upflow_folder_" });
  const root = `${temp}/${name}`;
  await Deno.mkdir(root);
  for (const [rel, content] of Object.entries(files)) {
    const path = `${root}/${rel}`;
    if (rel.endsWith("/")) {
      await Deno.mkdir(path, { recursive: true });
      continue;
    }
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, content);
  }
  return { root, cleanup: () => Deno.remove(temp, { recursive: true }) };
}

/** One readable line per item, so expectations read like the walk. */
function line(item: DraftOrRejection): string {
  switch (item.type) {
    case "draft": {
      const { location, id, kind, concepts } = item.draft;
      return `draft ${location} id=${id} ${kind}${
        concepts.length > 0 ? ` [${concepts.join("|")}]` : ""
      }`;
    }
    case "rejected":
      return `rejected ${item.rejection.location}: ${item.rejection.reason}`;
    case "skipped":
      return `skipped ${item.skip.location}: ${item.skip.reason}`;
  }
}

async function walkLines(root: string, options?: FolderSourceOptions): Promise<string[]> {
  return (await Array.fromAsync(folderSource(root, options))).map(line);
}

const MIXED = {
  "b.jpg": "bb",
  "a.txt": "hello",
  "Z.PNG": "z",
  "notes.md": "# notes",
  "README": "readme",
  ".hidden.jpg": "h",
  ".git/config": "[core]",
  "cats/01.jpg": "1",
  "cats/02.Jpeg": "22",
  "cats/kittens/k1.gif": "333",
  "dogs/d.mp4": "4444",
  "dogs/s.WAV": "55555",
  "empty/": "",
};

const HIDDEN = 'hidden (the name starts with ".")';
const NOT_INPUT = "not an image, text, video or audio extension";
const FOLDER = "a folder: subfolders are walked only with recursive on";

Deno.test("folderSource() validates its options", async (t) => {
  const cases: [string, FolderSourceOptions, ErrorConstructor, string][] = [
    [
      "idFrom",
      { idFrom: "name" as "stem" },
      RangeError,
      'Cannot create folderSource: idFrom must be "stem" or "path": current value is "name"',
    ],
    [
      "recursive",
      { recursive: "yes" as unknown as boolean },
      TypeError,
      'Cannot create folderSource: recursive must be a boolean: current value is "yes"',
    ],
    [
      "inputTypes empty",
      { inputTypes: [] },
      RangeError,
      "Cannot create folderSource: inputTypes must be a non-empty array of image, video, audio, text: current value is []",
    ],
    [
      "inputTypes unknown",
      { inputTypes: ["photo" as "image"] },
      RangeError,
      'Cannot create folderSource: inputTypes may hold only image, video, audio, text: current value holds "photo"',
    ],
    [
      "datasetId",
      { datasetId: "my dataset" },
      RangeError,
      'Cannot create folderSource: invalid dataset ID "my dataset": use letters, digits, "_" and "-", starting with a letter or digit',
    ],
  ];
  for (const [name, options, ErrorClass, message] of cases) {
    await t.step(name, () => {
      assertThrows(() => folderSource("/nowhere", options), ErrorClass, message);
    });
  }
  await t.step("countFolder validates too", async () => {
    await assertRejects(
      () => countFolder("/nowhere", { idFrom: "x" as "path" }),
      RangeError,
      'Cannot create countFolder: idFrom must be "stem" or "path"',
    );
  });
});

Deno.test({
  name: "folderSource() errors when the root cannot be walked",
  permissions: RW,
  async fn() {
    const { root, cleanup } = await makeTree({ "file.jpg": "x" });
    try {
      await assertRejects(
        () => Array.fromAsync(folderSource(`${root}/missing`)),
        Deno.errors.NotFound,
        `Cannot walk folder "${root}/missing": it does not exist`,
      );
      await assertRejects(
        () => Array.fromAsync(folderSource(`${root}/file.jpg`)),
        Deno.errors.NotADirectory,
        "it is not a folder",
      );
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() walks one folder or, with recursive, the whole tree in name order",
  permissions: RW,
  async fn(t) {
    const { root, cleanup } = await makeTree(MIXED);
    try {
      await t.step("recursive off (default): subfolders are skipped, not walked", async () => {
        assertEquals(await walkLines(root), [
          `skipped .git: ${HIDDEN}`,
          `skipped .hidden.jpg: ${HIDDEN}`,
          `skipped README: no extension: ${NOT_INPUT}`,
          "draft Z.PNG id=z image",
          "draft a.txt id=a text",
          "draft b.jpg id=b image",
          `skipped cats: ${FOLDER}`,
          `skipped dogs: ${FOLDER}`,
          `skipped empty: ${FOLDER}`,
          `skipped notes.md: extension ".md" is ${NOT_INPUT}`,
        ]);
      });
      const recursive = [
        `skipped .git: ${HIDDEN}`,
        `skipped .hidden.jpg: ${HIDDEN}`,
        `skipped README: no extension: ${NOT_INPUT}`,
        "draft Z.PNG id=z image",
        "draft a.txt id=a text",
        "draft b.jpg id=b image",
        "draft cats/01.jpg id=01 image",
        "draft cats/02.Jpeg id=02 image",
        "draft cats/kittens/k1.gif id=k1 image",
        "draft dogs/d.mp4 id=d video",
        "draft dogs/s.WAV id=s audio",
        `skipped notes.md: extension ".md" is ${NOT_INPUT}`,
      ];
      await t.step("recursive on: depth-first, each folder sorted by name", async () => {
        assertEquals(await walkLines(root, { recursive: true }), recursive);
      });
      await t.step("the order is the same on every run", async () => {
        assertEquals(await walkLines(root, { recursive: true }), recursive);
      });
      await t.step("sort off: the same items, in the file system's order", async () => {
        const unsorted = await walkLines(root, { recursive: true, sort: false });
        assertEquals([...unsorted].sort(), [...recursive].sort());
      });
      await t.step("drafts point at the file and carry its size, unread", async () => {
        const items = await Array.fromAsync(folderSource(root, { recursive: true }));
        const wav = items.find((i) => i.type === "draft" && i.draft.location === "dogs/s.WAV");
        assertEquals(wav, {
          type: "draft",
          draft: {
            id: "s",
            kind: "audio",
            content: { type: "file", path: `${root}/dogs/s.WAV`, size: 5 },
            location: "dogs/s.WAV",
            concepts: [],
          },
        });
      });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() tells kinds by extension, case-insensitively",
  permissions: RW,
  async fn(t) {
    const table: [string, string | undefined][] = [
      ["jpg", "image"],
      ["JPEG", "image"],
      ["png", "image"],
      ["Tiff", "image"],
      ["TIF", "image"],
      ["webp", "image"],
      ["bmp", "image"],
      ["GIF", "image"],
      ["txt", "text"],
      ["TXT", "text"],
      ["mp4", "video"],
      ["MOV", "video"],
      ["avi", "video"],
      ["wmv", "video"],
      ["3gp", "video"],
      ["wav", "audio"],
      ["Wav", "audio"],
      ["csv", undefined],
      ["mp3", undefined],
      ["jpg~", undefined],
    ];
    const { root, cleanup } = await makeTree(
      Object.fromEntries(table.map(([ext], i) => [`f${i}.${ext}`, "x"])),
    );
    try {
      const items = await Array.fromAsync(folderSource(root));
      for (const [ext, kind] of table) {
        await t.step(`.${ext} → ${kind ?? "skipped"}`, () => {
          const location = `f${table.findIndex(([e]) => e === ext)}.${ext}`;
          const item = items.find((i) =>
            (i.type === "draft"
              ? i.draft.location
              : i.type === "skipped"
              ? i.skip.location
              : "") ===
              location
          );
          if (kind === undefined) {
            assertEquals(item, {
              type: "skipped",
              skip: { location, reason: `extension ".${ext}" is ${NOT_INPUT}` },
            });
          } else {
            assert(item?.type === "draft", `${location} should be a draft`);
            assertEquals(item.draft.kind, kind);
          }
        });
      }
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() restricts kinds with inputTypes",
  permissions: RW,
  async fn() {
    const { root, cleanup } = await makeTree(MIXED);
    try {
      assertEquals(
        (await walkLines(root, { recursive: true, inputTypes: ["image"] })).filter((l) =>
          !l.includes(HIDDEN) && !l.includes(NOT_INPUT)
        ),
        [
          "draft Z.PNG id=z image",
          "skipped a.txt: text file: inputTypes is image",
          "draft b.jpg id=b image",
          "draft cats/01.jpg id=01 image",
          "draft cats/02.Jpeg id=02 image",
          "draft cats/kittens/k1.gif id=k1 image",
          "skipped dogs/d.mp4: video file: inputTypes is image",
          "skipped dogs/s.WAV: audio file: inputTypes is image",
        ],
      );
      assertEquals(
        (await walkLines(root, { recursive: true, inputTypes: ["video", "audio"] })).filter((l) =>
          l.startsWith("draft")
        ),
        ["draft dogs/d.mp4 id=d video", "draft dogs/s.WAV id=s audio"],
      );
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() labels by folder name, the root's own name for root files",
  permissions: RW,
  async fn(t) {
    const { root, cleanup } = await makeTree({
      "top.jpg": "x",
      " cats /01.jpg": "x",
      "cats/kittens/k1.jpg": "x",
      "bad\tname/b.jpg": "x",
    });
    try {
      await t.step("labels on", async () => {
        assertEquals(await walkLines(root, { recursive: true, labels: true }), [
          "draft  cats /01.jpg id=01 image [cats]",
          'rejected bad\tname/b.jpg: cannot label by folder name "bad\\tname": concept "bad\\tname" contains control characters',
          "draft cats/kittens/k1.jpg id=k1 image [kittens]",
          "draft top.jpg id=top image [photos]",
        ]);
      });
      await t.step("labels off (default): no concepts", async () => {
        const items = await Array.fromAsync(folderSource(root, { recursive: true }));
        for (const item of items) {
          assert(item.type === "draft");
          assertEquals(item.draft.concepts, []);
        }
      });
      await t.step("datasetId is set on every draft", async () => {
        const items = await Array.fromAsync(
          folderSource(root, { recursive: true, datasetId: "pets" }),
        );
        assertEquals(items.length, 4);
        for (const item of items) {
          assert(item.type === "draft");
          assertEquals(item.draft.datasetId, "pets");
        }
      });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() derives IDs from the stem or the relative path",
  permissions: RW,
  async fn(t) {
    const { root, cleanup } = await makeTree({
      "cats/Tabby 01.jpg": "x",
      "cats/a.b.c.png": "x",
      "dogs/Tabby 01.jpg": "x",
      "dogs/___.jpg": "x",
      "dogs/ü.jpg": "x",
    });
    try {
      await t.step("stem (default)", async () => {
        assertEquals(await walkLines(root, { recursive: true }), [
          "draft cats/Tabby 01.jpg id=tabby_01 image",
          "draft cats/a.b.c.png id=a_b_c image",
          "draft dogs/Tabby 01.jpg id=tabby_01 image",
          'rejected dogs/___.jpg: file name "___" gives an empty input ID: use letters or digits in it',
          'rejected dogs/ü.jpg: file name "ü" gives an empty input ID: use letters or digits in it',
        ]);
      });
      await t.step("path", async () => {
        assertEquals(await walkLines(root, { recursive: true, idFrom: "path" }), [
          "draft cats/Tabby 01.jpg id=cats_tabby_01 image",
          "draft cats/a.b.c.png id=cats_a_b_c image",
          "draft dogs/Tabby 01.jpg id=dogs_tabby_01 image",
          "draft dogs/___.jpg id=dogs image",
          "draft dogs/ü.jpg id=dogs_ image", // cleanId drops "ü" after trimming "_"
        ]);
      });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() piped through UniqueIdsStream reports ID collisions",
  permissions: RW,
  async fn(t) {
    const { root, cleanup } = await makeTree({
      "a.jpg": "x",
      "a.png": "x",
      "cats/01.jpg": "x",
      "dogs/01.jpg": "x",
    });
    try {
      await t.step("stem IDs collide: a.jpg/a.png and cats/01.jpg/dogs/01.jpg", async () => {
        const items = await Array.fromAsync(
          folderSource(root, { recursive: true }).pipeThrough(new UniqueIdsStream()),
        );
        assertEquals(items.map(line), [
          "draft a.jpg id=a image",
          'rejected a.png: duplicate input ID "a": also produced by a.jpg',
          "draft cats/01.jpg id=01 image",
          'rejected dogs/01.jpg: duplicate input ID "01": also produced by cats/01.jpg',
        ]);
      });
      await t.step("path IDs keep subfolders apart, not extensions", async () => {
        const items = await Array.fromAsync(
          folderSource(root, { recursive: true, idFrom: "path" }).pipeThrough(
            new UniqueIdsStream(),
          ),
        );
        assertEquals(items.map(line), [
          "draft a.jpg id=a image",
          'rejected a.png: duplicate input ID "a": also produced by a.jpg',
          "draft cats/01.jpg id=cats_01 image",
          "draft dogs/01.jpg id=dogs_01 image",
        ]);
      });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() follows symlinks, ends loops and broken links as rejections",
  permissions: RW,
  async fn(t) {
    const { root, cleanup } = await makeTree({
      "real/r.jpg": "12345",
      "sub/s.jpg": "x",
    });
    try {
      await Deno.symlink("real/r.jpg", `${root}/link.jpg`);
      await Deno.symlink("real", `${root}/linked`);
      await Deno.symlink("..", `${root}/sub/up`);
      await Deno.symlink("../sub", `${root}/sub/again`);
      await Deno.symlink("nowhere.jpg", `${root}/gone.jpg`);
      await Deno.symlink("me", `${root}/me`);
      await t.step("recursive: linked files and folders are walked; loops end", async () => {
        assertEquals(await walkLines(root, { recursive: true }), [
          "rejected gone.jpg: broken symlink: gone.jpg -> nowhere.jpg (the target does not exist)",
          "draft link.jpg id=link image",
          "draft linked/r.jpg id=r image",
          "rejected me: symlink loop: me -> me",
          "draft real/r.jpg id=r image",
          "rejected sub/again: symlink loop: sub/again -> sub",
          "draft sub/s.jpg id=s image",
          "rejected sub/up: symlink loop: sub/up -> .",
        ]);
      });
      await t.step("a linked file is a file: its own path, the target's size", async () => {
        const items = await Array.fromAsync(folderSource(root));
        const link = items.find((i) => i.type === "draft" && i.draft.location === "link.jpg");
        assert(link?.type === "draft");
        assertEquals(link.draft.content, { type: "file", path: `${root}/link.jpg`, size: 5 });
      });
      await t.step("recursive off: a linked folder is skipped like a folder", async () => {
        const lines = await walkLines(root);
        assert(lines.includes(`skipped linked: ${FOLDER}`), lines.join("\n"));
        assert(!lines.some((l) => l.startsWith("draft linked/")));
      });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() skips entries that are not regular files",
  permissions: { ...RW, run: ["mkfifo"] },
  async fn() {
    const { root, cleanup } = await makeTree({ "a.jpg": "x" });
    try {
      const made = await new Deno.Command("mkfifo", { args: [`${root}/pipe.jpg`] }).output();
      assert(made.success, new TextDecoder().decode(made.stderr));
      await Deno.symlink("pipe.jpg", `${root}/to-pipe.jpg`);
      // Opening a FIFO would block: the walk must tell it apart without opening it.
      assertEquals(await walkLines(root), [
        "draft a.jpg id=a image",
        "skipped pipe.jpg: not a regular file (a device, FIFO or socket)",
        "skipped to-pipe.jpg: not a regular file (a device, FIFO or socket)",
      ]);
    } finally {
      await cleanup();
    }
  },
});

/** Whether this process reads files whatever their mode (root, CAP_DAC_OVERRIDE). */
async function readsEverything(dir: string): Promise<boolean> {
  const probe = `${dir}/probe`;
  await Deno.writeTextFile(probe, "x");
  await Deno.chmod(probe, 0o000);
  try {
    (await Deno.open(probe)).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) return false;
    throw error;
  } finally {
    await Deno.remove(probe);
  }
}

Deno.test({
  name: "folderSource() rejects unreadable files and folders (chmod 000)",
  permissions: RW,
  async fn() {
    const { root, cleanup } = await makeTree({
      "ok.jpg": "x",
      "locked.jpg": "x",
      "closed/inside.jpg": "x",
    });
    try {
      await Deno.chmod(`${root}/locked.jpg`, 0o000);
      await Deno.chmod(`${root}/closed`, 0o000);
      const lines = await walkLines(root, { recursive: true });
      if (await readsEverything(dirname(root))) {
        // Running as root: chmod 000 does not stop this process, so nothing is unreadable and
        // the walk must not invent rejections. The real EACCES case is the /proc test below.
        assertEquals(lines, [
          "draft closed/inside.jpg id=inside image",
          "draft locked.jpg id=locked image",
          "draft ok.jpg id=ok image",
        ]);
      } else {
        assertEquals(lines, [
          "rejected closed: cannot read folder: permission denied",
          "rejected locked.jpg: cannot read file: permission denied",
          "draft ok.jpg id=ok image",
        ]);
      }
    } finally {
      await Deno.chmod(`${root}/closed`, 0o755);
      await cleanup();
    }
  },
});

// A file nobody may read, root included: the kernel refuses reads of this write-only sysctl.
const WRITE_ONLY = "/proc/sys/vm/drop_caches";
function writeOnlyMissing(): boolean {
  if (Deno.build.os !== "linux") return true;
  try {
    return !Deno.statSync(WRITE_ONLY).isFile;
  } catch (error) {
    // Without -A, Deno refuses even to stat /proc/sys files: they are there all the same.
    return !(error instanceof Deno.errors.NotCapable);
  }
}

/** Whether the test run has every permission (`-A`), which Deno asks for to open /proc/sys. */
const ALL_PERMISSIONS = (["read", "write", "net", "env", "run", "ffi", "sys"] as const).every(
  (name) => Deno.permissions.querySync({ name }).state === "granted",
);

Deno.test({
  name: "folderSource() rejects a file the kernel will not let anyone read (even root)",
  permissions: "inherit",
  ignore: writeOnlyMissing() || !ALL_PERMISSIONS,
  async fn() {
    const { root, cleanup } = await makeTree({ "ok.txt": "x" });
    try {
      await Deno.symlink(WRITE_ONLY, `${root}/sysctl.txt`);
      assertEquals(await walkLines(root), [
        "draft ok.txt id=ok text",
        "rejected sysctl.txt: cannot read file: permission denied",
      ]);
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() with read permission only: Deno's sandbox refusal is a rejection",
  permissions: RW,
  ignore: writeOnlyMissing(),
  async fn() {
    const { root, cleanup } = await makeTree({});
    try {
      await Deno.symlink(WRITE_ONLY, `${root}/sysctl.txt`);
      assertEquals(await walkLines(root), [
        "rejected sysctl.txt: cannot read file: not allowed by Deno's permissions (--allow-read)",
      ]);
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() walks lazily: a folder is listed only when the walk reaches it",
  permissions: RW,
  async fn() {
    const { root, cleanup } = await makeTree({ "a/1.txt": "x", "b/": "" });
    try {
      const reader = folderSource(root, { recursive: true }).getReader();
      const first = await reader.read();
      assert(first.value?.type === "draft");
      assertEquals(first.value.draft.location, "a/1.txt");
      await Deno.writeTextFile(`${root}/b/2.txt`, "late");
      const rest: string[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest.push(line(value));
      }
      assertEquals(rest, ["draft b/2.txt id=2 text"]);
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "folderSource() can be cancelled mid-walk without leaking resources",
  permissions: RW,
  async fn(t) {
    const files: Record<string, string> = {};
    for (const dir of ["a", "a/b", "a/b/c", "d"]) {
      for (let i = 0; i < 20; i++) files[`${dir}/${i}.jpg`] = "x";
    }
    const { root, cleanup } = await makeTree(files);
    try {
      for (const sort of [true, false]) {
        await t.step(`after some reads (sort ${sort})`, async () => {
          const reader = folderSource(root, { recursive: true, sort }).getReader();
          for (let i = 0; i < 30; i++) assert(!(await reader.read()).done);
          await reader.cancel("enough");
          assertEquals(await reader.read(), { done: true, value: undefined });
        });
        await t.step(`while a read is pending (sort ${sort})`, async () => {
          const reader = folderSource(root, { recursive: true, sort }).getReader();
          await reader.read();
          const pending = reader.read();
          await reader.cancel();
          const result = await pending;
          assert(result.done || result.value !== undefined);
        });
        await t.step(`through a pipe with an abort signal (sort ${sort})`, async () => {
          const controller = new AbortController();
          let seen = 0;
          await assertRejects(
            () =>
              folderSource(root, { recursive: true, sort }).pipeTo(
                new WritableStream({
                  write() {
                    if (++seen === 5) controller.abort(new Error("stop"));
                  },
                }),
                { signal: controller.signal },
              ),
            Error,
            "stop",
          );
          assert(seen >= 5 && seen < 80, `${seen} items written`);
        });
      }
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "countFolder() counts the candidate files and bytes of the same walk",
  permissions: RW,
  async fn(t) {
    const { root, cleanup } = await makeTree({ ...MIXED, "___.jpg": "666666" });
    try {
      const cases: [string, FolderSourceOptions, number, number][] = [
        // Z.PNG 1 + a.txt 5 + b.jpg 2 + ___.jpg 6 (rejected later for its ID, still a candidate)
        ["root only", {}, 4, 14],
        ["recursive", { recursive: true }, 9, 14 + 1 + 2 + 3 + 4 + 5],
        ["recursive images", { recursive: true, inputTypes: ["image"] }, 6, 15],
      ];
      for (const [name, options, files, bytes] of cases) {
        await t.step(name, async () => {
          assertEquals(await countFolder(root, options), { files, bytes });
          const items = await Array.fromAsync(folderSource(root, options));
          assertEquals(items.filter((i) => i.type !== "skipped").length, files);
          const drafted = items.reduce(
            (sum, i) =>
              sum +
              (i.type === "draft" && i.draft.content.type === "file"
                ? i.draft.content.size ?? 0
                : 0),
            0,
          );
          assertEquals(drafted, bytes - 6);
        });
      }
    } finally {
      await cleanup();
    }
  },
});
