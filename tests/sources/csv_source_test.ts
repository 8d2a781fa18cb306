import { createHash } from "node:crypto";
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { csvSource, type CsvSourceOptions } from "../../src/sources/csv_source.ts";
import type { DraftOrRejection } from "../../src/inputs/input_draft.ts";

const encoder = new TextEncoder();

function bytes(text: string): ReadableStream<Uint8Array> {
  // Several chunks, cut inside multi-byte characters, as a network body would arrive.
  const data = encoder.encode(text);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += 7) chunks.push(data.slice(i, i + 7));
  return ReadableStream.from(chunks);
}

function fromText(text: string, options: CsvSourceOptions = {}): Promise<DraftOrRejection[]> {
  return Array.fromAsync(csvSource(bytes(text), { name: "data.csv", ...options }));
}

function rejection(location: string, reason: string, id?: string): DraftOrRejection {
  return {
    type: "rejected",
    rejection: id === undefined ? { location, reason } : { location, reason, id },
  };
}

function hashId(prefix: string, text: string): string {
  return prefix + createHash("sha256").update(text).digest("hex").slice(0, 20);
}

Deno.test("csvSource reads each column of raw text rows", { permissions: {} }, async (t) => {
  await t.step("all columns", async () => {
    const items = await fromText(
      [
        " InputID , INPUT ,Concepts,metadata,GeoPoints",
        `r-1,"Hello, ""world""\nagain"," cat, dog ,cat","{'source': 'web', 'who': ""O'Brien""}","-73.98, 40.75"`,
        "r-2,plain text,,,",
      ].join("\r\n"),
      { datasetId: "reviews" },
    );
    assertEquals(items, [
      {
        type: "draft",
        draft: {
          id: "r-1",
          kind: "text",
          content: { type: "raw", text: 'Hello, "world"\nagain' },
          location: "data.csv:2",
          concepts: ["cat", "dog"],
          metadata: { source: "web", who: "O'Brien" },
          geo: { longitude: -73.98, latitude: 40.75 },
          datasetId: "reviews",
        },
      },
      {
        type: "draft",
        draft: {
          id: "r-2",
          kind: "text",
          content: { type: "raw", text: "plain text" },
          location: "data.csv:4",
          concepts: [],
          datasetId: "reviews",
        },
      },
    ]);
  });

  await t.step("IDs from content hashes when inputid is missing or empty", async () => {
    const items = await fromText("inputid,input,concepts\n,some text,a\n", {});
    assertEquals(items.length, 1);
    assert(items[0].type === "draft");
    assertEquals(items[0].draft.id, hashId("t-", "some text"));
    const again = await fromText("input,concepts\nsome text,a\n");
    assert(again[0].type === "draft");
    assertEquals(again[0].draft.id, items[0].draft.id);
  });

  await t.step("labels off: no concepts column needed, a present one ignored", async () => {
    const items = await fromText("input,concepts\nhi,cat\n", { labels: false });
    assert(items[0].type === "draft");
    assertEquals(items[0].draft.concepts, []);
    const bare = await fromText("input\nhi\n", { labels: false });
    assertEquals(bare.length, 1);
    assertEquals(bare[0].type, "draft");
  });

  await t.step("a BOM and a missing final newline", async () => {
    const items = await fromText("\uFEFFinput,concepts\nhi,a");
    assertEquals(items.length, 1);
    assert(items[0].type === "draft");
    assertEquals(items[0].draft.location, "data.csv:2");
  });
});

Deno.test("csvSource reads URL rows", { permissions: {} }, async () => {
  const items = await fromText(
    [
      "input,concepts",
      " https://example.com/a.jpg ,cat",
      "ftp://example.com/b.jpg,cat",
      "not a url,cat",
      ",cat",
    ].join("\n"),
    { inputType: "image" },
  );
  assertEquals(items, [
    {
      type: "draft",
      draft: {
        id: hashId("u-", "https://example.com/a.jpg"),
        kind: "image",
        content: { type: "url", url: "https://example.com/a.jpg" },
        location: "data.csv:2",
        concepts: ["cat"],
      },
    },
    rejection("data.csv:3", 'input: URL "ftp://example.com/b.jpg" must use http or https'),
    rejection("data.csv:4", 'input: "not a url" is not an absolute URL'),
    rejection("data.csv:5", "input: the URL is empty"),
  ]);
});

Deno.test("csvSource rejects bad rows with their location", { permissions: {} }, async (t) => {
  const header = "inputid,input,concepts,metadata,geopoints";
  const cases: { name: string; row: string; reason: string; id?: string }[] = [
    {
      name: "too few fields",
      row: "a,text,cat",
      reason: "the row has 3 fields but the header has 5",
    },
    {
      name: "too many fields",
      row: "a,text,cat,,,x",
      reason: "the row has 6 fields but the header has 5",
    },
    {
      name: "invalid inputid",
      row: "bad id,text,cat,,",
      reason: 'inputid: invalid input ID "bad id": use letters, digits, "_" and "-", ' +
        "starting with a letter or digit",
    },
    {
      name: "control character in a concept",
      row: 'a,text,"cat,\u0007bell",,',
      reason: 'concepts: concept "\\u0007bell" contains control characters',
      id: "a",
    },
    {
      name: "malformed metadata",
      row: `a,text,cat,"{'source' 'web'}",`,
      reason: "metadata: Syntax error at column 11: expected ':' after key",
      id: "a",
    },
    {
      name: "metadata that is not an object",
      row: `a,text,cat,"[1, 2]",`,
      reason: "metadata: Syntax error at column 1: metadata must be an object",
      id: "a",
    },
    {
      name: "geopoints with one number",
      row: "a,text,cat,,40.75",
      reason: 'geopoints must be "longitude,latitude": got "40.75"',
      id: "a",
    },
    {
      name: "geopoints out of range",
      row: 'a,text,cat,,"200,10"',
      reason: "geopoints: longitude 200 is outside [-180, 180]",
      id: "a",
    },
    { name: "empty raw text", row: "a, ,cat,,", reason: "input: the text is empty", id: "a" },
  ];
  for (const { name, row, reason, id } of cases) {
    await t.step(name, async () => {
      const items = await fromText(`${header}\n\n${row}\n`);
      assertEquals(items.length, 1);
      assertEquals(items[0].type, "rejected");
      if (items[0].type !== "rejected") return;
      assertEquals(items[0].rejection.location, "data.csv:3");
      assert(
        items[0].rejection.reason.startsWith(reason),
        `${items[0].rejection.reason} should start with ${reason}`,
      );
      assertEquals(items[0].rejection.id, id);
    });
  }
  await t.step("a bad row does not stop the rows after it", async () => {
    const items = await fromText(`input,concepts\nok,a\n"x",a,extra\nfine,b\n`);
    assertEquals(items.map((item) => item.type), ["draft", "rejected", "draft"]);
  });
});

Deno.test("csvSource errors the stream on a bad header", { permissions: {} }, async (t) => {
  const cases: { name: string; text: string; options?: CsvSourceOptions; message: string }[] = [
    {
      name: "unknown column",
      text: "input,concepts,label\nx,a,b\n",
      message: 'data.csv:1: unknown column "label" in the header: allowed are ' +
        "inputid, input, concepts, metadata, geopoints",
    },
    {
      name: "no input column",
      text: "inputid,concepts\nx,a\n",
      message: 'data.csv:1: the header has no "input" column',
    },
    {
      name: "duplicate column",
      text: "\n\ninput,Input,concepts\n",
      message: 'data.csv:3: column "input" appears twice in the header',
    },
    {
      name: "labels on without a concepts column",
      text: "input\nx\n",
      message: 'data.csv:1: labels are on but the header has no "concepts" column',
    },
    { name: "empty file", text: "", message: "data.csv: the CSV is empty" },
  ];
  for (const { name, text, options, message } of cases) {
    await t.step(name, async () => {
      await assertRejects(() => fromText(text, options), Error, message);
    });
  }
});

Deno.test("csvSource reads stray quotes as Python does and goes on after an unclosed one", {
  permissions: {},
}, async (t) => {
  await t.step("a quote inside an unquoted field is kept", async () => {
    const items = await fromText('inputid,input,concepts\na1,Great 12" pizza,food\n');
    assertEquals(items, [{
      type: "draft",
      draft: {
        id: "a1",
        kind: "text",
        content: { type: "raw", text: 'Great 12" pizza' },
        location: "data.csv:2",
        concepts: ["food"],
      },
    }]);
  });
  await t.step("an unclosed quote rejects its row; the lines after it are read", async () => {
    const items = await fromText('input,concepts\nok,a\n"never closed,a\nnext,b\n');
    assertEquals(items.map((item) => item.type === "draft" ? item.draft.location : item), [
      "data.csv:2",
      rejection(
        "data.csv:3",
        "unterminated quoted field: the quote opened on line 3, column 1 is never closed " +
          "(the lines after it are read as records)",
      ),
      "data.csv:4",
    ]);
  });
  await t.step("an unclosed quote in the header stops the run", async () => {
    await assertRejects(
      () => fromText('input,"concepts\nok,a\n'),
      SyntaxError,
      "data.csv:1: the header: unterminated quoted field: the quote opened on line 1, column 7",
    );
  });
});

Deno.test("csvSource errors the stream on undecodable text", { permissions: {} }, async (t) => {
  await t.step("invalid UTF-8", async () => {
    const body = ReadableStream.from([encoder.encode("input,concepts\n"), new Uint8Array([0xff])]);
    await assertRejects(
      () => Array.fromAsync(csvSource(body, { name: "x.csv" })),
      TypeError,
      "x.csv: the file is not valid UTF-8 text",
    );
  });
});

Deno.test("csvSource validates options", { permissions: {} }, async (t) => {
  const cases: { name: string; options: CsvSourceOptions; error: typeof Error; message: string }[] =
    [
      {
        name: "raw with images",
        options: { inputType: "image", csvType: "raw" },
        error: RangeError,
        message: 'Cannot create csvSource: csvType "raw" holds text, so inputType must be "text"',
      },
      {
        name: "unknown input type",
        options: { inputType: "pdf" as "text" },
        error: RangeError,
        message: "Cannot create csvSource: inputType must be one of image, video, audio, text",
      },
      {
        name: "unknown csv type",
        options: { csvType: "path" as "url" },
        error: RangeError,
        message: 'Cannot create csvSource: csvType must be "url", "file_path" or "raw"',
      },
      {
        name: "bad dataset ID",
        options: { datasetId: "a b" },
        error: RangeError,
        message: 'Cannot create csvSource: invalid dataset ID "a b"',
      },
      {
        name: "labels not a boolean",
        options: { labels: "yes" as unknown as boolean },
        error: TypeError,
        message: "Cannot create csvSource: labels must be a boolean",
      },
      {
        name: "file paths of a stream without a folder",
        options: { inputType: "image", csvType: "file_path" },
        error: TypeError,
        message: "give baseDir or root",
      },
    ];
  for (const { name, options, error, message } of cases) {
    await t.step(name, () => {
      assertThrows(() => csvSource(bytes("input\n"), options), error, message);
    });
  }
});

Deno.test("csvSource reads file_path rows inside the root", {
  permissions: { read: true, write: true },
}, async (t) => {
  const tmp = await Deno.realPath(await Deno.makeTempDir());
  try {
    const dir = `${tmp}/set`;
    await Deno.mkdir(`${dir}/images/sub`, { recursive: true });
    await Deno.writeFile(`${dir}/images/Cat 01.jpg`, new Uint8Array(5));
    await Deno.writeFile(`${dir}/images/sub/dog.v2.png`, new Uint8Array(7));
    await Deno.writeFile(`${dir}/...jpg`, new Uint8Array(1));
    await Deno.writeFile(`${tmp}/outside.jpg`, new Uint8Array(3));
    await Deno.symlink(`${tmp}/outside.jpg`, `${dir}/images/escape.jpg`);
    await Deno.symlink(`${dir}/images/Cat 01.jpg`, `${dir}/images/inside-link.jpg`);
    const csv = [
      "input,concepts,inputid",
      "images/Cat 01.jpg,cat,", // 2
      "./images/sub/dog.v2.png,dog,", // 3
      "images/x.jpg,cat,", // 4
      "../outside.jpg,cat,", // 5
      `${tmp}/outside.jpg,cat,`, // 6
      `${dir}/images/Cat 01.jpg,cat,abs-ok`, // 7
      "images/escape.jpg,cat,", // 8
      "images/inside-link.jpg,cat,link", // 9
      "images,cat,", // 10
      "images/../../set/images/Cat 01.jpg,cat,roundabout", // 11
      " ,cat,", // 12
      "...jpg,cat,", // 13
    ].join("\n");
    await Deno.writeTextFile(`${dir}/data.csv`, csv);
    const options: CsvSourceOptions = { inputType: "image", csvType: "file_path" };
    const items = await Array.fromAsync(
      csvSource(`${dir}/data.csv`, { ...options, name: "data.csv" }),
    );
    const at = (line: number) =>
      items.find((item) =>
        (item.type === "draft"
          ? item.draft.location
          : item.type === "rejected"
          ? item.rejection.location
          : "") === `data.csv:${line}`
      );
    const file = (line: number) => {
      const item = at(line);
      assert(item?.type === "draft", `line ${line}: ${JSON.stringify(item)}`);
      return item.draft;
    };
    const reason = (line: number) => {
      const item = at(line);
      assert(item?.type === "rejected", `line ${line}: ${JSON.stringify(item)}`);
      return item.rejection.reason;
    };
    await t.step("relative paths give real paths, sizes and path IDs", () => {
      assertEquals(file(2).content, { type: "file", path: `${dir}/images/Cat 01.jpg`, size: 5 });
      assertEquals(file(2).id, "images_cat_01");
      assertEquals(file(2).kind, "image");
      assertEquals(file(3).content, {
        type: "file",
        path: `${dir}/images/sub/dog.v2.png`,
        size: 7,
      });
      assertEquals(file(3).id, "images_sub_dog_v2");
    });
    await t.step("a missing file", () => assertEquals(reason(4), "file not found: images/x.jpg"));
    await t.step("escapes out of the root", () => {
      assertEquals(reason(5), 'file path "../outside.jpg" is outside the root folder');
      assertEquals(reason(6), `file path "${tmp}/outside.jpg" is outside the root folder`);
      assertEquals(
        reason(8),
        'file path "images/escape.jpg" leads outside the root folder through a symlink',
      );
    });
    await t.step("absolute paths and symlinks inside the root", () => {
      assertEquals(file(7).content, { type: "file", path: `${dir}/images/Cat 01.jpg`, size: 5 });
      assertEquals(file(9).content, { type: "file", path: `${dir}/images/Cat 01.jpg`, size: 5 });
      assertEquals(file(11).id, "roundabout");
    });
    await t.step("a folder, an empty path, a path with no usable ID", () => {
      assertEquals(reason(10), "not a file: images");
      assertEquals(reason(12), "input: the file path is empty");
      assertEquals(
        reason(13),
        'cannot derive an input ID from the path "...jpg": add an inputid column',
      );
    });
    await t.step("a root above the CSV's folder lets ../ paths in", async () => {
      const wide = await Array.fromAsync(
        csvSource(`${dir}/data.csv`, { ...options, root: tmp, name: "d.csv" }),
      );
      const five = wide.find((item) => item.type === "draft" && item.draft.location === "d.csv:5");
      assert(five?.type === "draft");
      assertEquals(five.draft.content, { type: "file", path: `${tmp}/outside.jpg`, size: 3 });
      assertEquals(five.draft.id, "outside");
    });
    await t.step("a stream of file_path rows resolves against baseDir", async () => {
      const items = await Array.fromAsync(
        csvSource(bytes("input,concepts\nimages/Cat 01.jpg,cat\n../outside.jpg,cat\n"), {
          ...options,
          baseDir: dir,
          name: "body.csv",
        }),
      );
      assertEquals(items[0].type, "draft");
      assertEquals(
        items[1],
        rejection("body.csv:3", 'file path "../outside.jpg" is outside the root folder'),
      );
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("csvSource names locations relative to the current directory", {
  permissions: { read: true, write: true },
}, async () => {
  const dir = await Deno.makeTempDir({ dir: Deno.cwd(), prefix: ".csv_source_test_" });
  try {
    await Deno.writeTextFile(`${dir}/d.csv`, "input,concepts\nhello,a\n");
    const relative = dir.slice(Deno.cwd().length + 1);
    for (const path of [`${dir}/d.csv`, `./${relative}/d.csv`]) {
      const [item] = await Array.fromAsync(csvSource(path));
      assert(item.type === "draft");
      assertEquals(item.draft.location, `${relative}/d.csv:2`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// sanitizeResources (off by default in Deno 2) fails a test that leaves the CSV file open.
Deno.test("csvSource opens nothing before the first read and closes the file on cancel", {
  permissions: { read: true, write: true },
  sanitizeResources: true,
  sanitizeOps: true,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = ["input,concepts"];
    for (let i = 0; i < 20_000; i++) lines.push(`text number ${i},a`);
    await Deno.writeTextFile(`${dir}/big.csv`, lines.join("\n"));
    // Nothing is opened at construction: a missing file fails on the first read only.
    const missing = csvSource(`${dir}/missing.csv`);
    await assertRejects(() => missing.getReader().read(), Deno.errors.NotFound);
    const reader = csvSource(`${dir}/big.csv`).getReader();
    const first = await reader.read();
    assert(first.value?.type === "draft");
    await reader.cancel();
    const all = await Array.fromAsync(csvSource(`${dir}/big.csv`));
    assertEquals(all.length, 20_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csvSource closes the file when the header or the syntax is bad", {
  permissions: { read: true, write: true },
  sanitizeResources: true,
  sanitizeOps: true,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Large enough that the file is not read to its end (and closed) by read-ahead alone.
    const body = "x,y\n".repeat(500_000);
    await Deno.writeTextFile(`${dir}/bad.csv`, "input,nope\n" + body);
    await Deno.writeTextFile(`${dir}/broken.csv`, 'input,"concepts\n' + body);
    await assertRejects(
      () => Array.fromAsync(csvSource(`${dir}/bad.csv`, { name: "bad.csv" })),
      Error,
      'bad.csv:1: unknown column "nope"',
    );
    await assertRejects(
      () => Array.fromAsync(csvSource(`${dir}/broken.csv`, { name: "broken.csv" })),
      SyntaxError,
      "broken.csv:1: the header: unterminated quoted field",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
