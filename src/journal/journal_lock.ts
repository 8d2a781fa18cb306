/**
 * One run at a time per journal: {@linkcode lockJournal} takes an operating-system lock (an
 * advisory `flock` on `<journal>.lock`) that the system drops when the holder ends, however it
 * ends, so a dead process never leaves a journal locked. The lock file names its holder, so a
 * second run can say who holds it.
 *
 * @module
 */
import { dirname } from "node:path";

/** Who holds a journal: written into the lock file by the holder. */
export interface JournalHolder {
  /** The holder's process ID. */
  pid: number;
  /** What it runs, for people (`upflow folder samples/images`, `service job 3f…`). */
  command: string;
  /** ISO time it took the lock. */
  since: string;
}

/** A journal another run holds: what a second run gets instead of the lock. */
export class JournalInUseError extends Error {
  /** The journal. */
  readonly journal: string;
  /** Who holds it, when the lock file says so. */
  readonly holder?: JournalHolder;

  /**
   * Creates the error.
   *
   * @param journal The journal's path.
   * @param holder Who holds it, when known.
   */
  constructor(journal: string, holder?: JournalHolder) {
    super(
      `The journal ${journal} is in use by ${
        holder
          ? `process ${holder.pid} (${holder.command}, since ${holder.since})`
          : "another process"
      }: one run at a time per journal. Wait for that run to end (or stop it), or give this run ` +
        "another journal",
    );
    this.name = "JournalInUseError";
    this.journal = journal;
    this.holder = holder;
  }
}

/** A held journal lock. */
export interface JournalLock {
  /** The lock file's path (`<journal>.lock`). */
  readonly path: string;
  /** Lets go of the lock and removes the lock file. Safe to call twice. */
  release(): Promise<void>;
}

async function readHolder(path: string): Promise<JournalHolder | undefined> {
  try {
    const holder = JSON.parse(await Deno.readTextFile(path));
    return typeof holder?.pid === "number" ? holder : undefined;
  } catch {
    return undefined;
  }
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.ino === null || b.ino === null || (a.ino === b.ino && a.dev === b.dev);
}

/**
 * Takes the lock of a journal, without waiting: an exclusive advisory lock on `<journal>.lock`
 * (created next to the journal, with its folder), holding the holder's PID, command and
 * start time. The operating system releases the lock when the process ends, even by SIGKILL; a
 * lock file left behind by a dead holder is taken over.
 *
 * @param journal The journal's path.
 * @param command What this run is, for the message another run would print.
 * @returns The lock; release it when the run ends.
 * @throws {JournalInUseError} At once, when another run holds the journal.
 *
 * @example One run at a time
 * ```ts
 * import { JournalInUseError, lockJournal } from "./journal_lock.ts";
 * import { assertRejects } from "@std/assert";
 *
 * const journal = `${await Deno.makeTempDir()}/run.ndjson`;
 * const lock = await lockJournal(journal, "upflow folder photos");
 * await assertRejects(() => lockJournal(journal, "a second run"), JournalInUseError, "upflow folder photos");
 * await lock.release();
 * await (await lockJournal(journal, "a third run")).release();
 * ```
 */
export async function lockJournal(journal: string, command = "upflow"): Promise<JournalLock> {
  const path = `${journal}.lock`;
  await Deno.mkdir(dirname(path), { recursive: true });
  for (let attempt = 0;; attempt++) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    let locked = false;
    try {
      locked = await file.tryLock(true);
      if (!locked) {
        file.close();
        throw new JournalInUseError(journal, await readHolder(path));
      }
      // The holder before us may have removed the file between our open and our lock: then we
      // hold a lock on a file nobody else will see. Check that the path is still our file.
      let current: Deno.FileInfo | undefined;
      try {
        current = await Deno.stat(path);
      } catch {
        current = undefined;
      }
      if (current === undefined || !sameFile(current, await file.stat())) {
        file.close();
        if (attempt >= 10) throw new JournalInUseError(journal);
        continue;
      }
      const holder: JournalHolder = {
        pid: Deno.pid,
        command,
        since: new Date().toISOString(),
      };
      await file.truncate(0);
      const bytes = new TextEncoder().encode(JSON.stringify(holder) + "\n");
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    } catch (error) {
      if (locked) file.close();
      throw error;
    }
    let released = false;
    return {
      path,
      async release() {
        if (released) return;
        released = true;
        // Remove the file while still holding it, so that nobody locks a file about to vanish.
        await Deno.remove(path).catch(() => {});
        file.close();
      },
    };
  }
}
