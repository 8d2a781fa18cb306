/**
 * The package as a user meets it: what a first run downloads (deno.lock holds only what upflow
 * runs on; tests, benchmarks and code generation pin their packages in dev.lock).
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);

/** What upflow runs on: the root import map's npm packages, nothing else. */
const RUNTIME = [
  "@bufbuild/protobuf",
  "@connectrpc/connect",
  "@connectrpc/connect-node",
  "@connectrpc/connect-web",
  "@hono/node-server",
  "hono",
];

async function readJson(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(name, ROOT)));
}

function packageName(specifier: string): string {
  const bare = specifier.replace(/^npm:/, "");
  const at = bare.indexOf("@", 1);
  return at === -1 ? bare : bare.slice(0, at);
}

Deno.test("the root import map holds runtime packages only (and the local assert module)", async () => {
  const config = await readJson("deno.json");
  const imports = config.imports as Record<string, string>;
  const npm = Object.entries(imports).filter(([, target]) => target.startsWith("npm:"));
  assertEquals(npm.map(([name]) => name).sort(), [...RUNTIME].sort());
  const others = Object.entries(imports).filter(([, target]) => !target.startsWith("npm:"));
  // Doc examples assert with "@std/assert", a local file: nothing to download.
  assertEquals(others, [["@std/assert", "./tests/_std/assert.ts"]]);
  assertEquals(config.nodeModulesDir, undefined, "no node_modules: packages stay in DENO_DIR");
});

Deno.test("deno.lock pins what upflow runs on and nothing else", async () => {
  // Deno fetches every package deno.lock names on a first run, so a test or benchmark package
  // here would be downloaded by every new user. Tests and benchmarks run with --lock=dev.lock
  // (deno task test, bench, gen do): after `deno test tests/x_test.ts` without it, restore
  // deno.lock with `git checkout deno.lock`.
  const lock = await readJson("deno.lock");
  const specifiers = Object.keys(lock.specifiers as Record<string, string>);
  assertEquals(specifiers.map(packageName).sort(), [...RUNTIME].sort(), "deno.lock specifiers");
});

Deno.test("what upflow ships imports packages through the import map only", async () => {
  // Tests and benchmarks pin their own packages inline (`npm:pkg@x.y.z`, so lint allows the
  // prefix); the package's own code names runtime packages by their import-map names.
  const inline: string[] = [];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory && entry.name !== "gen") await walk(url);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        for (
          const match of text.matchAll(/^\s*(?:import|export)[^;]*?["'](npm|jsr):[^"']+["']/gm)
        ) {
          inline.push(`${url.pathname.slice(ROOT.pathname.length)}: ${match[0].trim()}`);
        }
      }
    }
  };
  await walk(new URL("src/", ROOT));
  await walk(new URL("server/", ROOT));
  for (const entry of Deno.readDirSync(ROOT)) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      const text = await Deno.readTextFile(new URL(entry.name, ROOT));
      if (/["'](npm|jsr):/.test(text)) inline.push(entry.name);
    }
  }
  assertEquals(inline, []);
});

/** The modules an entry point loads: local paths relative to the repository, and the others. */
async function moduleGraph(entry: string): Promise<{ local: string[]; other: string[] }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--lock=dev.lock", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.success, true, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  const root = ROOT.href;
  const local = info.modules.map((m) => m.specifier).filter((s) => s.startsWith(root))
    .map((s) => s.slice(root.length));
  const other = info.modules.map((m) => m.specifier).filter((s) => !s.startsWith(root));
  return { local, other };
}

Deno.test("the library entry loads no server, no local API and no Hono", async () => {
  const { local, other } = await moduleGraph("mod.ts");
  assertEquals(local.filter((path) => path.startsWith("server/")), []);
  assertEquals(local.filter((path) => path.startsWith("src/cli/")), []);
  assertEquals(other.filter((specifier) => /hono|node:http2?$/.test(specifier)), []);
});

Deno.test("deno.json exports the four entry points, each a file that exists", async () => {
  const config = await readJson("deno.json");
  assertEquals(config.exports, {
    ".": "./mod.ts",
    "./cli": "./cli.ts",
    "./server": "./server.ts",
    "./local": "./local.ts",
  });
  for (const path of Object.values(config.exports as Record<string, string>)) {
    assertEquals((await Deno.stat(new URL(path, ROOT))).isFile, true, path);
  }
});

Deno.test("the entry points name their exports (no export *)", async () => {
  for (const entry of ["mod.ts", "cli.ts", "server.ts", "local.ts"]) {
    const text = await Deno.readTextFile(new URL(entry, ROOT));
    assertEquals(/export \*/.test(text), false, entry);
  }
});
