/**
 * README.md, server/README.md and server/local/README.md, run as a user reads them: every `sh`
 * block in order, in one shell per document, in a fresh copy of the repository, against the
 * embedded local API and the services the documents start. A block that fails (a command's
 * exit status, an HTTP error from curl, a `fatal` upload summary) fails the test, named by its
 * file and line.
 *
 * An HTML comment right before a block tells the test what it is:
 * - `<!-- readme-test: skip (why) -->`: not run (installs software, needs an account, …);
 * - `<!-- readme-test: background, ready when URL answers -->`: a server; started in the
 *   background and waited for, stopped when the document ends;
 * - `<!-- readme-test: may answer 409 … -->`: an HTTP error answer is not a failure.
 *
 * The ports 8710 and 8720 of the documents are replaced by free ones, so that runs of the suite
 * side by side do not collide.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { dirname, join } from "node:path";
import { baseEnv } from "./_upflow.ts";

/** One fenced code block of a document. */
export interface DocBlock {
  /** The document. */
  file: string;
  /** The line of its opening fence, from 1. */
  line: number;
  /** Its info string (`sh`, `ts`, …). */
  lang: string;
  /** Its text. */
  code: string;
  /** The `readme-test:` comment right before it, if any. */
  directive?: string;
}

/** The fenced code blocks of a Markdown text, in order, each with the directive before it. */
export function extractBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  let directive: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const comment = /^<!--\s*readme-test:\s*(.*?)\s*-->\s*$/.exec(line);
    if (comment) {
      directive = comment[1];
      continue;
    }
    const fence = /^(`{3,})(\w*)\s*$/.exec(line);
    if (!fence) {
      if (line.trim() !== "" && !line.startsWith("<!--")) directive = undefined;
      continue;
    }
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j].startsWith(fence[1]); j++) body.push(lines[j]);
    blocks.push({ file, line: i + 1, lang: fence[2], code: body.join("\n"), directive });
    directive = undefined;
    i = j;
  }
  return blocks;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The shell script that runs a document's `sh` blocks in order. */
function scriptFor(blocks: DocBlock[], ports: Record<string, string>): string {
  const swap = (text: string) =>
    Object.entries(ports).reduce((t, [from, to]) => t.replaceAll(from, to), text);
  const out = [
    "set -eu",
    // An HTTP error answer fails the block (unless the document says it may happen).
    'curl() { if [ "${LAX_HTTP:-0}" = 1 ]; then command curl -sS "$@"; else command curl -sS --fail-with-body "$@"; fi; }',
    "BACKGROUND=''",
    'stop_background() { for p in $BACKGROUND; do kill -TERM -- "-$p" 2>/dev/null || true; done; for p in $BACKGROUND; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done; }',
    "trap stop_background EXIT",
  ];
  let n = 0;
  for (const block of blocks) {
    if (block.lang !== "sh" || block.directive?.startsWith("skip")) continue;
    n++;
    out.push(`echo '@@block ${block.file}:${block.line}' >&2`);
    const code = swap(block.code);
    const background = /^background, ready when (\S+) answers/.exec(block.directive ?? "");
    if (background) {
      const log = `.readme-test-background-${n}.log`;
      out.push(
        `setsid bash -c ${shellQuote(code)} > ${log} 2>&1 &`,
        'BACKGROUND="$BACKGROUND $!"',
        `for i in $(seq 1 600); do command curl -s -o /dev/null ${
          shellQuote(swap(background[1]))
        } && break; if ! kill -0 $! 2>/dev/null; then echo 'the server ended:' >&2; cat ${log} >&2; exit 1; fi; sleep 0.1; done`,
      );
      continue;
    }
    const lax = block.directive?.startsWith("may answer") ? "1" : "0";
    out.push(`LAX_HTTP=${lax}`, code, "LAX_HTTP=0");
  }
  out.push("echo '@@end' >&2");
  return out.join("\n") + "\n";
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** A fresh copy of the repository's files (what git would check out), node_modules linked. */
async function copyRepo(): Promise<string> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    stdout: "piped",
  }).output();
  assert(listed.success, "git ls-files");
  const files = new TextDecoder().decode(listed.stdout).split("\0").filter(Boolean);
  const copy = await Deno.makeTempDir({ prefix: "upflow_readme_" });
  for (const file of files) {
    try {
      await Deno.mkdir(join(copy, dirname(file)), { recursive: true });
      await Deno.copyFile(file, join(copy, file));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // deleted, not committed yet
    }
  }
  try {
    await Deno.symlink(join(Deno.cwd(), "node_modules"), join(copy, "node_modules"));
  } catch {
    // No node_modules here: deno sets it up from its cache.
  }
  return copy;
}

async function runDocument(file: string): Promise<{ output: string; copy: string }> {
  const blocks = extractBlocks(await Deno.readTextFile(file), file);
  const copy = await copyRepo();
  const ports = { "8710": String(freePort()), "8720": String(freePort()) };
  await Deno.writeTextFile(join(copy, ".readme-test.sh"), scriptFor(blocks, ports));
  const env = baseEnv(copy);
  env.PATH = `${dirname(Deno.execPath())}:${env.PATH ?? "/usr/bin:/bin"}`;
  const run = await new Deno.Command("bash", {
    args: [".readme-test.sh"],
    cwd: copy,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  // Interleave nothing: stdout is the commands' answers, stderr has the block markers.
  const stdout = decoder.decode(run.stdout);
  const stderr = decoder.decode(run.stderr);
  const reached = [...stderr.matchAll(/^@@block (.*)$/gm)].at(-1)?.[1] ?? "(before the first)";
  const where = `${file}: the block at ${reached} failed\n--- stdout (tail)\n${
    stdout.slice(-4000)
  }\n--- stderr (tail)\n${stderr.slice(-4000)}`;
  assertEquals(run.code, 0, where);
  assert(stderr.includes("@@end"), where);
  assert(!stdout.includes('"fatal":'), `${file}: an upload ended fatal\n${where}`);
  return { output: `${stdout}\n${stderr}`, copy };
}

const PERMISSIONS = { read: true, write: true, run: true, env: true, net: true } as const;
const hasTools = ["bash", "curl", "setsid", "openssl", "git"].every((tool) => {
  try {
    return new Deno.Command("which", { args: [tool], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
});
if (!hasTools) console.log("readme blocks: skipped (needs bash, curl, setsid, openssl and git)");

Deno.test("extractBlocks: fences, info strings and the directive right before", () => {
  const blocks = extractBlocks(
    "text\n<!-- readme-test: skip (why) -->\n\n```sh\na\n```\nmore\n```ts\nb\nc\n```\n",
    "X.md",
  );
  assertEquals(blocks, [
    { file: "X.md", line: 4, lang: "sh", code: "a", directive: "skip (why)" },
    { file: "X.md", line: 8, lang: "ts", code: "b\nc", directive: undefined },
  ]);
});

Deno.test({
  name: "README.md: every sh block runs in order on a fresh copy; its library snippet fails loudly",
  ignore: !hasTools,
  permissions: PERMISSIONS,
  async fn() {
    const { output, copy } = await runDocument("README.md");
    try {
      assertStringIncludes(output, "the embedded local API");
      // The service example sends rows the CLI steps did not: none is a duplicate.
      assert(!output.includes("INPUT_DUPLICATE"), output.slice(-3000));
      assertStringIncludes(output, "done: uploaded 12 inputs");
      assertStringIncludes(output, '"summary":{"runId"');
      assert(
        /"type":"done","summary":\{[^}]*"uploaded":3,/.test(output),
        "the service uploaded 3 rows",
      );
      const snippet = extractBlocks(await Deno.readTextFile("README.md"), "README.md")
        .find((b) => b.lang === "ts" && b.code.includes("summaryOf"));
      assert(snippet, "README has its library snippet");
      await Deno.writeTextFile(join(copy, "readme_snippet.ts"), snippet.code);
      const run = (args: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "--no-prompt", ...args, "readme_snippet.ts"],
          cwd: copy,
          env: baseEnv(copy),
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
      const denied = await run([]);
      const deniedText = new TextDecoder().decode(denied.stdout) +
        new TextDecoder().decode(denied.stderr);
      assert(!denied.success, `without permissions the snippet must fail:\n${deniedText}`);
      assertStringIncludes(deniedText, "upload stopped:");
      assert(!deniedText.includes("0 inputs would be uploaded"), deniedText);
      const allowed = await run(["--allow-read", "--allow-env"]);
      assertStringIncludes(new TextDecoder().decode(allowed.stdout), "12 inputs would be uploaded");
    } finally {
      await Deno.remove(copy, { recursive: true });
    }
  },
});

Deno.test({
  name: "server/README.md: every sh block runs in order against a started service",
  ignore: !hasTools,
  permissions: PERMISSIONS,
  async fn() {
    const { output, copy } = await runDocument("server/README.md");
    try {
      assert(!output.includes("INPUT_DUPLICATE"), output.slice(-3000));
      assertStringIncludes(output, '"type":"done"');
    } finally {
      await Deno.remove(copy, { recursive: true });
    }
  },
});

Deno.test({
  name: "server/local/README.md: every sh block runs in order against a started local API",
  ignore: !hasTools,
  permissions: PERMISSIONS,
  async fn() {
    const { output, copy } = await runDocument("server/local/README.md");
    try {
      assertStringIncludes(output, '"code":10000');
    } finally {
      await Deno.remove(copy, { recursive: true });
    }
  },
});
