/**
 * The `upflow local` command: argument parsing, usage errors, start, print, stop.
 */
import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { parseLocalArgs, runLocalCommand } from "../../../server/local/main.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";

Deno.test("parseLocalArgs: defaults and bad values", async (t) => {
  await t.step("defaults", () => {
    const options = parseLocalArgs([]);
    assertEquals(
      [options.port, options.dataDir, options.key, options.faults],
      [8710, ".upflow/local", "dev-key", ""],
    );
  });
  const bad: [string, string[]][] = [
    ["unknown option", ["--nope"]],
    ["port not a number", ["--port", "abc"]],
    ["port too large", ["--port", "70000"]],
    ["bad faults", ["--faults", "slow=1"]],
    ["bad delay", ["--processing-delay-ms", "-1"]],
  ];
  for (const [name, args] of bad) {
    await t.step(name, () => {
      assertThrows(() => parseLocalArgs(args));
    });
  }
});

Deno.test("runLocalCommand: bad usage exits 2, --help exits 0", async () => {
  const errors: string[] = [];
  assertEquals(await runLocalCommand(["--port", "x"], { printError: (l) => errors.push(l) }), 2);
  assertStringIncludes(errors.join("\n"), "--port must be an integer");
  const out: string[] = [];
  assertEquals(await runLocalCommand(["--help"], { print: (l) => out.push(l) }), 0);
  assertStringIncludes(out.join("\n"), "Usage: upflow local");
});

Deno.test({
  name: "runLocalCommand: starts, prints the variables, serves, stops on abort",
  permissions: { net: ["127.0.0.1"], read: true, env: true },
  async fn() {
    const lines: string[] = [];
    const stop = new AbortController();
    const code = await runLocalCommand(
      ["--port", "0", "--data", ":memory:", "--key", "k1", "--user", "u", "--app", "a"],
      {
        print: (line) => lines.push(line),
        signal: stop.signal,
        onListening: async (api) => {
          const res = await fetch(`${api.baseUrl}/v2/users/u/apps/a/inputs/status`, {
            headers: { authorization: "Key k1" },
          });
          assertEquals((await res.json()).status.code, StatusCode.SUCCESS);
          stop.abort();
        },
      },
    );
    assertEquals(code, 0);
    const text = lines.join("\n");
    assertStringIncludes(text, "export CLARIFAI_PAT=k1");
    assertStringIncludes(text, "export CLARIFAI_USER_ID=u");
    assertStringIncludes(text, "stopped");
  },
});
