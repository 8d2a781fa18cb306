// Shared helpers of the browser tests: Debian's chromium driven by puppeteer-core (test-only,
// no browser download), a folder for screenshots, and drag-and-drop of real files and folders.
// Test-only: never in the root import map.
// deno-lint-ignore no-import-prefix
import puppeteer from "npm:puppeteer-core@25.16.0";
// deno-lint-ignore no-import-prefix
import type { Browser, Page } from "npm:puppeteer-core@25.16.0";
import { join } from "node:path";

export type { Browser, Page };

/** Where the browser is: `UPFLOW_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM = Deno.env.get("UPFLOW_CHROMIUM") ?? "/usr/bin/chromium";

function found(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Whether chromium is installed; says how to install it when not. */
export const HAVE_CHROMIUM: boolean = found();
if (!HAVE_CHROMIUM) {
  console.log(
    `browser tests skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set UPFLOW_CHROMIUM)`,
  );
}

/** A headless chromium with a fresh profile; `close()` ends it and removes the profile. */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = await Deno.makeTempDir({ prefix: "upflow-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

let shots: string | undefined;

/**
 * The folder screenshots go to: `UPFLOW_SCREENSHOTS` when set, else a new temporary folder.
 * Printed once, so a person can open the pictures.
 */
export async function screenshotDir(): Promise<string> {
  if (shots) return shots;
  shots = Deno.env.get("UPFLOW_SCREENSHOTS") ??
    await Deno.makeTempDir({ prefix: "upflow-screenshots-" });
  await Deno.mkdir(shots, { recursive: true });
  console.log(`screenshots in ${shots}`);
  return shots;
}

/** Saves a full-page screenshot as `<name>.png` in {@linkcode screenshotDir}. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(await screenshotDir(), `${name}.png`);
  await page.screenshot({ path: path as `${string}.png`, fullPage: true });
  return path;
}

/** Drags files or folders from disk onto the element, as a person would from a file manager. */
export async function dropPaths(page: Page, selector: string, paths: string[]): Promise<void> {
  const box = await (await page.waitForSelector(selector))!.boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  const cdp = await page.createCDPSession();
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ["dragEnter", "dragOver", "drop"] as const) {
    await cdp.send("Input.dispatchDragEvent", { type, x, y, data });
  }
  await cdp.detach();
}
