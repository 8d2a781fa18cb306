/**
 * `deno install` gives a working `upflow` command: the install the README shows, into a
 * temporary root, from the packages already cached (no network).
 */
import { assertEquals } from "@std/assert";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION } from "../src/version.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.env !== undefined,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("deno install -g gives an upflow command that prints its version", async () => {
  const root = await Deno.makeTempDir({ prefix: "upflow_install_" });
  const elsewhere = await Deno.makeTempDir({ prefix: "upflow_cwd_" });
  try {
    // The README's command, run from the clone, with --root and --cached-only added.
    const install = await run(Deno.execPath(), [
      "install",
      "-g",
      "-A",
      "-n",
      "upflow",
      "--root",
      root,
      "--cached-only",
      "-c",
      "deno.json",
      "./cli.ts",
    ], { cwd: ROOT });
    assertEquals(install.code, 0, install.stderr);
    // The shim calls `deno` by name: the one running this test comes first on PATH. It runs
    // from another folder, with a clean environment (no INIT_CWD of `deno task`), as an
    // installed command does.
    const env: Record<string, string> = {
      PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
    };
    for (const name of ["HOME", "DENO_DIR"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    const version = await run(join(root, "bin", "upflow"), ["--version"], {
      cwd: elsewhere,
      env,
    });
    assertEquals(version, { code: 0, stdout: `upflow ${VERSION}\n`, stderr: "" });
    const help = await run(join(root, "bin", "upflow"), ["--help"], {
      cwd: elsewhere,
      env,
    });
    assertEquals(help.code, 0, help.stderr);
    assertEquals(help.stdout.startsWith("upflow: upload folders and CSV files"), true, help.stdout);
    // Installed, the help names the command as it is typed.
    assertEquals(help.stdout.includes("Usage: upflow <command>"), true, help.stdout);
    assertEquals(help.stdout.includes("deno task"), false, help.stdout);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});
