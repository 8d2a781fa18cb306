import { SpillMap } from "../../src/journal/spill_map.ts";
import { assert, assertEquals, assertThrows } from "@std/assert";

Deno.test("SpillMap answers the same before and after it moves to disk", {
  permissions: { read: true, write: true },
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const map = new SpillMap({ spillAt: 100, dir, batch: 7 });
    for (let i = 0; i < 1000; i++) {
      assertEquals(map.setIfAbsent(`id-${(i * 7919) % 1000}`, `loc ${i}`), undefined);
      if (i === 100) assert(map.onDisk);
    }
    assertEquals(map.size, 1000);
    assertEquals(map.setIfAbsent("id-0", "later"), "loc 0");
    assertEquals(map.get(`id-${(5 * 7919) % 1000}`), "loc 5");
    assertEquals(map.get("absent"), undefined);
    assertEquals([...Deno.readDirSync(dir)].length, 1);
    map.close();
    assertEquals([...Deno.readDirSync(dir)].length, 0, "the temporary file is removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SpillMap stays in memory where it cannot write", {
  permissions: { read: true },
}, () => {
  const map = new SpillMap({ spillAt: 2 });
  for (const id of ["a", "b", "c", "d"]) map.setIfAbsent(id, id);
  assertEquals([map.size, map.onDisk, map.get("c")], [4, false, "c"]);
  map.close();
});

Deno.test("SpillMap validates its options", () => {
  assertThrows(() => new SpillMap({ spillAt: -1 }), RangeError, "spillAt");
  assertThrows(() => new SpillMap({ batch: 0 }), RangeError, "batch");
});
