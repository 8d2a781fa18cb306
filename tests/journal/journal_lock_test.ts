import { assert, assertEquals, assertRejects } from "@std/assert";
import { JournalInUseError, lockJournal } from "../../src/journal/journal_lock.ts";

Deno.test({
  name: "lockJournal: one holder at a time in one process; released, it can be taken again",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    const journal = `${dir}/sub/run.ndjson`;
    const lock = await lockJournal(journal, "first run");
    const error = await assertRejects(() => lockJournal(journal, "second"), JournalInUseError);
    assertEquals(error.holder?.pid, Deno.pid);
    assertEquals(error.holder?.command, "first run");
    await lock.release();
    await lock.release();
    await assertRejects(() => Deno.stat(`${journal}.lock`), Deno.errors.NotFound);
    await (await lockJournal(journal, "third")).release();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "lockJournal: a holder killed with SIGKILL leaves no lock behind",
  permissions: { read: true, write: true, run: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    const journal = `${dir}/run.ndjson`;
    const url = new URL("../../src/journal/journal_lock.ts", import.meta.url).href;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const { lockJournal } = await import(${JSON.stringify(url)});
         await lockJournal(${JSON.stringify(journal)}, "held by a child");
         console.log("locked");
         await new Promise(() => setInterval(() => {}, 1000));`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assertEquals(new TextDecoder().decode(value).trim(), "locked");
    const error = await assertRejects(() => lockJournal(journal), JournalInUseError);
    assertEquals(error.holder?.pid, child.pid);
    assert(error.message.includes(`process ${child.pid} (held by a child`), error.message);
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    // The dead holder's lock file is still there, but its lock went with it.
    await Deno.stat(`${journal}.lock`);
    const lock = await lockJournal(journal, "after the kill");
    await lock.release();
    await Deno.remove(dir, { recursive: true });
  },
});
