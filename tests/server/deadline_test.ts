// The deadline service tests run under: a hang fails fast, naming the test.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { deadlineTest, withDeadline } from "./_helpers.ts";

Deno.test("withDeadline fails a hang with its name, even when the hang ignores the signal", async () => {
  const started = performance.now();
  await assertRejects(
    () => withDeadline(50, "a stream held open", () => new Promise<never>(() => {})),
    Error,
    "a stream held open: still running after 50 ms",
  );
  // The deadline, then at most the wind-down grace (5 s), not forever.
  assert(performance.now() - started < 10_000);
});

Deno.test("withDeadline aborts the signal it gives, so fetches and bodies let go", async () => {
  let seen: unknown;
  await assertRejects(() =>
    withDeadline(
      20,
      "held",
      (signal) =>
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () => reject(seen = signal.reason))
        ),
    )
  );
  assert(seen instanceof Error);
  assertEquals(seen.message, "held: still running after 20 ms");
});

Deno.test("deadlineTest keeps the test's definition and passes its result through", async () => {
  let ran = false;
  const test = deadlineTest(1_000, {
    name: "quick",
    permissions: { read: true },
    fn: () => {
      ran = true;
    },
  });
  assertEquals([test.name, test.permissions], ["quick", { read: true }]);
  await test.fn({} as Deno.TestContext);
  assert(ran);
});
